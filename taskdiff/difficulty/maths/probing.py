"""Control tasks and selectivity for probes (Hewitt and Liang 2019).

A control task keeps the probe's output space and the word-level structure of the real
task but replaces what the representation should encode by memorisable noise: every word
*type* :math:`v` gets one label :math:`C(v) \\sim \\hat p(Y)`, drawn once from the empirical
label distribution of the real task, and every token of that type carries :math:`C(v)`.
A probe that reaches high accuracy on the control task can memorise word identities, so
its task accuracy says little about the representation.

.. math::

    \\text{selectivity} = \\text{acc}_{task} - \\text{acc}_{control}

References
----------
Hewitt and Liang (2019), "Designing and Interpreting Probes with Control Tasks", EMNLP.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from taskdiff.errors import ConfigError


def _distribution(label_distribution) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, probabilities)`` from a mapping or from a sample of labels."""
    if isinstance(label_distribution, Mapping):
        classes = np.array(list(label_distribution.keys()))
        probs = np.array(list(label_distribution.values()), dtype=np.float64)
        order = np.argsort(classes, kind="stable")
        classes, probs = classes[order], probs[order]
    else:
        classes, counts = np.unique(np.asarray(label_distribution), return_counts=True)
        probs = counts.astype(np.float64)
    if classes.size == 0 or np.any(probs < 0) or probs.sum() <= 0:
        raise ConfigError("label_distribution must hold at least one label with positive mass")
    return classes, probs / probs.sum()


def control_task_labels(word_types, label_distribution, seed: int = 0) -> np.ndarray:
    """Control-task label of each token: a fixed random label per word type.

    The types are sorted and :math:`C(v)` is drawn for each in that order with
    ``np.random.default_rng(seed)``, so the result depends only on the set of types, the
    distribution and the seed (not on token order).

    Parameters
    ----------
    word_types : array_like of str, shape (N,)
        Type of each token (e.g. the lower-cased word form).
    label_distribution : mapping or array_like
        ``{label: probability}``, or a sample of real-task labels whose empirical
        frequencies are used.
    seed : int

    Returns
    -------
    numpy.ndarray, shape (N,)
        Labels from the distribution's support, same dtype as its labels.
    """
    types, inverse = np.unique(np.asarray(word_types), return_inverse=True)
    classes, probs = _distribution(label_distribution)
    rng = np.random.default_rng(seed)
    per_type = classes[rng.choice(classes.size, size=types.size, p=probs)]
    return per_type[inverse.reshape(-1)]


def selectivity(task_acc, control_acc):
    """Selectivity :math:`\\text{acc}_{task} - \\text{acc}_{control}` (scalars or arrays)."""
    return np.asarray(task_acc, dtype=np.float64) - np.asarray(control_acc, dtype=np.float64)


def accuracy(y_true, y_pred) -> float:
    """Fraction of equal entries, :math:`\\frac1N \\sum_i [\\hat y_i = y_i]`."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"accuracy needs two non-empty arrays of equal shape, found "
                         f"{y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def majority_accuracy(y_train, y_test) -> float:
    """Accuracy on ``y_test`` of always predicting the most frequent label of ``y_train``.

    Ties go to the smallest label (``np.unique`` order).
    """
    classes, counts = np.unique(np.asarray(y_train), return_counts=True)
    return accuracy(y_test, np.full(len(y_test), classes[np.argmax(counts)]))


def chance_accuracy(label_distribution) -> float:
    """Expected accuracy of guessing from the distribution itself, :math:`\\sum_k p_k^2`."""
    _, probs = _distribution(label_distribution)
    return float(np.sum(probs**2))
