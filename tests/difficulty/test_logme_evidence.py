"""LogME maximises the exact evidence for N < D and N > D (issue 14, item 3).

Known answers come from a brute-force computation that shares nothing with the module: the
paper's formula with explicit D x D matrices (``A = alpha I + beta F^T F``, ``slogdet``),
maximised over a 2-D grid of (log alpha, log beta) and refined by Nelder-Mead. Where the
supremum is the exact-fit limit (beta -> infinity, possible only when N <= D) the known
answer is that limit in closed form: ``max_alpha log N(y; 0, alpha^-1 F F^T)`` with
``alpha = N / y^T (F F^T)^-1 y``.
"""

import importlib

import numpy as np
import pytest
from scipy import optimize

M = importlib.import_module("taskdiff.difficulty.maths.logme")


def _explicit(f, y, log_alpha, log_beta):
    """The paper's log evidence with the full D x D matrix A (no SVD, no shortcuts)."""
    alpha, beta = np.exp(log_alpha), np.exp(log_beta)
    n, d = f.shape
    a = alpha * np.eye(d) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    return (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - n / 2 * np.log(2 * np.pi)
            - beta / 2 * np.sum((f @ m - y) ** 2) - alpha / 2 * m @ m - np.linalg.slogdet(a)[1] / 2)


def _brute_force_max(f, y):
    """Grid over (log alpha, log beta) in [-15, 10]^2, then Nelder-Mead from the best point."""
    grid = np.linspace(-15, 10, 26)
    vals = np.array([[_explicit(f, y, la, lb) for lb in grid] for la in grid])
    i, j = np.unravel_index(np.argmax(vals), vals.shape)
    res = optimize.minimize(lambda t: -_explicit(f, y, t[0], t[1]), x0=[grid[i], grid[j]],
                            method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 2000})
    assert 0 < i < len(grid) - 1 and 0 < j < len(grid) - 1, "brute-force maximum on the grid's edge"
    return -res.fun / len(y), np.exp(res.x)


def _embedding_like(seed, n, d, spread):
    """Unit-norm features around a common mean with a decaying spectrum (like a sentence encoder)."""
    rng = np.random.default_rng(seed)
    mu, lab = rng.normal(size=d), rng.integers(0, 3, size=n)
    f = mu + spread * rng.normal(size=(n, d)) * np.arange(1, d + 1) ** -0.5 \
        + 0.1 * spread * rng.normal(size=(3, d))[lab]
    return f / np.linalg.norm(f, axis=1, keepdims=True), (lab == 0).astype(float)


def _fixed_point(f, y, steps=1000):
    """Algorithm 2 of You et al. (2021), as the old code ran it: returns evidence / N."""
    n = len(y)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    sigma, x = s**2, u.T @ y
    out = y @ y - x @ x
    alpha = beta = 1.0
    for _ in range(steps):
        denom = alpha + beta * sigma
        gamma = np.sum(beta * sigma / denom)
        mm = np.sum(beta**2 * sigma * x**2 / denom**2)
        res = np.sum((alpha / denom) ** 2 * x**2) + out
        new_alpha, new_beta = gamma / mm, (n - gamma) / res
        done = abs(new_alpha / new_beta - alpha / beta) <= 1e-7 * alpha / beta
        alpha, beta = new_alpha, new_beta
        if done:
            break
    return M.log_evidence(f, y, alpha, beta) / n


def test_n_greater_than_d_matches_brute_force():
    rng = np.random.default_rng(11)
    f = rng.normal(size=(120, 15))
    y = (f[:, 0] - 0.5 * f[:, 3] + rng.normal(size=120) > 0).astype(float)
    ev, alpha, beta = M.logme_fit(f, y)
    ev_bf, (a_bf, b_bf) = _brute_force_max(f, y)
    assert ev == pytest.approx(ev_bf, abs=1e-7)
    assert alpha == pytest.approx(a_bf, rel=1e-3) and beta == pytest.approx(b_bf, rel=1e-3)
    assert _explicit(f, y, np.log(alpha), np.log(beta)) / 120 == pytest.approx(ev, abs=1e-9)


def test_n_less_than_d_interior_maximum_matches_brute_force():
    """N = 40 < D = 80: the old fixed-point iteration stopped at -0.710; the maximum is -0.437."""
    f, y = _embedding_like(0, 40, 80, 0.01)
    ev, alpha, beta = M.logme_fit(f, y)
    ev_bf, (a_bf, b_bf) = _brute_force_max(f, y)
    assert ev == pytest.approx(ev_bf, abs=1e-6)
    assert ev == pytest.approx(-0.4372, abs=1e-3)
    assert alpha == pytest.approx(a_bf, rel=1e-2) and beta == pytest.approx(b_bf, rel=1e-2)


def test_fixed_point_runaway_is_not_what_logme_returns():
    """Regression: the fixed-point iteration ends far below the evidence maximum when N < D."""
    f, y = _embedding_like(0, 40, 80, 0.01)
    stuck = _fixed_point(f, y)
    assert stuck == pytest.approx(-0.7098, abs=2e-3)  # what the old code returned
    assert M.logme_fit(f, y)[0] > stuck + 0.25
    assert M.logme_fit(f, y)[0] == pytest.approx(_brute_force_max(f, y)[0], abs=1e-6)


def test_exact_fit_supremum_is_the_beta_to_infinity_limit():
    """N = 40 < D = 100 where the evidence increases all the way to the noise-free limit."""
    f, y = _embedding_like(0, 40, 100, 0.02)
    n = len(y)
    gram = f @ f.T
    quad = y @ np.linalg.solve(gram, y)
    alpha = n / quad  # maximiser of log N(y; 0, alpha^-1 F F^T)
    limit = (-n / 2 * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(gram / alpha)[1] - alpha / 2 * quad) / n
    ev, alpha_hat, beta_hat = M.logme_fit(f, y)
    assert ev == pytest.approx(limit, abs=1e-6)
    assert ev == pytest.approx(-0.2086, abs=1e-3)
    assert _fixed_point(f, y) < ev - 0.5  # the old iteration: -0.729
    assert alpha_hat == pytest.approx(alpha, rel=1e-4) and beta_hat > 1e6 * alpha_hat


def test_never_below_any_evidence_seen_on_a_grid():
    """Invariance: the maximum is at least the exact evidence at every point of a coarse grid."""
    for seed, (n, d) in enumerate([(20, 64), (50, 10), (30, 30)]):
        f, y = _embedding_like(seed, n, d, 0.05)
        ev = M.logme_fit(f, y)[0]
        seen = max(M.log_evidence(f, y, np.exp(a), np.exp(b)) for a in range(-12, 8) for b in range(-4, 30))
        assert ev >= seen / n - 1e-9


def test_features_scale_covariance():
    """Scaling F by c scales alpha* by c^2 and leaves the evidence unchanged."""
    f, y = _embedding_like(3, 40, 80, 0.01)
    ev, alpha, beta = M.logme_fit(f, y)
    ev2, alpha2, beta2 = M.logme_fit(7.0 * f, y)
    assert ev2 == pytest.approx(ev, abs=1e-8)
    assert alpha2 == pytest.approx(49.0 * alpha, rel=1e-4) and beta2 == pytest.approx(beta, rel=1e-4)


def test_zero_target_column_is_refused():
    with pytest.raises(ValueError, match="all zeros"):
        M.logme_fit(np.eye(4), np.zeros(4))
