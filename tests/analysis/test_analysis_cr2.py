"""CR2 covariance and Bell–McCaffrey df (issue 14, item 4): hand-computed values and properties."""

import numpy as np
import pytest
import statsmodels.api as sm

from taskdiff.analysis.cr2 import bell_mccaffrey_df, cr2_ols, cr2_vcov


def test_intercept_only_hand_computed():
    """y = 1,2,3,4,5,9 in three clusters of two; intercept only.

    By hand: mean 4, residuals -3,-2 | -1,0 | 1,5, cluster sums S = -5, -1, 6. With X = 1,
    H_gg = J/6, so (I - H_gg)^{-1/2} multiplies the cluster sum by 1/sqrt(1 - 2/6); hence
    V = (1/6^2) * sum S_g^2 / (2/3) = 62 * 1.5 / 36 = 2.58333 and, with equal cluster sizes,
    G'G is proportional to I - J/3: eigenvalues (1, 1, 0), df = 2^2 / 2 = 2 = G - 1.
    """
    y = np.array([1, 2, 3, 4, 5, 9], dtype=float)
    X = np.ones((6, 1))
    fit = cr2_ols(X, y, [0, 0, 1, 1, 2, 2])
    assert fit.params[0] == pytest.approx(4.0)
    assert fit.vcov[0, 0] == pytest.approx(62 * 1.5 / 36, rel=1e-12)
    assert fit.df[0] == pytest.approx(2.0, rel=1e-10)


def test_singleton_clusters_equal_hc2():
    rng = np.random.default_rng(0)
    X = sm.add_constant(rng.normal(size=(15, 2)))
    y = X @ [1.0, 0.5, -0.2] + rng.normal(size=15) * (1 + np.abs(X[:, 1]))
    fit = cr2_ols(X, y, np.arange(15))
    hc2 = sm.OLS(y, X).fit(cov_type="HC2")
    np.testing.assert_allclose(fit.vcov, hc2.cov_params(), rtol=1e-10)
    np.testing.assert_allclose(fit.params, hc2.params, rtol=1e-10)


def test_unbiased_under_homoskedastic_errors():
    """E[V_CR2] = sigma^2 (X'X)^-1 exactly: the sum of V over the columns r_k of (I - H)^{1/2}
    (so sum_k r_k r_k' = I - H = E[e e'] / sigma^2) is (X'X)^-1. CR1 is not."""
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(5), [2, 3, 4, 2, 6])
    X = sm.add_constant(np.column_stack([rng.normal(size=5)[groups], rng.normal(size=17)]))
    h = X @ np.linalg.inv(X.T @ X) @ X.T
    w, v = np.linalg.eigh(np.eye(17) - h)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    total = sum(cr2_vcov(X, root[:, k], groups) for k in range(17))
    np.testing.assert_allclose(total, np.linalg.inv(X.T @ X), atol=1e-10)
    cr1 = sum(sm.OLS(root[:, k], X).fit(cov_type="cluster", cov_kwds={"groups": groups}).cov_params()
              for k in range(17))
    assert not np.allclose(cr1, np.linalg.inv(X.T @ X), atol=1e-3)


def test_few_clusters_give_few_df_and_wider_se_than_cr1():
    """Task-level regressor, 4 clusters: BM df well below G - 1 = 3, CR2 SE above CR1's."""
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(4), 12)
    x = np.array([0.1, 0.2, 0.35, 0.9])[groups]
    X = sm.add_constant(x)
    y = 2 * x + rng.normal(size=4)[groups] * 0.05 + rng.normal(size=48) * 0.3
    fit = cr2_ols(X, y, groups)
    cr1 = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    assert fit.df[1] < 3.0 and fit.df[1] > 1.0
    assert fit.bse[1] > cr1.bse[1]


def test_df_invariant_to_row_order_and_scale():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(6), 3)
    X = sm.add_constant(rng.normal(size=6)[groups])
    perm = rng.permutation(18)
    c = np.array([0.0, 1.0])
    d = bell_mccaffrey_df(X, groups, c)
    assert bell_mccaffrey_df(X[perm], groups[perm], c) == pytest.approx(d, rel=1e-10)
    assert bell_mccaffrey_df(X * [1.0, 10.0], groups, c) == pytest.approx(d, rel=1e-10)


def test_bm_df_matches_moments_of_simulated_cr2_variances():
    """Satterthwaite's definition, checked by simulation through the variance code path:
    under N(0, I) errors, df = 2 E[V]^2 / Var[V] of the CR2 variance V of the coefficient."""
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(5), [2, 3, 6, 2, 4])
    X = sm.add_constant(np.column_stack([rng.normal(size=5)[groups], rng.normal(size=17)]))
    hat = np.linalg.pinv(X.T @ X) @ X.T
    v = np.array([cr2_vcov(X, e - X @ (hat @ e), groups)[1, 1]
                  for e in rng.normal(size=(2000, 17))])
    df_mc = 2 * v.mean() ** 2 / v.var()
    df_bm = bell_mccaffrey_df(X, groups, [0.0, 1.0, 0.0])
    assert v.mean() == pytest.approx(np.linalg.inv(X.T @ X)[1, 1], rel=0.05)  # unbiased
    assert df_mc == pytest.approx(df_bm, rel=0.1)
