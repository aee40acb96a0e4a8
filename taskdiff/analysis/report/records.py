"""What the report says about how the study was run: its records, baselines and provenance.

* :func:`study_records` reads the study manifest ``study.json`` (written by ``taskdiff
  study``) when the study directory has one, else what the profiles' provenance records:
  the encoder, the training hyperparameters, ``max_examples``, seeds and languages.
* :func:`baseline_frame` is the absolute no-intermediate baseline score per target and
  language, with the chance level of the target (``100 / number of labels`` for a
  classification target scored by accuracy, read from the study's ``targets.json``:
  :func:`read_targets`; none for an older study folder without it) and a flag where the baseline is within
  ``CHANCE_MARGIN`` points of it: a gain over a baseline at chance (PAWS-X at 50.0) says
  the target model did not learn, not that the intermediate task helped.
* :func:`provenance_frame` turns each profile's provenance into readable columns instead
  of a raw, truncated dict.
"""

from __future__ import annotations

import json
from pathlib import Path

from typing import Mapping

import numpy as np
import pandas as pd

from taskdiff.schema import TARGETS_FILE

__all__ = ["CHANCE_MARGIN", "chance_level", "read_targets", "study_records", "records_sentences",
           "baseline_frame", "provenance_frame"]

#: A baseline within this many points of the chance level is flagged.
CHANCE_MARGIN = 2.0
#: Hyperparameters shown in the methods (keys of the study config's training sections).
_HPARAMS = ("learning_rate", "epochs", "batch_size", "max_steps", "warmup_ratio", "weight_decay",
            "max_length", "freeze_embeddings", "select_best", "precision")


def read_targets(directory: str | Path | None) -> dict[str, dict]:
    """``{target: {"format", "labels", "chance"}}`` from the study's ``targets.json``.

    The study writes the file next to ``gains.csv`` (:mod:`taskdiff.study.targets`; layout
    in :mod:`taskdiff.schema`). A folder without it (written before it existed, or assembled
    by hand) or an unreadable file gives ``{}``: the report then claims no chance level.
    """
    if not directory:
        return {}
    try:
        record = json.loads((Path(directory) / TARGETS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    targets = record.get("targets") if isinstance(record, dict) else None
    return {str(k): v for k, v in targets.items() if isinstance(v, dict)} if isinstance(targets, dict) else {}


def chance_level(target: str, metric: str, targets: Mapping[str, dict] | None = None) -> float | None:
    """Expected accuracy (percent) of a uniform random guess, or None when not defined.

    Defined for a target scored by accuracy whose entry in ``targets`` (:func:`read_targets`)
    has a chance level: ``100 / len(labels)`` for a classification or pair-classification
    target. Other targets (F1, retrieval, targets not described): None.
    """
    if metric != "accuracy":
        return None
    chance = ((targets or {}).get(target) or {}).get("chance")
    return float(chance) if isinstance(chance, (int, float)) else None


def _manifest(directory: str | None) -> dict:
    if not directory:
        return {}
    path = Path(directory) / "study.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def study_records(directory: str | None, provenance: dict[str, dict]) -> dict:
    """Encoder, hyperparameters, max_examples, seeds and languages of the study.

    Returns a dict with ``source`` ("study.json", "profile provenance" or None) and the keys
    found: ``encoder``, ``intermediate_train``, ``target_train``, ``max_examples``,
    ``seeds``, ``languages``, ``profile_max_examples``, ``profile_seed``.
    """
    man = _manifest(directory)
    cfg = man.get("config") or {}
    out: dict = {"source": "study.json" if cfg else None}
    if cfg:
        out["encoder"] = ", ".join(cfg.get("models") or []) or None
        for key in ("intermediate_train", "target_train"):
            sec = cfg.get(key) or {}
            out[key] = {k: sec[k] for k in _HPARAMS
                        if sec.get(k) is not None and not (k == "max_steps" and sec[k] == -1)}
        for key in ("max_examples", "seeds", "languages", "data_dir"):
            out[key] = cfg.get(key)
        out["data_dir"] = man.get("data_dir", out.get("data_dir"))
    models = sorted({str(p["model"]) for p in provenance.values() if p.get("model")})
    maxes = sorted({p["max_examples"] for p in provenance.values()
                    if p.get("max_examples") is not None})
    seeds = sorted({p["seed"] for p in provenance.values() if p.get("seed") is not None})
    if models and not out.get("encoder"):
        out["encoder"] = ", ".join(models)
        out["source"] = out["source"] or "profile provenance"
    out["profile_max_examples"] = maxes
    out["profile_seed"] = seeds
    return out


def _kv(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def records_sentences(rec: dict) -> list[str]:
    """Methods sentences from :func:`study_records` (a sentence saying so when none)."""
    if not rec.get("source"):
        return ["Encoder and training settings: not recorded (no study.json in the study "
                "directory and no model in the profiles' provenance)."]
    out = [f"Encoder: {rec.get('encoder') or 'not recorded'} (from {rec['source']})."]
    for key, name in (("intermediate_train", "Intermediate training"),
                      ("target_train", "Target training")):
        if rec.get(key):
            out.append(f"{name}: {_kv(rec[key])}.")
    if rec.get("source") == "study.json":
        cap = rec.get("max_examples")
        out.append(f"max_examples: {cap if cap is not None else 'none (full training splits)'}"
                   f"; seeds {rec.get('seeds')}; languages {', '.join(rec.get('languages') or [])}"
                   f"; data {rec.get('data_dir') or 'Hugging Face hub'}.")
    if rec.get("profile_max_examples") or rec.get("profile_seed"):
        out.append(f"Profiles: max_examples {', '.join(map(str, rec['profile_max_examples'])) or '–'}, "
                   f"seed {', '.join(map(str, rec['profile_seed'])) or '–'}.")
    return out


def baseline_frame(primary: pd.DataFrame, targets, described: Mapping[str, dict] | None = None) -> pd.DataFrame:
    """Baseline score per target (rows) and language (columns), mean, chance, flag.

    ``primary`` holds the primary-metric rows (columns target, language, metric,
    baseline_score); the baseline of a (target, language) is the same on every row.
    ``described`` is the study's ``targets.json`` (:func:`read_targets`): without it the
    chance column is empty and nothing is flagged.
    """
    base = primary.groupby(["target", "language"])["baseline_score"].mean().unstack("language")
    base = base.reindex(index=list(targets))
    metric = primary.groupby("target")["metric"].first()
    out = base.copy()
    out.insert(0, "metric", [metric.get(t, "") for t in out.index])
    out["mean"] = base.mean(axis=1)
    chance = [chance_level(t, metric.get(t, ""), described) for t in out.index]
    out["chance"] = chance
    flags = []
    for t, c in zip(out.index, chance):
        if c is None:
            flags.append("")
            continue
        near = [lang for lang in base.columns
                if np.isfinite(base.at[t, lang]) and base.at[t, lang] <= c + CHANCE_MARGIN]
        if len(near) == base.loc[t].notna().sum():
            flags.append("AT CHANCE: every language")
        elif near:
            flags.append(f"at chance: {', '.join(near)}")
        else:
            flags.append("")
    out["flag"] = flags
    out.index.name = "target"
    return out


def _short(value, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def provenance_frame(provenance: dict[str, dict]) -> pd.DataFrame:
    """One row per profile: model, seed, max_examples, created, taskdiff/torch versions,
    measures, errors, and any other scalar fields (readable, nothing silently cut: long
    values are shortened with "…" and stay in the profile file)."""
    rows = []
    for task, p in sorted(provenance.items()):
        versions = p.get("versions") if isinstance(p.get("versions"), dict) else {}
        errors = p.get("errors") if isinstance(p.get("errors"), dict) else {}
        measures = p.get("measures")
        row = {"task": task, "model": p.get("model", "–"), "seed": p.get("seed", p.get("seeds", "–")),
               "max_examples": p.get("max_examples", "–"), "created": p.get("created", "–"),
               "versions": ", ".join(f"{k} {versions[k]}" for k in ("taskdiff", "torch", "transformers")
                                     if k in versions) or "–",
               "measures": ", ".join(measures) if isinstance(measures, (dict, list)) else "–",
               "errors": "; ".join(f"{k}: {_short(v, 60)}" for k, v in errors.items()) or "none"}
        shown = {"model", "seed", "seeds", "max_examples", "created", "versions", "errors", "measures",
                 "store", "task_config", "data_dir", "format"}
        other = {k: v for k, v in p.items() if k not in shown and v not in (None, {}, [])}
        if p.get("data_dir"):
            other["data_dir"] = p["data_dir"]
        row["other"] = "; ".join(f"{k}: {_short(v)}" for k, v in sorted(other.items())) or "–"
        rows.append(row)
    cols = ["task", "model", "seed", "max_examples", "created", "versions", "measures", "errors", "other"]
    return pd.DataFrame(rows, columns=cols).astype(str)
