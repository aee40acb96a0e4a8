"""Multiple-testing corrections as pure array functions.

Both functions take raw p-values and return adjusted p-values of the same shape, so that
"reject at level alpha" is ``adjusted <= alpha``. NaN entries (tests that could not be run)
are left out of the family and stay NaN.

- :func:`bh_adjust`: Benjamini & Hochberg (1995) step-up, controls the false discovery rate
  under independence or positive dependence.
- :func:`holm_adjust`: Holm (1979) step-down, controls the family-wise error rate under any
  dependence.
"""

from __future__ import annotations

import numpy as np
from taskdiff.errors import UnknownNameError

__all__ = ["bh_adjust", "holm_adjust", "adjust"]


def _prepare(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    vals = flat[ok]
    if ((vals < 0) | (vals > 1)).any():
        raise ValueError(f"p-values must lie in [0, 1], found {vals[(vals < 0) | (vals > 1)][:3]}")
    return p, ok, vals


def bh_adjust(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values.

    Parameters
    ----------
    p : array_like
        Raw p-values (any shape; NaN = not tested).

    Returns
    -------
    ndarray
        ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` for the sorted p-values, in the
        original order and shape.

    Examples
    --------
    >>> bh_adjust([0.01, 0.04, 0.03, 0.20]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    """
    p, ok, vals = _prepare(p)
    m = vals.size
    out = np.full(p.size, np.nan)
    if m:
        order = np.argsort(vals, kind="mergesort")
        scaled = vals[order] * m / np.arange(1, m + 1)
        q = np.minimum.accumulate(scaled[::-1])[::-1]
        adj = np.empty(m)
        adj[order] = np.minimum(q, 1.0)
        out[ok] = adj
    return out.reshape(p.shape)


def holm_adjust(p) -> np.ndarray:
    """Holm step-down adjusted p-values.

    Parameters
    ----------
    p : array_like
        Raw p-values (any shape; NaN = not tested).

    Returns
    -------
    ndarray
        ``a_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))`` for the sorted p-values, in the
        original order and shape.

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03, 0.20]).round(4).tolist()
    [0.04, 0.09, 0.09, 0.2]
    """
    p, ok, vals = _prepare(p)
    m = vals.size
    out = np.full(p.size, np.nan)
    if m:
        order = np.argsort(vals, kind="mergesort")
        scaled = vals[order] * (m - np.arange(m))
        a = np.maximum.accumulate(np.minimum(scaled, 1.0))
        adj = np.empty(m)
        adj[order] = a
        out[ok] = adj
    return out.reshape(p.shape)


def adjust(p, method: str) -> np.ndarray:
    """Dispatch to :func:`bh_adjust` (``"bh"``) or :func:`holm_adjust` (``"holm"``)."""
    methods = {"bh": bh_adjust, "fdr_bh": bh_adjust, "holm": holm_adjust}
    try:
        return methods[method.lower()](p)
    except KeyError:
        raise UnknownNameError("correction", method, ["bh", "holm"]) from None
