"""Burn-in of the cartography measure: the first forward-mode epoch is the untrained model."""

from __future__ import annotations

import numpy as np
import pytest

from taskdiff.difficulty.cartography import Cartography
from taskdiff.difficulty.maths import assign_regions, dynamics_metrics
from taskdiff.errors import ConfigError


@pytest.mark.parametrize("mode, epochs, expected", [("forward", 3, 1), ("forward", 12, 1), ("forward", 2, 0),
                                                    ("epoch_end", 5, 0)])
def test_auto_skips_the_first_forward_epoch_only_when_two_remain(mode, epochs, expected):
    assert Cartography()._skip(mode, epochs) == expected


def test_explicit_skip_is_checked():
    assert Cartography(skip_epochs=2)._skip("epoch_end", 4) == 2
    with pytest.raises(ConfigError, match="skip_epochs"):
        Cartography(skip_epochs=3)._skip("forward", 3)


def test_learnt_in_the_first_epoch_is_easy_once_burn_in_is_dropped():
    """Gold probability 0.1 in the (untrained) first epoch, then 0.9 and 0.95: with the first
    epoch the example is 'ambiguous' (sd 0.39), without it 'easy' (sd 0.025, mean 0.925)."""
    probs = np.array([[0.1, 0.1], [0.9, 0.9], [0.95, 0.95]])
    correct = probs > 0.5
    skip = Cartography()._skip("forward", 3)
    full = dynamics_metrics(probs, correct)
    kept = dynamics_metrics(probs[skip:], correct[skip:])
    assert full.variability[0] == pytest.approx(np.std([0.1, 0.9, 0.95]))
    assert kept.variability[0] == pytest.approx(0.025)
    assert kept.confidence[0] == pytest.approx(0.925)
    assert list(assign_regions(full.confidence, full.variability)) == ["ambiguous", "ambiguous"]
    assert list(assign_regions(kept.confidence, kept.variability)) == ["easy", "easy"]
