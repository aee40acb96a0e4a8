"""Slow integration: profiles of SNLI and UD English POS with the offline e5 encoder on ../shared data.

Budgets are modest (128 training rows, 2 epochs; probes on 120 treebank sentences at three
layers: ``REAL_PARAMS`` in ``tests/difficulty/conftest.py``) so both profiles take a few
minutes on 2 CPU cores; the base encoder's probe fits and hidden states are computed once and
reused by the second task. The profiles are the session fixture ``real_profiles``, which
``tests/difficulty/test_cartography_real.py`` reads too. The numbers are a smoke test of the
plumbing on real data, not meaningful difficulty estimates.
"""

from __future__ import annotations

import math

import pytest

from taskdiff.difficulty import FLAT_KEYS, DifficultyProfile, format_profile_table

pytestmark = pytest.mark.slow


def test_profiles_of_snli_and_ud_en_pos_on_the_offline_encoder(real_profiles):
    print("profile seconds:", real_profiles["seconds"])
    profiles = {task: real_profiles[task] for task in ("snli", "ud_en_pos")}
    for task, profile in profiles.items():
        print(format_profile_table(profile))
        flat = profile.to_flat()
        assert tuple(flat) == FLAT_KEYS and flat["task"] == task
        probing = flat["probing"]
        for key in ("syntactic", "semantic", "selectivity", "mdl_compression"):
            assert probing[key] is not None and math.isfinite(probing[key]), (task, key, probing)
        contrast = profile.result("probing")["syntax_semantics"]  # null index = interval covers 0
        assert contrast["difference"] == pytest.approx(probing["syntactic"] - probing["semantic"])
        assert probing["syntax_semantics_index"] == (contrast["difference"] if contrast["determined"] else None)
        details = profile.result("probing")
        assert {"upos", "deprel", "tense", "subj_number"} <= set(details["per_probe"])
        assert details["layers"] == [0, 6, 12]
        upos = details["per_probe"]["upos"]
        assert upos["base"]["accuracy"] > 0.6  # a real encoder knows parts of speech
        for key in ("n_examples", "n_tokens", "baseline_loss", "normalized_baseline_loss", "v_information", "logme"):
            assert flat[key] is not None, (task, key)
        assert all(v is not None for v in flat["cartography"].values())
        assert DifficultyProfile.from_json(profile.to_json()) == profile
    # the base encoder was encoded and probed once, for the first task only
    assert profiles["ud_en_pos"].result("probing")["forward_batches"]["base"] == 0
    assert profiles["snli"].to_flat()["label_entropy"] == pytest.approx(math.log2(3), abs=0.05)
    assert profiles["snli"].result("size")["n_examples"] > 1000  # size counts the whole training set
