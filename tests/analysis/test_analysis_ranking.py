"""NDCG@k, Regret@k, top-1 hit and the random baseline on hand-made rankings."""

from __future__ import annotations

import doctest
import itertools
import math

import numpy as np
import pytest

from taskdiff.analysis import ranking
from taskdiff.analysis.ranking import (ndcg_at_k, random_expectation, rank_order, regret_at_k,
                                       top1_hit)

# Classic example: relevance of six documents in the predicted order D1..D6.
REL = np.array([3, 2, 3, 0, 1, 2], dtype=float)
PRED = np.array([6, 5, 4, 3, 2, 1], dtype=float)


def test_ndcg_hand_example():
    dcg6 = 3 + 2 / math.log2(3) + 3 / 2 + 0 + 1 / math.log2(6) + 2 / math.log2(7)
    idcg6 = 3 + 3 / math.log2(3) + 2 / 2 + 2 / math.log2(5) + 1 / math.log2(6)
    assert ndcg_at_k(REL, PRED, 6) == pytest.approx(dcg6 / idcg6)
    assert ndcg_at_k(REL, PRED, 6) == pytest.approx(0.9608, abs=1e-4)
    dcg3 = 3 + 2 / math.log2(3) + 3 / 2
    idcg3 = 3 + 3 / math.log2(3) + 2 / 2
    assert ndcg_at_k(REL, PRED, 3) == pytest.approx(dcg3 / idcg3)


def test_ndcg_perfect_reversed_and_degenerate():
    rel = np.array([0.0, 1, 2, 3])
    assert ndcg_at_k(rel, rel, 2) == 1.0
    worst = (0 / 1 + 1 / math.log2(3)) / (3 + 2 / math.log2(3))
    assert ndcg_at_k(rel, -rel, 2) == pytest.approx(worst)
    assert ndcg_at_k(np.zeros(3), [1, 2, 3], 2) == 1.0
    assert ndcg_at_k(rel, rel, 10) == 1.0  # k clipped to n
    with pytest.raises(ValueError, match="non-negative"):
        ndcg_at_k([-1.0, 2.0], [1, 2], 1)


def test_regret_hand_example():
    scores = np.array([80.0, 82, 79, 85, 81])
    pred = np.array([5.0, 4, 3, 2, 1])  # ranks candidate 0 first, candidate 3 fourth
    assert regret_at_k(scores, pred, 1) == pytest.approx((85 - 80) / 85)
    assert regret_at_k(scores, pred, 3) == pytest.approx((85 - 82) / 85)
    assert regret_at_k(scores, pred, 4) == 0.0
    assert regret_at_k(scores, scores, 1) == 0.0
    with pytest.raises(ValueError, match="positive best"):
        regret_at_k([-1.0, -2.0], [1, 2], 1)


def test_top1_hit_with_ties_and_batches():
    assert top1_hit([1.0, 3.0, 2.0], [0.0, 1.0, 0.5]) == 1.0
    assert top1_hit([1.0, 3.0, 2.0], [0.0, 0.5, 1.0]) == 0.0
    assert top1_hit([3.0, 3.0, 2.0], [0.0, 1.0, 0.5]) == 1.0  # any truly best one counts
    batch = np.array([[0.0, 1.0, 0.5], [0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(top1_hit([1.0, 3.0, 2.0], batch), [1.0, 0.0])
    np.testing.assert_allclose(regret_at_k([1.0, 3.0, 2.0], batch, 1), [0.0, 1 / 3])


def test_rank_order_is_stable_and_puts_nan_last():
    np.testing.assert_array_equal(rank_order([1.0, np.nan, 1.0, 2.0]), [3, 0, 2, 1])


def test_random_expectation_equals_enumeration():
    scores = np.array([70.0, 72, 75, 71, 74])
    perms = np.array(list(itertools.permutations(range(5))), dtype=float)
    rel = scores - scores.min()
    for k in (1, 2, 3):
        exp = random_expectation(scores, k)
        assert exp["ndcg"] == pytest.approx(ndcg_at_k(rel, perms, k).mean())
        assert exp["regret"] == pytest.approx(regret_at_k(scores, perms, k).mean())
        assert exp["top1"] == pytest.approx(top1_hit(scores, perms).mean()) == pytest.approx(0.2)
        assert exp["spearman"] == 0.0


def test_docstring_examples():
    assert doctest.testmod(ranking).failed == 0
