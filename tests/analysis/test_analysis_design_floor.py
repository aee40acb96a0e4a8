"""The few-tasks floor shared by every task-level statistic (issue 14, item 4)."""

import math

import pytest

from taskdiff.analysis.design import inference_floor_message, min_tasks_for_inference


@pytest.mark.parametrize("alpha,n", [(0.05, 5), (0.1, 4), (0.01, 6), (0.001, 7), (0.5, 3)])
def test_floor_is_smallest_n_where_two_over_n_factorial_reaches_alpha(alpha, n):
    assert min_tasks_for_inference(alpha) == n
    assert 2 / math.factorial(n) <= alpha < 2 / math.factorial(n - 1)


def test_floor_message():
    assert inference_floor_message(5) is None
    msg = inference_floor_message(4)
    assert "2/4! = 0.0833" in msg and "at least 5" in msg
    with pytest.raises(ValueError):
        min_tasks_for_inference(0.0)
