"""Budget runs: the null-input model of classification formats trains its head only (and learns
the label prior); no epoch checkpoints are written."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from taskdiff.difficulty.base import MeasureContext
from taskdiff.difficulty.budget import Budget, budget_run, null_head_only, training_rows, held_out_rows


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    from taskdiff.testing.fixtures import make_fixture_data_dir

    data = make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=60, n_eval=30)
    return MeasureContext(data_dir=data, store=tmp_path_factory.mktemp("store"), progress=False)


def test_which_formats_train_the_head_only():
    assert null_head_only("pair_classification") and null_head_only("classification")
    assert null_head_only("multiple_choice")
    assert not null_head_only("tagging") and not null_head_only("extractive_qa")  # positional priors


def test_null_model_reaches_the_label_prior(context):
    import torch

    from taskdiff.transfer.tasks import get_task

    task = get_task("snli")
    budget = Budget(epochs=3, learning_rate=5e-2, batch_size=8, precision="fp32", max_train_examples=60,
                    max_held_out=30, warmup_ratio=0.0)
    torch.manual_seed(0)
    run = budget_run(task, "tiny", context, budget, inputs="null")
    assert run.metrics["inputs"] == "null"
    # known answer: cross-entropy (bits) of the held-out labels under the training label frequencies
    train = training_rows(task, context, budget)
    held, _, _ = held_out_rows(task, context, budget, [r["id"] for r in train])
    freq = Counter(r["label"] for r in train)
    prior_bits = -sum(math.log2(freq[r["label"]] / len(train)) for r in held) / len(held)
    assert run.metrics["cross_entropy_bits"] == pytest.approx(prior_bits, abs=0.05)
    from taskdiff.difficulty.budget import budget_spec

    spec, _, _ = budget_spec(task, "tiny", context, budget, "null")
    assert spec.config["budget"]["trains"] == "head"
    real_spec, _, _ = budget_spec(task, "tiny", context, budget, "real")
    assert "trains" not in real_spec.config["budget"]


def test_difficulty_runs_write_no_epoch_checkpoint(context, monkeypatch):
    """The budget run is short: it trains without epoch checkpoints (redone if interrupted)."""
    import taskdiff.transfer.training as training
    from taskdiff.transfer.tasks import get_task

    seen = []
    real = training.training_arguments
    monkeypatch.setattr(training, "training_arguments",
                        lambda *a, **k: seen.append(a[-1] if len(a) > 7 else k.get("checkpoints")) or real(*a, **k))
    budget = Budget(epochs=2, learning_rate=1e-3, batch_size=8, precision="fp32", max_train_examples=20,
                    max_held_out=10)
    run = budget_run(get_task("snli"), "tiny", context, budget, inputs="real")
    assert seen == [False]
    assert not list(run.path.rglob("checkpoint-*"))
