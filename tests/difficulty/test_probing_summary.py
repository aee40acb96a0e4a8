"""Group scores of the probing summary: known answers for ``groups`` and ``headroom``."""

import numpy as np
import pytest

from taskdiff.difficulty.probing.suites import Probe, ProbeSuite
from taskdiff.difficulty.probing.summary import summarise
from taskdiff.errors import ConfigError, UnknownNameError

#: probe -> (suite group, majority, base accuracy, trained accuracy) at the one layer.
TABLE = {
    "upos": ("syntactic", 0.30, 1.00, 0.98),          # at ceiling: can only fall
    "tree_depth": ("syntactic", 0.40, 0.80, 0.86),    # +0.06
    "tense": ("semantic", 0.50, 0.90, 0.94),          # +0.04 (morphosyntax in an agreement language)
    "subj_monotonicity": ("semantic", 0.50, 0.70, 0.80),  # +0.10
    "odd_one_out": ("semantic", 0.50, 0.52, 0.40),    # at chance: noise
}


def _suite():
    probes = [Probe(name, group, "sentence", [["a", name]], np.array(["x"]), np.array([0]))
              for name, (group, *_) in TABLE.items()]
    return ProbeSuite.from_probes(probes)


def _results():
    rows = {"base": [], "trained": []}
    for name, (group, majority, base, trained) in TABLE.items():
        for key, acc in (("base", base), ("trained", trained)):
            rows[key].append({"probe": name, "layer": 0, "accuracy": acc, "majority_accuracy": majority})
    return rows


def test_default_groups_average_every_probe():
    out = summarise(_suite(), _results(), [0])
    assert out["syntactic"] == pytest.approx((-0.02 + 0.06) / 2)
    assert out["semantic"] == pytest.approx((0.04 + 0.10 - 0.12) / 3)
    assert out["excluded"] == {} and out["headroom"] is None


def test_groups_override_moves_a_probe_between_groups():
    out = summarise(_suite(), _results(), [0], groups={"tense": "syntactic"})
    assert out["syntactic"] == pytest.approx((-0.02 + 0.06 + 0.04) / 3)
    assert out["semantic"] == pytest.approx((0.10 - 0.12) / 2)
    assert out["per_probe"]["tense"]["group"] == "syntactic"
    assert out["group_probes"]["syntactic"] == ["upos", "tree_depth", "tense"]


def test_headroom_keeps_probes_between_chance_plus_margin_and_ceiling():
    out = summarise(_suite(), _results(), [0], groups={"tense": "syntactic"}, headroom=(0.1, 0.95))
    assert set(out["excluded"]) == {"upos", "odd_one_out"}
    assert "ceiling" in out["excluded"]["upos"] and "majority" in out["excluded"]["odd_one_out"]
    assert out["syntactic"] == pytest.approx((0.06 + 0.04) / 2)
    assert out["semantic"] == pytest.approx(0.10)
    # per-probe values are kept for the left-out probes
    assert out["per_probe"]["upos"]["delta"]["accuracy"] == pytest.approx(-0.02)
    assert out["base"]["semantic_accuracy"] == pytest.approx(0.70)


def test_settings_errors_name_what_was_expected():
    with pytest.raises(UnknownNameError, match="did you mean 'tense'"):
        summarise(_suite(), _results(), [0], groups={"tens": "syntactic"})
    with pytest.raises(ConfigError, match="one of"):
        summarise(_suite(), _results(), [0], groups={"tense": "morphology"})
    with pytest.raises(ConfigError, match="margin"):
        summarise(_suite(), _results(), [0], headroom=0.95)
    with pytest.raises(ConfigError, match="ceiling <= 1"):
        summarise(_suite(), _results(), [0], headroom=(0.1, 1.5))
