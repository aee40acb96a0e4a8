"""Wild cluster restricted bootstrap with Webb weights (issue 14, item 4): properties."""

import numpy as np
import pytest
import statsmodels.api as sm

from taskdiff.analysis.wildboot import WEBB_WEIGHTS, webb_weights, wild_cluster_pvalue


def test_webb_weights_have_mean_zero_variance_one():
    assert WEBB_WEIGHTS.mean() == pytest.approx(0.0, abs=1e-15)
    assert (WEBB_WEIGHTS**2).mean() == pytest.approx(1.0)
    assert (WEBB_WEIGHTS**4).mean() == pytest.approx(7 / 6)
    draws = webb_weights(6000, 3, np.random.default_rng(0))
    assert set(np.round(np.unique(draws), 12)) == set(np.round(WEBB_WEIGHTS, 12))


def _study(rng, n_clusters, effect, per=8):
    groups = np.repeat(np.arange(n_clusters), per)
    x = rng.normal(size=n_clusters)[groups]
    y = effect * x + rng.normal(size=n_clusters)[groups] * 0.5 + rng.normal(size=len(groups))
    return sm.add_constant(x), y, groups


def test_strong_effect_small_p_null_effect_uniform_ish():
    rng = np.random.default_rng(1)
    X, y, g = _study(rng, 12, effect=2.0)
    assert wild_cluster_pvalue(X, y, g, 1, n_boot=999) < 0.05
    ps = [wild_cluster_pvalue(*_study(rng, 8, effect=0.0), 1, n_boot=199, seed=s) for s in range(40)]
    assert 0.25 < np.mean(ps) < 0.75  # p-values under the null are spread, not piled at 0
    assert np.mean(np.array(ps) <= 0.05) <= 0.15


def test_four_clusters_null_rejection_rate_vs_cr1():
    """4 clusters, no effect, cluster-level noise: CR1 with G - 1 df over-rejects; the
    WCR bootstrap stays near or below the nominal 5%."""
    rng = np.random.default_rng(2)
    cr1_rej = wcb_rej = 0
    for s in range(150):
        X, y, g = _study(rng, 4, effect=0.0)
        cr1 = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
        cr1_rej += cr1.pvalues[1] <= 0.05
        wcb_rej += wild_cluster_pvalue(X, y, g, 1, n_boot=199, seed=s) <= 0.05
    assert cr1_rej / 150 > 0.08
    assert wcb_rej / 150 <= 0.07
    assert wcb_rej < cr1_rej


def test_same_seed_same_p():
    X, y, g = _study(np.random.default_rng(3), 6, effect=0.5)
    assert wild_cluster_pvalue(X, y, g, 1, n_boot=499, seed=7) == wild_cluster_pvalue(X, y, g, 1, n_boot=499, seed=7)
