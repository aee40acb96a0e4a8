"""Correlation coefficients and permutation p-values, vectorised over rows.

Pure array functions: ``x`` and ``y`` are arrays of shape ``(..., n)`` and every function
returns one coefficient per leading index, so that thousands of permutations or bootstrap
resamples are computed in one call. Constant rows give NaN.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.stats import rankdata
from taskdiff.errors import UnknownNameError

__all__ = ["METHODS", "pearson_rows", "spearman_rows", "kendall_rows", "correlation_rows",
           "permutation_indices", "permutation_pvalue"]

METHODS = ("spearman", "kendall", "pearson")
_CHUNK_ELEMENTS = 2_000_000


def pearson_rows(x, y) -> np.ndarray:
    """Pearson correlation of each row of ``x`` with the matching row of ``y``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    sxx, syy = (xc * xc).sum(axis=-1), (yc * yc).sum(axis=-1)
    n = x.shape[-1]
    ok = ((sxx > n * (1e-10 * np.abs(x).max(axis=-1)) ** 2)
          & (syy > n * (1e-10 * np.abs(y).max(axis=-1)) ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=-1) / np.sqrt(sxx * syy)
    r = np.where(ok, r, np.nan)
    return np.clip(r, -1.0, 1.0)


def spearman_rows(x, y) -> np.ndarray:
    """Spearman rank correlation per row (average ranks for ties)."""
    return pearson_rows(rankdata(x, axis=-1), rankdata(y, axis=-1))


def kendall_rows(x, y) -> np.ndarray:
    """Kendall's tau-b per row (the variant of :func:`scipy.stats.kendalltau`)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    n = x.shape[-1]
    x = np.broadcast_to(x, lead + (n,)).reshape(-1, n)
    y = np.broadcast_to(y, lead + (n,)).reshape(-1, n)
    out = np.empty(x.shape[0])
    step = max(1, _CHUNK_ELEMENTS // max(1, n * n))
    iu = np.triu_indices(n, k=1)
    for start in range(0, x.shape[0], step):
        xs, ys = x[start:start + step], y[start:start + step]
        sx = np.sign(xs[:, iu[0]] - xs[:, iu[1]])
        sy = np.sign(ys[:, iu[0]] - ys[:, iu[1]])
        den = np.sqrt((sx * sx).sum(axis=1) * (sy * sy).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + step] = np.where(den > 0, (sx * sy).sum(axis=1) / den, np.nan)
    return out.reshape(lead)


def correlation_rows(x, y, method: str) -> np.ndarray:
    """Dispatch to :func:`spearman_rows`, :func:`kendall_rows` or :func:`pearson_rows`."""
    funcs = {"spearman": spearman_rows, "kendall": kendall_rows, "pearson": pearson_rows}
    if method not in funcs:
        raise UnknownNameError("correlation method", method, funcs)
    return funcs[method](x, y)


def permutation_indices(n: int, n_perm: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Row-wise permutations of ``range(n)``: all of them when ``n! <= n_perm``.

    Returns
    -------
    perms : ndarray of shape (m, n)
        One permutation per row.
    exact : bool
        True when ``perms`` enumerates every permutation (identity included).
    """
    if math.factorial(n) <= n_perm:
        return np.array(list(itertools.permutations(range(n))), dtype=np.intp), True
    return rng.permuted(np.tile(np.arange(n), (n_perm, 1)), axis=1), False


def permutation_pvalue(x, y, method: str = "spearman", *, n_perm: int = 9999,
                       rng: np.random.Generator | int | None = 0,
                       perms: np.ndarray | None = None) -> tuple[float, float]:
    """Correlation of ``x`` and ``y`` with a two-sided permutation p-value.

    The null hypothesis is exchangeability of ``y`` with respect to ``x`` (no association).
    With ``n! <= n_perm`` every permutation is enumerated and the p-value is exact;
    otherwise ``p = (1 + #{|r*| >= |r|}) / (n_perm + 1)`` over random permutations, which
    is never 0 and is valid (Phipson & Smyth 2010).

    Parameters
    ----------
    x, y : array_like of shape (n,)
        Paired observations (no NaN).
    method : {"spearman", "kendall", "pearson"}
    n_perm : int
        Number of random permutations.
    rng : Generator or int or None
        Random source or seed.
    perms : ndarray of shape (m, n), optional
        Precomputed permutations (from :func:`permutation_indices`), for reuse.

    Returns
    -------
    estimate, p_value : float
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    r = float(correlation_rows(x, y, method))
    if not np.isfinite(r):
        return math.nan, math.nan
    exact = False
    if perms is None:
        perms, exact = permutation_indices(len(y), n_perm, np.random.default_rng(rng))
    null = correlation_rows(x[None, :], y[perms], method)
    hits = np.count_nonzero(np.abs(null) >= abs(r) - 1e-12)
    if exact or (perms.shape[0] == math.factorial(len(y))):
        return r, hits / perms.shape[0]
    return r, (1 + hits) / (perms.shape[0] + 1)
