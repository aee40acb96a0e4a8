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


# ----------------------------------------------------------------------------- the contrast
def _paired_rows(name, majority, n_sent, base_right, up, down, per_sentence=2):
    """Rows of one probe at layer 0 with per-example results: ``n_sent * per_sentence`` test
    examples, the base encoder right on the first ``base_right``; the trained one also right on
    ``up`` of the base's wrong ones and wrong on ``down`` of its right ones."""
    n = n_sent * per_sentence
    base = np.zeros(n, bool)
    base[:base_right] = True
    trained = base.copy()
    trained[:down] = False
    trained[base_right:base_right + up] = True
    sentences = tuple(i // per_sentence for i in range(n))
    return {key: {"probe": name, "layer": 0, "accuracy": float(arr.mean()), "majority_accuracy": majority,
                  "test_correct": "".join("1" if v else "0" for v in arr), "test_sentences": sentences}
            for key, arr in (("base", base), ("trained", trained))}


def _summarise(spec):
    """``spec``: probe -> (group, rows of _paired_rows)."""
    suite = ProbeSuite.from_probes([Probe(name, group, "sentence", [["a", name]], np.array(["x"]), np.array([0]))
                                    for name, (group, _) in spec.items()])
    results = {"base": [r["base"] for _, r in spec.values()], "trained": [r["trained"] for _, r in spec.values()]}
    return summarise(suite, results, [0])


def test_noise_sized_changes_give_an_undetermined_contrast_not_minus_one():
    # The SNLI case of issue 14: syntactic -0.010, semantic +0.001 (500 sentences x 2 examples).
    # Both are a few flips in each direction: the old ratio said -1.0, the difference is -0.011
    # and its interval covers 0, so the index is null with the reason.
    out = _summarise({"upos": ("syntactic", _paired_rows("upos", 0.3, 500, 800, up=30, down=40)),
                      "tense": ("semantic", _paired_rows("tense", 0.5, 500, 700, up=21, down=20))})
    assert out["syntactic"] == pytest.approx(-0.010) and out["semantic"] == pytest.approx(0.001)
    assert out["syntax_semantics_ratio"] == pytest.approx(-1.0)
    c = out["syntax_semantics"]
    assert c["difference"] == pytest.approx(-0.011) and c["sentence_bootstrap"] is True
    lo, hi = c["ci"]
    assert lo < 0 < hi and c["determined"] is False
    assert out["syntax_semantics_index"] is None and "undetermined" in out["syntax_semantics_note"]


def test_a_clear_syntactic_gain_is_determined_and_its_value_is_the_difference():
    # Three syntactic probes gain 0.10, 0.12, 0.08 (one-way flips), two semantic ones stay put.
    spec = {f"syn{i}": ("syntactic", _paired_rows(f"syn{i}", 0.3, 250, 250, up=up, down=0))
            for i, up in enumerate((50, 60, 40))}
    spec.update({f"sem{i}": ("semantic", _paired_rows(f"sem{i}", 0.5, 250, 300, up=5, down=5)) for i in range(2)})
    out = _summarise(spec)
    assert out["syntax_semantics_index"] == pytest.approx(0.10)
    lo, hi = out["syntax_semantics"]["ci"]
    assert 0 < lo < 0.10 < hi and out["syntax_semantics"]["determined"] is True
    assert out["syntax_semantics"]["n_probes"] == {"syntactic": 3, "semantic": 2}


def test_without_per_example_results_the_interval_resamples_probes_only():
    # Old fits (no test_correct): syntactic probes +0.10 and -0.10 disagree, so the probe
    # bootstrap alone covers 0; the note says the sentences were not resampled.
    out = summarise(_suite(), _results(), [0])
    c = out["syntax_semantics"]
    assert c["sentence_bootstrap"] is False and "probes only" in c["note"]
    assert c["difference"] == pytest.approx((-0.02 + 0.06) / 2 - (0.04 + 0.10 - 0.12) / 3)
    assert c["ci"][0] < 0 < c["ci"][1] and out["syntax_semantics_index"] is None


def test_contrast_interval_is_reproducible():
    spec = {"upos": ("syntactic", _paired_rows("upos", 0.3, 100, 100, up=10, down=8)),
            "tense": ("semantic", _paired_rows("tense", 0.5, 100, 100, up=8, down=10))}
    assert _summarise(spec)["syntax_semantics"] == _summarise(spec)["syntax_semantics"]
