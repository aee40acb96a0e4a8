"""Pearson and Spearman correlation for regression tasks (STS-B), as GLUE reports them.

Both come from :mod:`scipy.stats` (``pearsonr``, ``spearmanr``: Spearman with average ranks
for ties) and are reported x 100 like the other metrics; the primary score is Pearson's r,
the first of the two numbers GLUE gives for STS-B.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ._checks import MetricInputError, check_same_length
from .registry import register_metric


def _finite(metric: str, values: Sequence, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise MetricInputError(f"{metric}: expected numbers as {what}, found {type(values[0]).__name__}") from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise MetricInputError(f"{metric}: expected finite numbers as {what}, found non-finite or nested values")
    return arr


@register_metric("pearson", primary="pearson")
def pearson_spearman(predictions: Sequence[float], references: Sequence[float]) -> dict[str, float]:
    """Pearson's r and Spearman's rho of predictions against gold scores, x 100.

    Parameters
    ----------
    predictions, references : sequence of float
        Predicted and gold scores, aligned by position.

    Returns
    -------
    dict
        ``{"pearson": 100 r, "spearman": 100 rho, "mse": mean squared error}`` (``mse`` in the
        squared units of the score, not scaled). A constant prediction or reference has no
        correlation: the correlations are then NaN.

    Raises
    ------
    MetricInputError
        Different lengths, fewer than two examples or non-finite values.
    """
    from scipy import stats

    n = check_same_length("pearson", predictions, references)
    if n < 2:
        raise MetricInputError(f"pearson: expected at least two examples, found {n}")
    p = _finite("pearson", predictions, "predictions")
    r = _finite("pearson", references, "references")
    mse = float(np.mean((p - r) ** 2))
    if np.ptp(p) == 0 or np.ptp(r) == 0:
        return {"pearson": math.nan, "spearman": math.nan, "mse": mse}
    return {"pearson": 100.0 * float(stats.pearsonr(p, r)[0]),
            "spearman": 100.0 * float(stats.spearmanr(p, r)[0]), "mse": mse}
