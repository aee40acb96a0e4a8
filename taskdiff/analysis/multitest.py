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


def _adjust_sorted(p, step) -> np.ndarray:
    """Adjust the non-NaN p-values of ``p`` by ``step`` (ascending p-values -> adjusted ones).

    The p-values are sorted (stable), adjusted, and put back in their original order and
    shape; NaN entries stay NaN and are left out of the family.
    """
    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    vals = flat[ok]
    if ((vals < 0) | (vals > 1)).any():
        raise ValueError(f"p-values must lie in [0, 1], found {vals[(vals < 0) | (vals > 1)][:3]}")
    out = np.full(p.size, np.nan)
    if vals.size:
        order = np.argsort(vals, kind="mergesort")
        adj = np.empty(vals.size)
        adj[order] = step(vals[order])
        out[ok] = adj
    return out.reshape(p.shape)


def _bh_step(s: np.ndarray) -> np.ndarray:
    m = s.size
    q = np.minimum.accumulate((s * m / np.arange(1, m + 1))[::-1])[::-1]
    return np.minimum(q, 1.0)


def _holm_step(s: np.ndarray) -> np.ndarray:
    m = s.size
    return np.maximum.accumulate(np.minimum(s * (m - np.arange(m)), 1.0))


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
    return _adjust_sorted(p, _bh_step)


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
    return _adjust_sorted(p, _holm_step)


def adjust(p, method: str) -> np.ndarray:
    """Dispatch to :func:`bh_adjust` (``"bh"``) or :func:`holm_adjust` (``"holm"``)."""
    methods = {"bh": bh_adjust, "fdr_bh": bh_adjust, "holm": holm_adjust}
    try:
        return methods[method.lower()](p)
    except KeyError:
        raise UnknownNameError("correction", method, ["bh", "holm"]) from None
