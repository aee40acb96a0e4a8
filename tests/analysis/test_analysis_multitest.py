"""Benjamini-Hochberg and Holm: a hand example and agreement with statsmodels."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from taskdiff.analysis import multitest
from taskdiff.analysis.multitest import adjust, bh_adjust, holm_adjust

# Hand example (m = 5), p sorted: 0.005, 0.011, 0.02, 0.04, 0.13
#   BH:   m p_(i) / i = 0.025, 0.0275, 0.0333.., 0.05, 0.13 -> running min from the top
#         = 0.025, 0.0275, 0.0333.., 0.05, 0.13
#   Holm: (m - i + 1) p_(i) = 0.025, 0.044, 0.06, 0.08, 0.13 -> running max = same
P = np.array([0.04, 0.005, 0.13, 0.011, 0.02])


def test_bh_hand_example():
    expect = np.array([0.05, 0.025, 0.13, 0.0275, 0.1 / 3])
    np.testing.assert_allclose(bh_adjust(P), expect)
    assert (bh_adjust(P) <= 0.05).sum() == 4


def test_bh_hand_example_with_step_up():
    # sorted 0.01, 0.04, 0.045 (m=3): 0.03, 0.06, 0.045 -> min from top: 0.03, 0.045, 0.045
    np.testing.assert_allclose(bh_adjust([0.045, 0.01, 0.04]), [0.045, 0.03, 0.045])


def test_holm_hand_example():
    expect = np.array([0.08, 0.025, 0.13, 0.044, 0.06])
    np.testing.assert_allclose(holm_adjust(P), expect)
    # step-down stops at the first non-rejection: running max
    np.testing.assert_allclose(holm_adjust([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_match_statsmodels(p):
    p = np.array(p)
    np.testing.assert_allclose(bh_adjust(p), multipletests(p, method="fdr_bh")[1], atol=1e-12)
    np.testing.assert_allclose(holm_adjust(p), multipletests(p, method="holm")[1], atol=1e-12)


def test_ties_shape_and_nan():
    p = np.array([[0.01, 0.01], [np.nan, 0.5]])
    out = bh_adjust(p)
    assert out.shape == (2, 2) and np.isnan(out[1, 0])
    np.testing.assert_allclose(out[~np.isnan(out)], multipletests([0.01, 0.01, 0.5],
                                                                  method="fdr_bh")[1])
    assert bh_adjust([]).size == 0


def test_invalid_p_and_unknown_method():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bh_adjust([0.5, 1.5])
    with pytest.raises(KeyError, match="unknown correction"):
        adjust([0.1], "bonferoni")


def test_docstring_examples():
    assert doctest.testmod(multitest).failed == 0
