"""Accuracy for classification, pair classification and multiple choice (XNLI, PAWS-X...)."""

from __future__ import annotations

from typing import Sequence

from ._checks import check_same_length
from .registry import register_metric


@register_metric("accuracy", primary="accuracy")
def accuracy(predictions: Sequence, references: Sequence) -> dict[str, float]:
    """Percentage of predictions equal to their reference label.

    Parameters
    ----------
    predictions, references : sequence
        Labels (str for classification formats, int choice index for multiple choice),
        aligned by position.

    Returns
    -------
    dict
        ``{"accuracy": 100 * correct / n}``.

    Raises
    ------
    MetricInputError
        If the lengths differ or both are empty.
    """
    n = check_same_length("accuracy", predictions, references)
    correct = sum(1 for p, r in zip(predictions, references) if p == r)
    return {"accuracy": 100.0 * correct / n}
