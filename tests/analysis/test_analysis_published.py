"""Published X-STILTs figures (issue 18): the data file and the direction check."""

import pandas as pd
import pytest

from taskdiff.analysis.report.published import direction_check, published_xstilts

# XLM-R Large -> best X-STILTs per target, test sets; XTREME leaderboard as of 2020.
EXPECTED = {"xnli": (79.2, 80.0), "pawsx": (86.4, 87.9), "udpos": (73.8, 74.9),
            "panx": (65.4, 64.0), "xquad": (76.6, 78.7), "mlqa": (71.6, 72.4),
            "tydiqa": (65.1, 76.0)}


def test_published_figures_are_the_leaderboard_values():
    pub = published_xstilts()
    assert set(pub.index) == set(EXPECTED)
    for target, (base, best) in EXPECTED.items():
        assert (pub.at[target, "baseline"], pub.at[target, "best_xstilts"]) == (base, best)
        assert pub.at[target, "gain"] == pytest.approx(best - base)
    assert pub.at["panx", "gain"] < 0  # NER is the one target X-STILTs did not help
    assert set(pub["metric"]) == {"accuracy", "f1"}
    assert "2020" in pub.attrs["source"]


def test_direction_check_compares_signs_only_for_shared_targets():
    means = pd.DataFrame({"xnli": [1.5, -0.3], "panx": [0.2, 0.4], "mytask": [1.0, 2.0]},
                         index=["snli", "ud_en_pos"])
    out = direction_check(means, {"xnli": "accuracy", "panx": "f1", "mytask": "accuracy"})
    assert list(out.index) == ["xnli", "panx"]
    assert out.at["xnli", "study_best_intermediate"] == "snli"
    assert out.at["xnli", "study_best_gain"] == 1.5
    assert out.at["xnli", "study_mean_gain"] == pytest.approx(0.6)
    assert out.at["xnli", "same_direction"] == "yes"
    assert out.at["panx", "same_direction"] == "no"  # published -1.4, study best +0.4
    assert "another model's" in out.attrs["note"]
    out = direction_check(means[["xnli"]], {"xnli": "f1"})
    assert out.at["xnli", "same_direction"] == "metric differs"


def test_no_shared_target_gives_empty_frame():
    assert direction_check(pd.DataFrame({"mytask": [1.0]}, index=["a"]), {"mytask": "f1"}).empty
