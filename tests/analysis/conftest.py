"""A simulator of study directories with a planted effect of one feature on the gain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TARGETS = ("xnli", "pawsx", "panx")
LANGUAGES = ("de", "fr", "sw", "zh")


def simulate_profiles(n_tasks: int, rng: np.random.Generator) -> dict[str, dict]:
    """Random but plausible difficulty profiles for tasks ``task00 ...``."""
    out = {}
    for i in range(n_tasks):
        name = f"task{i:02d}"
        n_ex = int(10 ** rng.uniform(3, 5.6))
        easy, amb = rng.uniform(0.2, 0.5), rng.uniform(0.1, 0.4)
        syn, sem = rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.9)
        out[name] = {
            "task": name, "n_examples": n_ex, "n_tokens": int(n_ex * rng.uniform(15, 60)),
            "label_entropy": rng.uniform(0.5, 2.0), "baseline_loss": rng.uniform(0.2, 1.5),
            "normalized_baseline_loss": rng.uniform(0.1, 0.9),
            "v_information": rng.uniform(0.1, 1.2),
            "cartography": {"confidence_mean": rng.uniform(0.4, 0.9),
                            "variability_mean": rng.uniform(0.05, 0.3), "easy_frac": easy,
                            "ambiguous_frac": amb, "hard_frac": 1 - easy - amb},
            "probing": {"syntactic": syn, "semantic": sem,
                        "syntax_semantics_index": (syn - sem) / (syn + sem),
                        "selectivity": rng.uniform(0, 0.3), "mdl_compression": rng.uniform(1, 4)},
            "logme": rng.uniform(-1, 1), "cost_seconds": rng.uniform(10, 100),
            "extra": {"note": "free text is ignored", "flag": True, "unknown": None},
            "provenance": {"model": "tiny", "seeds": [1, 2], "versions": {"taskdiff": "0.1.0"}},
        }
    return out


def simulate_study(seed: int = 0, *, n_tasks: int = 9, targets=TARGETS, languages=LANGUAGES,
                   seeds=(1, 2, 3), effect: float = 1.0,
                   feature: str = "normalized_baseline_loss", task_sd: float = 0.1,
                   lang_sd: float = 0.2, noise_sd: float = 0.3, target_scale=None,
                   profiles: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Gains ``= scale_t * (effect * x_i + u_i + w_l + e)`` with ``x_i`` the planted feature.

    ``x_i`` is the raw feature value (a dotted name into the profile), ``u_i ~ N(0, task_sd)``
    per task, ``w_l ~ N(0, lang_sd)`` per language, ``e ~ N(0, noise_sd)`` per row.
    """
    rng = np.random.default_rng(seed)
    profiles = profiles or simulate_profiles(n_tasks, rng)
    tasks = sorted(profiles)
    x = np.array([_leaf(profiles[t], feature) for t in tasks])
    scale = target_scale or {t: 1.0 + 0.5 * k for k, t in enumerate(targets)}
    idx = pd.MultiIndex.from_product([tasks, targets, languages, seeds],
                                     names=["intermediate", "target", "language", "seed"])
    df = idx.to_frame(index=False)
    ti = df["intermediate"].map({t: i for i, t in enumerate(tasks)}).to_numpy()
    li = df["language"].map({l: i for i, l in enumerate(languages)}).to_numpy()
    u = rng.normal(0, task_sd, len(tasks))
    w = rng.normal(0, lang_sd, len(languages))
    s = df["target"].map(scale).to_numpy()
    gain = s * (effect * x[ti] + u[ti] + w[li] + rng.normal(0, noise_sd, len(df)))
    base = {(t, l): 60 + 20 * rng.random() for t in targets for l in languages}
    df["metric"] = "accuracy"
    df["baseline_score"] = [base[k] for k in zip(df["target"], df["language"])]
    df["score"] = df["baseline_score"] + gain
    df["gain"] = df["score"] - df["baseline_score"]
    cols = ["intermediate", "target", "language", "seed", "metric", "score", "baseline_score",
            "gain"]
    return df[cols], profiles


def _leaf(profile: dict, dotted: str) -> float:
    v = profile
    for part in dotted.split("."):
        v = v[part]
    return float(v)


def write_study(directory: Path, gains: pd.DataFrame, profiles: dict) -> Path:
    """Write ``gains.csv`` and ``profiles/<task>.json`` under ``directory``."""
    directory = Path(directory)
    (directory / "profiles").mkdir(parents=True, exist_ok=True)
    gains.to_csv(directory / "gains.csv", index=False)
    for task, prof in profiles.items():
        (directory / "profiles" / f"{task}.json").write_text(json.dumps(prof, indent=2))
    return directory


@pytest.fixture
def make_study(tmp_path):
    """Factory: ``make_study(name="study", **simulate_study_kwargs) -> Path``."""
    def _make(name: str = "study", **kwargs) -> Path:
        gains, profiles = simulate_study(**kwargs)
        return write_study(tmp_path / name, gains, profiles)
    return _make


@pytest.fixture(scope="session")
def effect_study(tmp_path_factory) -> Path:
    """A study with a strong planted effect of normalized_baseline_loss (12 tasks)."""
    gains, profiles = simulate_study(1, n_tasks=12, effect=2.0)
    return write_study(tmp_path_factory.mktemp("effect"), gains, profiles)


@pytest.fixture(scope="session")
def null_study(tmp_path_factory) -> Path:
    """A study where no feature is related to the gain (9 tasks)."""
    gains, profiles = simulate_study(5, n_tasks=9, effect=0.0, task_sd=0.5)
    return write_study(tmp_path_factory.mktemp("null"), gains, profiles)


@pytest.fixture(scope="session")
def sim():
    """The simulator functions, for tests that build tables in memory."""
    import types
    return types.SimpleNamespace(study=simulate_study, profiles=simulate_profiles,
                                 write=write_study)
