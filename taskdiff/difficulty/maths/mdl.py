"""Minimum description length of labels given representations: the online code.

Order the :math:`N` examples and cut them at :math:`1 \\le t_1 < t_2 < \\dots < t_S = N`.
The first :math:`t_1` labels are sent with the uniform code; the labels of block
:math:`(t_i, t_{i+1}]` are sent with a probe :math:`p_{\\theta_i}` trained on the first
:math:`t_i` examples:

.. math::

    L^{online} = t_1 \\log_2 K - \\sum_{i=1}^{S-1} \\sum_{n=t_i+1}^{t_{i+1}}
    \\log_2 p_{\\theta_i}(y_n \\mid x_n), \\qquad
    L^{unif} = N \\log_2 K, \\qquad
    \\text{compression} = L^{unif} / L^{online}.

Default cut points are the paper's 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25, 50 and
100 % of the data. For small :math:`N` the cuts are rounded down, the first is at least 1,
and repeated cuts are merged.

A scikit-learn probe assigns probability 0 to a class absent from its training prefix,
which would cost infinite bits; the probe's distribution is therefore mixed with the
uniform one, :math:`(1 - \\lambda) p_\\theta + \\lambda / K` (``smoothing`` :math:`\\lambda`,
default :math:`10^{-3}`, at most :math:`\\log_2 \\frac{1}{1-\\lambda} \\approx 0.0014` bits
per example). A prefix with a single class is coded with its Laplace-smoothed label
frequencies instead of a probe.

References
----------
Voita and Titov (2020), "Information-Theoretic Probing with Minimum Description Length",
EMNLP. Rissanen (1984); Blier and Ollivier (2018), "The Description Length of Deep
Learning Models", NeurIPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from taskdiff.errors import ConfigError

DEFAULT_FRACTIONS = (0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.0625, 0.125, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class MDLResult:
    """Online code of one probe: lengths in bits, cut points and the bits of each block."""

    codelength: float
    uniform_codelength: float
    compression: float
    block_bits: np.ndarray  # (S - 1,) bits of blocks 2..S
    boundaries: np.ndarray  # (S,) cut points t_1..t_S
    num_classes: int


def online_code_blocks(n: int, fractions=DEFAULT_FRACTIONS) -> np.ndarray:
    """Cut points :math:`t_i = \\max(1, \\lfloor f_i N \\rfloor)`, deduplicated, last = N.

    Parameters
    ----------
    n : int
        Number of examples, >= 2.
    fractions : sequence of float
        Increasing values in (0, 1]; the last must be 1.

    Returns
    -------
    numpy.ndarray of int, shape (S,)
        Strictly increasing; block 1 is ``[0, t_1)``, block i+1 is ``[t_i, t_{i+1})``.
    """
    f = np.asarray(fractions, dtype=np.float64)
    if f.ndim != 1 or f.size < 2 or np.any(np.diff(f) <= 0) or f[0] <= 0 or f[-1] != 1.0:
        raise ConfigError(f"fractions must increase strictly within (0, 1] and end at 1.0, "
                          f"found {list(fractions)}")
    if n < 2:
        raise ValueError(f"the online code needs at least 2 examples, found {n}")
    cuts = np.maximum(1, np.floor(f * n + 1e-9).astype(np.int64))
    cuts[-1] = n
    return np.unique(cuts)


def uniform_codelength(n: int, num_classes: int) -> float:
    """:math:`N \\log_2 K` bits: every label sent with the uniform code."""
    return float(n * np.log2(num_classes))


def online_codelength(first_block_size: int, num_classes: int, block_bits) -> float:
    """:math:`t_1 \\log_2 K + \\sum_i \\text{bits}_i`, the online codelength in bits."""
    return float(first_block_size * np.log2(num_classes) + np.sum(np.asarray(block_bits, float)))


def compression(uniform: float, online: float) -> float:
    """:math:`L^{unif} / L^{online}`; 1 means the representation does not help."""
    return float(uniform / online) if online > 0 else float("inf")


def codelength_bits(proba, y) -> float:
    """Cross-entropy of integer labels in bits, :math:`-\\sum_n \\log_2 p_n(y_n)`.

    Parameters
    ----------
    proba : array_like, shape (M, K)
        Predicted distributions over the K classes.
    y : array_like of int, shape (M,)
    """
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    gold = p[np.arange(len(y)), y]
    with np.errstate(divide="ignore"):
        return float(-np.sum(np.log2(gold)))


def _block_proba(make_probe, x_train, y_train, x_block, k: int, smoothing: float) -> np.ndarray:
    """Distribution over the K classes for each row of ``x_block`` (see module docstring)."""
    present = np.unique(y_train)
    if present.size < 2:
        freq = (np.bincount(y_train, minlength=k) + 1.0) / (len(y_train) + k)
        return np.tile(freq, (len(x_block), 1))
    probe = make_probe().fit(x_train, y_train)
    proba = np.zeros((len(x_block), k))
    proba[:, np.asarray(probe.classes_, dtype=np.int64)] = probe.predict_proba(x_block)
    return (1.0 - smoothing) * proba + smoothing / k


def mdl_online_code(X, y, make_probe: Callable, fractions=DEFAULT_FRACTIONS, seed: int | None = 0,
                    *, num_classes: int | None = None, smoothing: float = 1e-3) -> MDLResult:
    """Online codelength of ``y`` given ``X`` with a probe retrained on every prefix.

    Parameters
    ----------
    X : array_like, shape (N, D)
    y : array_like, shape (N,)
        Labels of any sortable type; coded as indices into their sorted unique values.
    make_probe : callable
        ``make_probe()`` returns an unfitted classifier with ``fit(X, y)`` returning itself,
        ``predict_proba`` and ``classes_`` (e.g. :class:`LinearProbe`).
    fractions : sequence of float
        Cut points as fractions of N (see :func:`online_code_blocks`).
    seed : int or None
        Examples are visited in ``np.random.default_rng(seed).permutation(N)`` order;
        ``None`` keeps the given order.
    num_classes : int, optional
        K for the uniform code; default the number of distinct labels in ``y``.
    smoothing : float
        Weight :math:`\\lambda` of the uniform mixture in [0, 1).

    Returns
    -------
    MDLResult
    """
    x = np.asarray(X)
    classes, y_idx = np.unique(np.asarray(y), return_inverse=True)
    k = int(num_classes) if num_classes is not None else len(classes)
    if len(x) != len(y_idx) or k < max(2, len(classes)):
        raise ValueError(f"need len(X) == len(y) and at least 2 classes; found {len(x)} rows, "
                         f"{len(y_idx)} labels, K={k}")
    if not 0.0 <= smoothing < 1.0:
        raise ConfigError(f"smoothing must be in [0, 1), found {smoothing}")
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(x))
        x, y_idx = x[order], y_idx[order]
    cuts = online_code_blocks(len(x), fractions)
    bits = np.array([
        codelength_bits(_block_proba(make_probe, x[:a], y_idx[:a], x[a:b], k, smoothing),
                        y_idx[a:b])
        for a, b in zip(cuts[:-1], cuts[1:])
    ])
    online = online_codelength(int(cuts[0]), k, bits)
    uniform = uniform_codelength(len(x), k)
    return MDLResult(online, uniform, compression(uniform, online), bits, cuts, k)
