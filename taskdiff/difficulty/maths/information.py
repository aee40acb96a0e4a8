"""Label entropy, pointwise V-information (PVI) and V-usable information, in bits.

With :math:`g_x` a model of family :math:`\\mathcal V` trained on (input, label) pairs and
:math:`g_\\varnothing` the same model trained on empty inputs (Ethayarajh et al. 2022):

.. math::

    \\mathrm{PVI}(x \\to y) = -\\log_2 g_\\varnothing[\\varnothing](y) + \\log_2 g_x[x](y),
    \\qquad
    I_{\\mathcal V}(X \\to Y) = H_{\\mathcal V}(Y) - H_{\\mathcal V}(Y \\mid X)
    = \\frac1n \\sum_i \\mathrm{PVI}(x_i \\to y_i)

on held-out data. PVI on training data is inflated (the models saw those labels); a
negative PVI flags an example that the input makes *harder* to label, often a label error.

A model trained with log loss on empty inputs converges to the training label frequencies,
so :func:`prior_gold_probs` gives :math:`g_\\varnothing(y)` without training a second model
(an approximation; train it when the null model must match the family exactly).

Probabilities are clipped to :math:`[\\varepsilon, 1]` before the logarithm
(:math:`\\varepsilon = 10^{-12}` by default), which bounds one example's PVI to
:math:`\\pm\\log_2(1/\\varepsilon) \\approx \\pm 39.9` bits instead of :math:`\\pm\\infty`.

References
----------
Xu et al. (2020), "A Theory of Usable Information under Computational Constraints", ICLR.
Ethayarajh, Choi and Swayamdipta (2022), "Understanding Dataset Difficulty with
V-Usable Information", ICML.
"""

from __future__ import annotations

import numpy as np

from taskdiff.errors import ConfigError

DEFAULT_EPS = 1e-12


def label_distribution(labels) -> tuple[np.ndarray, np.ndarray]:
    """Empirical label distribution: ``(classes, frequencies)``, classes sorted.

    Parameters
    ----------
    labels : array_like, shape (N,)
        Any hashable, sortable labels (ints or strings).
    """
    classes, counts = np.unique(np.asarray(labels), return_counts=True)
    return classes, counts / counts.sum()


def label_entropy(labels) -> float:
    """Shannon entropy of the empirical label distribution in bits.

    :math:`H(Y) = -\\sum_k \\hat p_k \\log_2 \\hat p_k`, :math:`\\hat p_k = n_k / N`.
    ``0`` for a single class, :math:`\\log_2 K` for :math:`K` balanced classes.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("label_entropy needs at least one label")
    _, p = label_distribution(labels)
    return float(-np.sum(p * np.log2(p)) + 0.0)


def _clip(p, eps: float) -> np.ndarray:
    if not 0.0 < eps < 1.0:
        raise ConfigError(f"eps must be in (0, 1), found {eps}")
    p = np.asarray(p, dtype=np.float64)
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1 + 1e-9)):
        raise ValueError("probabilities must be finite and in [0, 1]")
    return np.clip(p, eps, 1.0)


def pvi(p_null_gold, p_x_gold, *, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Pointwise V-information of each example in bits.

    :math:`\\mathrm{PVI}_i = -\\log_2 g_\\varnothing(y_i) + \\log_2 g_x(y_i)`.

    Parameters
    ----------
    p_null_gold : array_like, shape (N,)
        Probability of the gold label under the null model (empty input).
    p_x_gold : array_like, shape (N,)
        Probability of the gold label under the model that sees the input.
    eps : float
        Both probabilities are clipped to ``[eps, 1]``.

    Returns
    -------
    numpy.ndarray, shape (N,)
    """
    p0, px = _clip(p_null_gold, eps), _clip(p_x_gold, eps)
    if p0.shape != px.shape:
        raise ValueError(f"p_null_gold {p0.shape} and p_x_gold {px.shape} differ in shape")
    return -np.log2(p0) + np.log2(px)


def v_information(pvi_values) -> float:
    """Dataset V-usable information in bits, the mean PVI:
    :math:`\\frac1n\\sum_i \\mathrm{PVI}_i`."""
    values = np.asarray(pvi_values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("v_information needs at least one PVI value")
    return float(np.mean(values))


def v_entropy(p_gold, *, eps: float = DEFAULT_EPS) -> float:
    """Predictive V-entropy estimate in bits, :math:`\\frac1n\\sum_i -\\log_2 g(y_i)`.

    With :math:`g = g_\\varnothing` this estimates :math:`H_{\\mathcal V}(Y)`; with
    :math:`g = g_x`, :math:`H_{\\mathcal V}(Y \\mid X)`.
    """
    return float(np.mean(-np.log2(_clip(p_gold, eps))))


def prior_gold_probs(train_labels, gold_labels, *, smoothing: float = 0.0) -> np.ndarray:
    """Null-model gold probabilities from the training label frequencies.

    :math:`g_\\varnothing(y) = (n_y + \\lambda) / (N + \\lambda K)` with :math:`n_y` the
    count of :math:`y` among ``train_labels``, :math:`K` the number of classes seen in
    training and :math:`\\lambda` = ``smoothing``. A gold label never seen in training gets
    :math:`\\lambda / (N + \\lambda K)` (0 without smoothing; :func:`pvi` then clips it).

    Returns
    -------
    numpy.ndarray, shape (len(gold_labels),)
    """
    if smoothing < 0:
        raise ConfigError(f"smoothing must be >= 0, found {smoothing}")
    classes, counts = np.unique(np.asarray(train_labels), return_counts=True)
    denom = counts.sum() + smoothing * len(classes)
    lookup = {c: (n + smoothing) / denom for c, n in zip(classes.tolist(), counts)}
    return np.array([lookup.get(g, smoothing / denom) for g in np.asarray(gold_labels).tolist()],
                    dtype=np.float64)
