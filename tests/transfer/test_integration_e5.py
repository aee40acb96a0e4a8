"""Slow integration: the offline encoder, SNLI -> XNLI, zero-shot on real ../shared data.

Cap: 400 examples per split (800 before; 318 s of the slow suite under load on 2026-12-05).
The check is unchanged, a one-sided binomial test against chance at 0.01; measured at 400 on
2026-12-06 (one thread): SNLI -> XNLI accuracy 46.5 / 48.25 / 43.25 % for de / es / sw on
n = 400 items, p = 3e-8 / 5e-10 / 2e-5 (the baseline without SNLI: 31-31.5 %), 272 s under
a load of 2-4.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import binomtest

from taskdiff.transfer.phases import Workspace
from taskdiff.study.transfer import TransferRequest, run_transfer
from taskdiff.transfer.store import RunStore
from taskdiff.transfer.training import TrainConfig

pytestmark = pytest.mark.slow


def test_snli_to_xnli_zero_shot_above_chance(shared_data, tmp_path):
    cfg = TrainConfig(learning_rate=5e-5, epochs=3, batch_size=16)
    req = TransferRequest(model="e5-small-offline", intermediates=["snli"], targets=["xnli"],
                          languages=["de", "es", "sw"], seeds=[1], intermediate_train=cfg, target_train=cfg)
    ws = Workspace(RunStore(tmp_path / "store"), shared_data, max_examples=400, progress=False)
    run_transfer(req, ws, tmp_path / "out")
    scores = pd.read_csv(tmp_path / "out" / "scores.csv")
    acc = scores[scores["metric"] == "accuracy"].set_index(["intermediate", "language"])["score"]
    n = int(scores["n"].iloc[0])
    for lang in ("de", "es", "sw"):
        # one-sided binomial test of the SNLI -> XNLI pipeline against chance (1/3) on n items
        p = binomtest(round(acc[("snli", lang)] * n / 100), n, 1 / 3, alternative="greater").pvalue
        assert p < 0.01, (lang, acc.to_dict(), p)
    assert {("none", lang) for lang in ("de", "es", "sw")} <= set(acc.index)  # the baseline was scored too
    gains = pd.read_csv(tmp_path / "out" / "gains.csv")
    assert set(gains["language"]) == {"de", "es", "sw"} and (gains["intermediate"] == "snli").all()
    # every evaluated language saw only ids never trained or selected on (the declared carve)
    assert (scores["n"] == scores["n"].iloc[0]).all() and scores["n"].iloc[0] <= 400
