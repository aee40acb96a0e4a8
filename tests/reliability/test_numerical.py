"""Numerical faults: a NaN loss stops the run and keeps the last good checkpoint; an
analysis on too few intermediate tasks says so instead of printing a number.

Protections under test: the finite-loss check of ``TransferTrainer.compute_loss``, the run
store keeping ``checkpoints/`` of a failed run (and resuming from them), and the
effective-n checks of :mod:`taskdiff.analysis`.
"""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest

from taskdiff.errors import NumericalError

from .conftest import MAX_EXAMPLES, train_config


def _nan_in_second_epoch(monkeypatch):
    """Make the trainer's weights NaN at the first step of epoch 2 (after checkpoint 1 is written)."""
    from taskdiff.transfer import training

    original = training._trainer_class

    def poisoned():
        cls = original()

        class NaNInEpoch2(cls):
            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                if (self.state.epoch or 0.0) >= 1.0:
                    next(model.parameters()).data.fill_(float("nan"))
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

        return NaNInEpoch2

    monkeypatch.setattr(training, "_trainer_class", poisoned)


def test_nan_in_epoch_2_keeps_the_epoch_1_checkpoint_and_a_rerun_resumes(tmp_path, fixture_data, tiny_path,
                                                                         monkeypatch, caplog):
    from safetensors.torch import load_file

    from taskdiff.transfer.phases import Workspace, run_training, train_spec
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task

    cfg = train_config().model_copy(update={"epochs": 2})
    store = RunStore(tmp_path / "store")
    ws = Workspace(store, fixture_data, MAX_EXAMPLES, progress=False)
    task = get_task("snli")
    spec = train_spec("intermediate", ws, task, "base:tiny", 1, cfg)
    steps_per_epoch = math.ceil(len(ws.rows(task, "train", "en").rows) / cfg.batch_size)

    with monkeypatch.context() as m:
        _nan_in_second_epoch(m)
        with pytest.raises(NumericalError, match=r"loss is nan at step \d+ \(epoch 1\.00\).*last good checkpoint"):
            run_training(ws, spec, task, tiny_path, cfg, keep="encoder")
    run = store.run_dir(spec)
    assert store.state(spec) == "failed" and not (run / "DONE").exists() and not (run / "encoder").exists()
    assert json.loads((run / "ERROR.json").read_text())["type"] == "NumericalError"
    checkpoints = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert checkpoints == [f"checkpoint-{steps_per_epoch}"]  # epoch 1 only: nothing was saved after the NaN
    good = run / "checkpoints" / checkpoints[0]
    assert json.loads((good / "trainer_state.json").read_text())["epoch"] == 1.0
    weights = load_file(str(good / "model.safetensors"))
    assert weights and all(bool(t.isfinite().all()) for t in weights.values())

    with caplog.at_level(logging.INFO, logger="taskdiff.transfer.training"):
        result = run_training(ws, spec, task, tiny_path, cfg, keep="encoder")  # the fault is gone: resume
    assert f"resuming from {good}" in caplog.text
    assert not result.hit and store.is_done(spec)
    record = store.load_config(spec)
    assert record["attempt"] == 2 and record["previous_error"]["type"] == "NumericalError"


# --------------------------------------------------------------------------- analysis on too few points
def _two_task_study():
    from taskdiff.analysis.table import build_table

    rng = np.random.default_rng(0)
    rows = []
    for inter in ("taskA", "taskB"):
        for target in ("xnli", "panx"):
            for lang in ("de", "sw"):
                for seed in (1, 2):
                    base = 50.0
                    score = base + rng.normal()
                    rows.append(dict(intermediate=inter, target=target, language=lang, seed=seed, metric="accuracy",
                                     score=score, baseline_score=base, gain=score - base))
    gains = pd.DataFrame(rows)
    profiles = {t: {"task": t, "n_examples": n, "v_information": v, "baseline_loss": b}
                for t, n, v, b in (("taskA", 1000, 0.2, 1.1), ("taskB", 5000, 0.7, 0.4))}
    return gains, profiles, build_table(gains, profiles)


def test_regression_on_two_intermediate_tasks_is_refused_with_the_reason():
    from taskdiff.analysis.design import InsufficientDataError
    from taskdiff.analysis.regression import GainRegression

    _, _, table = _two_task_study()
    with pytest.raises(InsufficientDataError, match=r"at least 3 intermediate tasks.*found 2.*effective n"):
        GainRegression(["v_information"]).fit(table)


def test_correlation_on_two_intermediate_tasks_prints_no_number():
    from taskdiff.analysis.correlation import correlate

    _, _, table = _two_task_study()
    result = correlate(table, features=["v_information"], n_perm=99, n_boot=50)
    assert result.n_tasks == 2 and result.frame["estimate"].isna().all() and result.frame["p_value"].isna().all()
    summary = result.summary()
    assert "n = 2 intermediate tasks" in summary and not result.any_significant


def test_correlation_with_default_features_on_two_tasks_gives_a_message():
    from taskdiff.analysis.correlation import correlate
    from taskdiff.errors import TaskdiffError

    _, _, table = _two_task_study()
    with pytest.raises((TaskdiffError, ValueError), match="intermediate tasks"):
        correlate(table, n_perm=99, n_boot=50)


def test_report_on_two_intermediate_tasks_says_what_was_not_computed(tmp_path):
    from taskdiff.analysis.api import report

    gains, profiles, _ = _two_task_study()
    study = tmp_path / "study"
    (study / "profiles").mkdir(parents=True)
    gains.to_csv(study / "gains.csv", index=False)
    for name, prof in profiles.items():
        (study / "profiles" / f"{name}.json").write_text(json.dumps(prof))
    _, md = report(study, tmp_path / "out")
    text = md.read_text()
    assert "No correlation or regression is reported: with 2 intermediate task(s)" in text
    assert "at least 5 intermediate tasks are needed" in text
    assert "leave-one-task-out prediction needs at least 4 intermediate tasks, found 2" in text
