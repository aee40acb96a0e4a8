"""PooledGainPredictor: known answers, per-target scales, seed rows, similarity inputs, LOTO."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from taskdiff.analysis.evaluation import PREDICTOR, leave_one_task_out
from taskdiff.analysis.pooled import (PooledGainPredictor, jackknife_quantile, ridge_fit, seed_rows,
                                      task_similarity, unit_scale)
from taskdiff.analysis.table import StudySource, build_table

TARGETS = ("nli", "para")
LANGS = ("de", "sw")


def _profiles(n: int, rng, *, in_provenance: bool = False) -> dict:
    out = {}
    for i in range(n):
        sim = {t: float(rng.uniform(0.5, 1.0)) for t in TARGETS}
        prof = {"task": f"t{i:02d}", "n_examples": int(rng.choice([250, 500, 1000])), "label_entropy": 1.0,
                "v_information": float(rng.uniform(0.0, 1.0)), "logme": float(rng.normal())}
        if in_provenance:
            prof["provenance"] = {"measures": {"embedding": {"result": {"mean_similarity": sim}}}}
        else:
            prof["similarity"] = sim
        out[prof["task"]] = prof
    return out


def _study(profiles: dict, fn, *, noise: float = 0.0, seeds=(1, 2, 3), scale=None, rng=None) -> pd.DataFrame:
    """Gains ``scale_t * fn(profile, target) + noise`` for every task, target, language and seed."""
    rng = rng or np.random.default_rng(0)
    scale = scale or {t: 1.0 for t in TARGETS}
    rows = []
    for task, prof in profiles.items():
        for t in TARGETS:
            for lang in LANGS:
                for s in seeds:
                    g = scale[t] * fn(prof, t) + noise * rng.normal()
                    rows.append({"intermediate": task, "target": t, "language": lang, "seed": s,
                                 "metric": "accuracy", "score": 50.0 + g, "baseline_score": 50.0, "gain": g})
    return pd.DataFrame(rows)


def _sim(prof, t):
    sims = prof.get("similarity") or prof["provenance"]["measures"]["embedding"]["result"]["mean_similarity"]
    return sims[t]


def _table(profiles, fn, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = StudySource("<memory>", provenance={t: dict(p.get("provenance") or {}) for t, p in profiles.items()})
        return build_table(_study(profiles, fn, **kw), profiles, source=source)


def test_ridge_fit_alpha_zero_is_ols_and_large_alpha_shrinks_to_the_mean():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    ols = np.linalg.lstsq(np.column_stack([np.ones(20), X]), y, rcond=None)[0]
    assert np.allclose(ridge_fit(X, y, 0.0), ols)
    big = ridge_fit(X, y, 1e9)
    assert big[0] == pytest.approx(y.mean(), abs=1e-6) and np.allclose(big[1:], 0, atol=1e-6)


def test_unit_scale_and_jackknife_quantile_known_values():
    assert list(unit_scale([1.0, 2.0, 5.0], [1.0, 5.0])) == [0.0, 0.25, 1.0]
    assert list(unit_scale([3.0], [2.0, 2.0])) == [1.0]  # constant reference: span 1
    assert jackknife_quantile([-4, 1, 3, 2], 0.5) == 3  # ceil(0.5 * 5) = 3rd smallest of 1, 2, 3, 4
    assert math.isinf(jackknife_quantile([1, 2, 3], 0.9))  # ceil(0.9 * 4) = 4 > 3


def test_seed_rows_average_languages_within_seed():
    rng = np.random.default_rng(2)
    profiles = _profiles(3, rng)
    df = _study(profiles, lambda p, t: 0.0)
    df.loc[(df["language"] == "de") & (df["seed"] == 2), "gain"] = 4.0
    df["score"] = df["baseline_score"] + df["gain"]
    table = build_table(df, profiles)
    rows = seed_rows(table).set_index(["intermediate", "target", "seed"])["gain"]
    assert rows.loc[("t00", "nli", 2)] == 2.0 and rows.loc[("t00", "nli", 1)] == 0.0
    assert len(rows) == 3 * 2 * 3


@pytest.mark.parametrize("in_provenance", [False, True])
def test_similarity_read_from_profile_columns_or_embedding_provenance(in_provenance):
    profiles = _profiles(4, np.random.default_rng(3), in_provenance=in_provenance)
    sims = task_similarity(_table(profiles, lambda p, t: p["v_information"]))
    assert sims.loc["t02", "para"] == pytest.approx(_sim(profiles["t02"], "para"))


def test_exact_linear_relation_is_recovered_with_per_target_scales():
    """gain = scale_t * (2 signal + sim): predictions of a held-out task are exact on each target's scale.

    (The similarity is the same for both targets, so the per-target standardised gains are identical
    and one pooled linear model is exact.)"""
    rng = np.random.default_rng(4)
    profiles = _profiles(12, rng)
    for p in profiles.values():
        p["similarity"]["para"] = p["similarity"]["nli"]
    fn = lambda p, t: 2 * p["v_information"] + _sim(p, t)  # noqa: E731
    scale = {"nli": 1.0, "para": 10.0}
    table = _table(profiles, fn, scale=scale)
    held = table.subset([t for t in table.intermediates if t != "t05"])
    model = PooledGainPredictor(features=("signal", "similarity"), alphas=(1e-9,)).fit(held)
    pred = model.predict(table.profiles.loc[["t05"]].assign(
        **{f"similarity.{t}": profiles["t05"]["similarity"][t] for t in TARGETS})).set_index("target")
    for t in TARGETS:
        assert pred.loc[t, "predicted_gain"] == pytest.approx(scale[t] * fn(profiles["t05"], t), rel=1e-6)
    assert model.halfwidth_ == pytest.approx(0.0, abs=1e-6)  # no noise: jackknife residuals are 0


def test_estimator_contract_and_interval_scales_with_target():
    rng = np.random.default_rng(5)
    profiles = _profiles(14, rng)
    table = _table(profiles, lambda p, t: p["v_information"] + _sim(p, t), noise=0.3,
                   scale={"nli": 1.0, "para": 3.0}, rng=rng)
    est = PooledGainPredictor()
    assert clone(est).get_params() == est.get_params()
    assert est.fit(table) is est and est.features_[0] == "signal"
    out = est.predict(profiles["t03"])  # a profile dict: similarity from its own fields
    widths = (out["upper"] - out["lower"]).to_numpy()
    assert np.isfinite(widths).all() and widths[1] / widths[0] == pytest.approx(
        est.scale_["para"] / est.scale_["nli"])
    assert "ridge alpha" in est.summary()


def test_features_without_inputs_are_dropped_with_a_warning():
    profiles = _profiles(6, np.random.default_rng(6))
    for p in profiles.values():
        del p["similarity"]
    table = _table(profiles, lambda p, t: p["v_information"])
    with pytest.warns(UserWarning, match="similarity"):
        est = PooledGainPredictor().fit(table)
    assert est.features_ == ("signal", "log_n_examples")


def test_loto_ranks_a_planted_interaction_and_reports_similarity_baseline():
    """Gain = similarity * signal (a related task transfers what it can teach), with seed noise."""
    rng = np.random.default_rng(7)
    profiles = _profiles(16, rng)
    table = _table(profiles, lambda p, t: 4 * _sim(p, t) * p["v_information"], noise=0.2, rng=rng)
    ev = leave_one_task_out(table, PooledGainPredictor(), k=3, n_perm=499)
    s = ev.summary_frame()
    assert s.loc[PREDICTOR, "spearman"] > 0.8 and ev.p_better_than_random < 0.01
    assert "embedding similarity" in s.index and set(ev.p_values) >= {PREDICTOR, "data size", "LogME"}
    assert ev.p_values[PREDICTOR] == ev.p_better_than_random


def test_constant_predictions_have_no_evidence():
    """All-NaN Spearman (a constant ranking) gives p = 1, not the smallest possible p."""
    from taskdiff.analysis.evaluation import _perm_test

    P = pd.DataFrame({"a": [1.0, 1.0, 1.0, 1.0]})
    G = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    assert _perm_test(P, G, 99, 0) == 1.0


def test_small_study_gets_a_note_pointing_to_the_benchmark():
    from taskdiff.analysis.evaluation import small_n_note

    note = small_n_note(7)
    assert "0.41" in note and "benchmarks.predictor_testbed" in note  # 1 / sqrt(6) = 0.408
    assert small_n_note(10) is None
    profiles = _profiles(7, np.random.default_rng(8))
    ev = leave_one_task_out(_table(profiles, lambda p, t: p["v_information"]), PooledGainPredictor(), n_perm=99)
    assert note in ev.notes and note in ev.to_markdown()
