"""Wild cluster restricted bootstrap (WCR) with Webb weights: a few-clusters p-value.

A second opinion beside CR2 with Bell–McCaffrey df (:mod:`taskdiff.analysis.cr2`) for a
coefficient of an OLS whose regressor varies between clusters (intermediate tasks).
Following Cameron, Gelbach and Miller (2008) and Webb (2023):

1. fit the model *restricted* by the null ``beta_j = 0`` (drop column j): fitted values
   ``y_r`` and residuals ``u_r``;
2. for each replicate draw one weight per cluster from Webb's six-point distribution
   (``±sqrt(1/2), ±1, ±sqrt(3/2)``, each with probability 1/6; mean 0, variance 1) and
   build ``y* = y_r + w_g u_r``;
3. refit the unrestricted model on ``y*`` and compute the cluster-robust t of ``beta_j``
   (CR0 sandwich: a constant scale factor cancels in the comparison);
4. p = share of replicates with ``|t*| >= |t|``.

Webb's weights are used because with G clusters Rademacher weights give only 2^G distinct
replicates (16 with 4 tasks, too coarse for a p-value); six points give 6^G. With very few
clusters the bootstrap p-value is still coarse and conservative-leaning; that is the
honest answer.

Why written here: statsmodels has no wild cluster bootstrap; the Python port of
fwildclusterboot (``wildboottest``) is a heavier dependency for about forty lines that are
tested here against the method's defining properties.

References
----------
Cameron, Gelbach and Miller (2008), "Bootstrap-based improvements for inference with
clustered errors", REStat 90(3). Webb (2023), "Reworking wild bootstrap-based inference for
clustered errors", Canadian Journal of Economics 56(3). MacKinnon, Nielsen and Webb (2023),
"Cluster-robust inference: a guide to empirical practice", Journal of Econometrics 232(2).
"""

from __future__ import annotations

import numpy as np

__all__ = ["WEBB_WEIGHTS", "webb_weights", "wild_cluster_pvalue"]

#: Webb's six-point distribution (mean 0, variance 1, fourth moment 7/6).
WEBB_WEIGHTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def webb_weights(n_boot: int, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n_clusters)`` weights drawn from :data:`WEBB_WEIGHTS` with equal probability."""
    return WEBB_WEIGHTS[rng.integers(0, 6, size=(n_boot, n_clusters))]


def _cluster_t(X: np.ndarray, Y: np.ndarray, codes: np.ndarray, n_clusters: int, j: int,
               bread: np.ndarray) -> np.ndarray:
    """CR0 t statistics of coefficient j for every column of Y (shape (N, B))."""
    beta = bread @ (X.T @ Y)  # (p, B)
    resid = Y - X @ beta
    scores = np.zeros((n_clusters, X.shape[1], Y.shape[1]))
    np.add.at(scores, codes, X[:, :, None] * resid[:, None, :])
    lin = np.einsum("p,gpb->gb", bread[j], scores)  # row j of bread times each cluster score
    return beta[j] / np.sqrt((lin**2).sum(axis=0))


def wild_cluster_pvalue(X, y, groups, j: int, *, n_boot: int = 9999, seed: int = 0) -> float:
    """Two-sided WCR bootstrap p-value of ``beta_j = 0`` with Webb weights.

    Parameters
    ----------
    X : array_like, shape (N, p)
        Design matrix (with the intercept column).
    y : array_like, shape (N,)
    groups : array_like, shape (N,)
        Cluster label of every row.
    j : int
        Column of the tested coefficient.
    n_boot : int
        Replicates.
    seed : int
        Seed of the weights (same seed, same p-value).
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    n_clusters = int(codes.max()) + 1
    bread = np.linalg.pinv(X.T @ X)
    t_obs = _cluster_t(X, y[:, None], codes, n_clusters, j, bread)[0]
    Xr = np.delete(X, j, axis=1)
    fitted = Xr @ np.linalg.lstsq(Xr, y, rcond=None)[0]
    resid = y - fitted
    rng = np.random.default_rng(seed)
    exceed, done = 0, 0
    chunk = max(1, 2_000_000 // max(len(y), 1))
    while done < n_boot:
        b = min(chunk, n_boot - done)
        w = webb_weights(b, n_clusters, rng)[:, codes].T  # (N, b)
        t_star = _cluster_t(X, fitted[:, None] + w * resid[:, None], codes, n_clusters, j, bread)
        exceed += int(np.count_nonzero(np.abs(t_star) >= abs(t_obs) - 1e-12))
        done += b
    return float((1 + exceed) / (n_boot + 1))
