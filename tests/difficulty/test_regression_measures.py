"""Every difficulty measure on the regression task (STS-B layout, project-made files, ``tiny``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taskdiff.difficulty import MeasureContext, get_measure
from taskdiff.difficulty.baseline_loss import Budget

BUDGET = Budget(epochs=3, learning_rate=1e-3, batch_size=8, precision="fp32", max_train_examples=24,
                max_held_out=12, curve_fractions=(0.5, 1.0))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    from taskdiff.testing.stsb_fixture import write_stsb

    root = tmp_path_factory.mktemp("reg")
    data = write_stsb(root / "data", n_train=24, n_dev=12)
    return MeasureContext(data_dir=data, store=root / "store", output_dir=root / "out")


def _train_scores(context):
    from taskdiff.difficulty.budget import training_rows
    from taskdiff.transfer.tasks import get_task

    return np.array([r["label"] for r in training_rows(get_task("stsb"), context, BUDGET)])


def test_size_reports_score_statistics(context):
    r = get_measure("size")(targets=[]).fit("stsb", "tiny", context).result_
    scores = np.array([float(line.split("\t")[-1]) for line in
                       (context.data_dir / "intermediate/stsb/train.tsv").read_text().splitlines()[1:]])
    assert r["n_examples"] == 24 and r["label_entropy"] is None and r["class_balance"] is None
    assert r["label_mean"] == pytest.approx(scores.mean()) and r["label_std"] == pytest.approx(scores.std())
    assert r["label_min"] == scores.min() and r["label_max"] == scores.max()


def test_baseline_loss_vinfo_cartography_on_regression(context):
    b = get_measure("baseline_loss")(budget=BUDGET).fit("stsb", "tiny", context).result_
    y = _train_scores(context)
    # normaliser: the training-mean predictor's bits, Var(y) / (2 ln 2) with sigma = 1
    assert b["normaliser_bits"] == pytest.approx(y.var() / (2 * math.log(2)))
    assert b["normalized_baseline_loss"] == pytest.approx(b["baseline_loss"] / b["normaliser_bits"])
    assert b["baseline_loss"] >= 0 and 0 <= b["held_out_accuracy"] <= 1
    v = get_measure("vinfo")(budget=BUDGET).fit("stsb", "tiny", context)
    assert v.result_["n_units"] == 12 and math.isfinite(v.result_["v_information"])
    assert v.result_["v_information"] == pytest.approx(
        v.result_["v_entropy_null"] - v.result_["v_entropy_input"], abs=1e-9)
    prior = get_measure("vinfo")(budget=BUDGET, null_model="prior").fit("stsb", "tiny", context)
    assert math.isfinite(prior.result_["v_information"])
    c = get_measure("cartography")(budget=BUDGET).fit("stsb", "tiny", context)
    assert c.result_["num_examples"] == 24 and 0 < c.result_["confidence_mean"] <= 1


def test_logme_uses_the_scores_as_a_regression_target(tmp_path, context, monkeypatch):
    import taskdiff.difficulty.logme_measure as lm

    seen = {}

    def spy(features, targets, **kw):
        seen["features"], seen["targets"] = np.asarray(features), np.asarray(targets)
        return -1.25

    monkeypatch.setattr(lm, "logme_regression", spy)
    ctx = MeasureContext(data_dir=context.data_dir, store=tmp_path / "store")
    m = get_measure("logme")(max_examples=24).fit("stsb", "tiny", ctx)
    assert m.result_["logme"] == -1.25 and m.result_["target"] == "regression" and m.result_["n_classes"] is None
    # the real-valued scores themselves are the target (not one-vs-rest indicators of score values)
    assert seen["targets"].dtype == np.float64 and seen["features"].shape == (24, 64)
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import get_task
    from taskdiff.difficulty.budget import cap_rows

    rows = cap_rows(load_role(get_task("stsb"), "train", "en", context.data_dir).rows, 24)
    assert seen["targets"].tolist() == [r["label"] for r in rows]
