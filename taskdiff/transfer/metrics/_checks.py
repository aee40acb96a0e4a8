"""Input checks shared by the metric modules."""

from __future__ import annotations

from typing import Sized

from taskdiff.errors import TaskdiffError


class MetricInputError(TaskdiffError, ValueError):
    """Predictions and references (or embeddings) do not fit together."""


def check_same_length(metric: str, predictions: Sized, references: Sized,
                      what: str = "examples") -> int:
    """Return the common length of ``predictions`` and ``references``.

    Raises
    ------
    MetricInputError
        If the lengths differ or are zero.
    """
    n_pred, n_ref = len(predictions), len(references)
    if n_pred != n_ref:
        raise MetricInputError(
            f"{metric}: expected as many predictions as references, found {n_pred} "
            f"predictions and {n_ref} references ({what})")
    if n_pred == 0:
        raise MetricInputError(f"{metric}: expected at least one of the {what}, found none")
    return n_pred


def check_embedding_pair(x, y) -> None:
    """Raise MetricInputError unless ``x`` and ``y`` are non-empty 2-D and equally wide."""
    if x.shape[0] == 0 or y.shape[0] == 0:
        raise MetricInputError(f"expected non-empty embeddings, found {x.shape} and {y.shape}")
    if x.shape[1] != y.shape[1]:
        raise MetricInputError(
            f"expected embeddings of the same width, found {x.shape[1]} and {y.shape[1]}")
