"""Ranking metrics for choosing an intermediate task, as pure array functions.

All functions compare a vector of *true* values over the n candidate intermediate tasks
(for one target) with a vector of *predicted* values (higher = better); ``predicted`` may
have leading batch dimensions ``(..., n)`` to score many rankings at once. Ties in the
prediction are broken by candidate order (a stable sort), so results are deterministic.

- :func:`ndcg_at_k`: normalised discounted cumulative gain of the top k (Järvelin &
  Kekäläinen 2002) with non-negative relevance.
- :func:`regret_at_k`: ``(O - M_k) / O`` with O the best true *score* among all candidates
  and M_k the best true score among the top k predicted (Poth et al. 2021). Scores, not
  gains: ``score = baseline_score + gain``.
- :func:`top1_hit`: 1 if the predicted best candidate is a truly best one.
- :func:`random_expectation`: the exact expected value of each metric under a uniformly
  random ranking (the "random" baseline).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["rank_order", "ndcg_at_k", "regret_at_k", "top1_hit", "random_expectation"]


def rank_order(predicted) -> np.ndarray:
    """Candidate indices from best to worst predicted (stable; NaN predictions last)."""
    p = np.asarray(predicted, dtype=float)
    return np.argsort(np.where(np.isnan(p), np.inf, -p), axis=-1, kind="stable")


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def ndcg_at_k(relevance, predicted, k: int) -> np.ndarray | float:
    """NDCG@k of the ranking induced by ``predicted``.

    Parameters
    ----------
    relevance : array_like of shape (n,)
        Non-negative true relevance of each candidate (e.g. score minus the worst score).
    predicted : array_like of shape (..., n)
        Predicted values; the ranking sorts them in decreasing order.
    k : int
        Cut-off (clipped to n).

    Returns
    -------
    float or ndarray
        ``DCG@k / IDCG@k`` in [0, 1]; 1.0 when every relevance is 0 (any order is ideal).

    Examples
    --------
    >>> ndcg_at_k([3, 2, 0], [0.9, 0.5, 0.1], k=2)
    1.0
    """
    rel = np.asarray(relevance, dtype=float)
    if (rel < 0).any():
        raise ValueError("relevance must be non-negative (shift scores by their minimum)")
    k = min(int(k), rel.shape[-1])
    disc = _discounts(k)
    order = rank_order(predicted)[..., :k]
    dcg = (rel[order] * disc).sum(axis=-1)
    idcg = (np.sort(rel)[::-1][:k] * disc).sum()
    out = dcg / idcg if idcg > 0 else np.ones_like(dcg)
    return float(out) if np.ndim(out) == 0 else out


def regret_at_k(scores, predicted, k: int) -> np.ndarray | float:
    """Relative regret of picking the best of the top-k predicted candidates.

    Parameters
    ----------
    scores : array_like of shape (n,)
        True target *scores* of each candidate (baseline + gain); the best must be > 0.
    predicted : array_like of shape (..., n)
        Predicted values (higher = better).
    k : int
        Number of candidates one would try.

    Returns
    -------
    float or ndarray
        ``(O - M_k) / O`` in [0, 1) for positive scores; 0 means the best candidate is
        among the top k.

    Examples
    --------
    >>> round(regret_at_k([80.0, 78.0, 70.0], [0.1, 0.9, 0.5], k=1), 4)
    0.025
    """
    s = np.asarray(scores, dtype=float)
    best = s.max()
    if not best > 0:
        raise ValueError(f"regret needs a positive best score, found {best}")
    k = min(int(k), s.shape[-1])
    mk = s[rank_order(predicted)[..., :k]].max(axis=-1)
    out = (best - mk) / best
    return float(out) if np.ndim(out) == 0 else out


def top1_hit(true, predicted) -> np.ndarray | float:
    """1.0 when the top predicted candidate has the best true value (ties count), else 0.0.

    Examples
    --------
    >>> top1_hit([1.0, 3.0, 2.0], [0.0, 1.0, 0.5])
    1.0
    """
    t = np.asarray(true, dtype=float)
    first = rank_order(predicted)[..., 0]
    out = (t[first] >= t.max()).astype(float)
    return float(out) if np.ndim(out) == 0 else out


def random_expectation(scores, k: int, *, relevance=None) -> dict[str, float]:
    """Exact expected metrics of a uniformly random ranking of the candidates.

    Parameters
    ----------
    scores : array_like of shape (n,)
        True scores (used for regret and top-1).
    k : int
        Cut-off.
    relevance : array_like, optional
        Relevance for NDCG (default: ``scores - min(scores)``).

    Returns
    -------
    dict
        ``spearman`` (0), ``ndcg`` = mean(rel) * sum of the first k discounts / IDCG@k,
        ``regret`` = sum_j P(max of a random k-subset is the j-th smallest) * regret_j,
        ``top1`` = (number of best candidates) / n.
    """
    s = np.sort(np.asarray(scores, dtype=float))
    n = s.size
    k = min(int(k), n)
    rel = np.asarray(s - s.min() if relevance is None else relevance, dtype=float)
    disc = _discounts(k)
    idcg = (np.sort(rel)[::-1][:k] * disc).sum()
    ndcg = rel.mean() * disc.sum() / idcg if idcg > 0 else 1.0
    total = math.comb(n, k)
    p_max = np.array([math.comb(j, k - 1) / total for j in range(n)])  # j = rank - 1
    regret = float((p_max * (s[-1] - s) / s[-1]).sum())
    top1 = float(np.isclose(s, s[-1]).sum() / n)
    return {"spearman": 0.0, "ndcg": float(ndcg), "regret": regret, "top1": top1}
