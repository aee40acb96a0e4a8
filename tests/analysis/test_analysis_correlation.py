"""Correlations, permutation p-values, hierarchical bootstrap, and the task-level analysis."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from taskdiff.analysis.bootstrap import (draw_tasks, nested_values, percentile_interval,
                                         resample_task_means)
from taskdiff.analysis.correlation import POOLED, correlate
from taskdiff.analysis.corrstats import (correlation_rows, kendall_rows, pearson_rows,
                                         permutation_pvalue, spearman_rows)
from taskdiff.analysis.table import load_study


def test_row_correlations_match_scipy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(20, 9)).astype(float)  # ties included
    y = rng.normal(size=(20, 9))
    for i in range(20):
        assert pearson_rows(x[i], y[i]) == pytest.approx(scipy.stats.pearsonr(x[i], y[i])[0])
        assert spearman_rows(x[i], y[i]) == pytest.approx(scipy.stats.spearmanr(x[i], y[i])[0])
        assert kendall_rows(x[i], y[i]) == pytest.approx(scipy.stats.kendalltau(x[i], y[i])[0])
    np.testing.assert_allclose(kendall_rows(x, y), [scipy.stats.kendalltau(a, b)[0]
                                                    for a, b in zip(x, y)])
    assert np.isnan(pearson_rows(np.ones(5), np.arange(5.0)))
    assert np.isnan(kendall_rows(np.ones(5), np.arange(5.0)))


def test_exact_permutation_pvalue_by_enumeration():
    x = np.array([1.0, 2, 3, 4, 5, 6])
    y = np.array([1.0, 3, 2, 4, 6, 5])
    r, p = permutation_pvalue(x, y, "spearman", n_perm=10_000)
    null = [scipy.stats.spearmanr(x, y[list(q)])[0] for q in itertools.permutations(range(6))]
    assert r == pytest.approx(scipy.stats.spearmanr(x, y)[0])
    assert p == pytest.approx(np.mean(np.abs(null) >= abs(r) - 1e-12))
    # a perfect monotone relation: only the identity and the reversal reach |rho| = 1
    assert permutation_pvalue(x, x, "kendall", n_perm=10_000)[1] == pytest.approx(2 / 720)


def test_monte_carlo_pvalue_close_to_scipy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=12)
    y = 0.5 * x + rng.normal(size=12)
    r, p = permutation_pvalue(x, y, "pearson", n_perm=4999, rng=3)
    ref = scipy.stats.permutation_test((y,), lambda a: scipy.stats.pearsonr(x, a)[0],
                                       permutation_type="pairings", n_resamples=4999,
                                       random_state=4).pvalue
    assert 0 < p <= 1 and abs(p - ref) < 0.03
    assert permutation_pvalue(x, y, "pearson", n_perm=999, rng=3) == \
        permutation_pvalue(x, y, "pearson", n_perm=999, rng=3)


def _long(values):
    T, L, S = values.shape
    idx = pd.MultiIndex.from_product([[f"t{i}" for i in range(T)], [f"l{j}" for j in range(L)],
                                      range(S)], names=["intermediate", "language", "seed"])
    return pd.DataFrame({"gain": values.ravel()}, index=idx).reset_index()


def test_nested_values_and_task_level_resampling():
    rng = np.random.default_rng(0)
    vals = rng.normal(size=(4, 3, 2))
    packed = nested_values(_long(vals), "gain", [f"t{i}" for i in range(4)])
    np.testing.assert_allclose(packed, vals)
    idx = draw_tasks(4, 50, rng)
    means = resample_task_means(packed, idx, rng, levels=1)  # tasks only: exact task means
    np.testing.assert_allclose(means, vals.mean(axis=(1, 2))[idx])
    full = resample_task_means(packed, idx, rng, levels=3)
    assert full.shape == (50, 4) and np.isfinite(full).all()
    lo, hi = percentile_interval(full.mean(axis=1), 0.9)
    assert lo < hi


def test_hierarchical_bootstrap_covers_the_mean_at_nominal_rate():
    """200 simulated studies, y = mu + task + language-in-task + seed noise; 90% CIs."""
    rng = np.random.default_rng(42)
    mu, T, L, S, B, level = 1.0, 20, 3, 3, 400, 0.90
    covered = 0
    for _ in range(200):
        vals = (mu + rng.normal(0, 1.0, (T, 1, 1)) + rng.normal(0, 0.5, (T, L, 1))
                + rng.normal(0, 0.5, (T, L, S)))
        idx = draw_tasks(T, B, rng)
        boot = resample_task_means(vals, idx, rng).mean(axis=1)
        lo, hi = percentile_interval(boot, level)
        covered += lo <= mu <= hi
    assert 0.83 <= covered / 200 <= 0.96  # nominal 0.90; SD of the rate over 200 runs ~0.02


@pytest.fixture(scope="module")
def effect_corr(effect_study):
    return correlate(load_study(effect_study), n_perm=1999, n_boot=500, seed=1)


def test_planted_feature_is_significant_after_correction(effect_corr):
    sig = effect_corr.significant()
    assert set(sig["feature"]) == {"normalized_baseline_loss"}
    assert set(sig["target"]) == {"xnli", "pawsx", "panx", POOLED}
    row = sig[sig["target"] == POOLED].iloc[0]
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"] and row["ci_low"] > 0
    assert "remain significant" in effect_corr.verdict()


def test_results_frame_and_formats(effect_corr):
    f = effect_corr.to_frame()
    assert {"target", "feature", "method", "n", "estimate", "p_value", "ci_low", "ci_high",
            "p_bh", "p_holm"} <= set(f.columns)
    assert set(f["method"]) == {"spearman", "kendall", "pearson"}
    assert (f["n"] == 12).all()
    assert (f["p_holm"] >= f["p_bh"] - 1e-12).all()
    assert "n = 12 intermediate tasks" in effect_corr.summary()
    assert effect_corr.to_markdown().startswith("| target | feature |")


def test_null_study_has_nothing_significant(null_study):
    res = correlate(load_study(null_study), n_perm=999, n_boot=200)
    assert res.significant().empty and res.significant(correction="holm").empty
    assert res.verdict().startswith("No feature is significantly associated")


def test_seeded_results_are_reproducible(null_study):
    table = load_study(null_study)
    kw = dict(features=["logme", "probing.syntactic"], n_perm=199, n_boot=50, seed=7)
    pd.testing.assert_frame_equal(correlate(table, **kw).to_frame(),
                                  correlate(table, **kw).to_frame())


def test_missing_feature_values_reduce_n(sim):
    gains, profiles = sim.study(0, n_tasks=8)
    profiles["task01"]["logme"] = None
    from taskdiff.analysis.table import build_table
    res = correlate(build_table(gains, profiles), features=["logme"], n_perm=99, n_boot=50)
    assert (res.to_frame()["n"] == 7).all()
    assert correlation_rows(np.arange(4.0), np.arange(4.0), "kendall") == pytest.approx(1)
