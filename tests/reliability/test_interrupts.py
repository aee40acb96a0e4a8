"""Kills during a checkpoint write: the half-written checkpoint is never resumed from.

``transformers.Trainer`` writes a checkpoint folder file by file (weights, optimizer,
scheduler, RNG state, ``trainer_state.json`` last) and picks the highest-numbered folder on
resume. A process killed in the middle leaves a folder without (a complete)
``trainer_state.json``; resuming from it would fail on every rerun. Protection under test:
:func:`taskdiff.transfer.phases._train` drops such folders before resuming, so the rerun
resumes from the last complete checkpoint and ends with the uninterrupted run's metrics.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import textwrap

import pytest

from .conftest import FAST, MAX_EXAMPLES, PYTHON, child_env, train_config


def _spec(ws, task, cfg):
    from taskdiff.transfer.phases import train_spec

    return train_spec("intermediate", ws, task, "base:tiny", 1, cfg)


def test_partial_checkpoint_left_by_a_kill_is_dropped_and_the_run_resumes(tmp_path, fixture_data, tiny_path,
                                                                          monkeypatch, caplog):
    from taskdiff.transfer import training
    from taskdiff.transfer.phases import Workspace, run_training
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task

    cfg = train_config().model_copy(update={"epochs": 2})
    task = get_task("snli")
    clean_ws = Workspace(RunStore(tmp_path / "clean"), fixture_data, MAX_EXAMPLES, progress=False)
    clean = run_training(clean_ws, _spec(clean_ws, task, cfg), task, tiny_path, cfg, keep="encoder")

    store = RunStore(tmp_path / "killed")
    ws = Workspace(store, fixture_data, MAX_EXAMPLES, progress=False)
    spec = _spec(ws, task, cfg)
    original = training._trainer_class

    def dies_in_epoch_2():
        class Dies(original()):
            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                if (self.state.epoch or 0.0) >= 1.0:
                    raise RuntimeError("killed")
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        return Dies

    with monkeypatch.context() as m:
        m.setattr(training, "_trainer_class", dies_in_epoch_2)
        with pytest.raises(RuntimeError, match="killed"):
            run_training(ws, spec, task, tiny_path, cfg, keep="encoder")
    checkpoints = store.run_dir(spec) / "checkpoints"
    (complete,) = checkpoints.iterdir()
    # what a kill during the next checkpoint write leaves: some files, no trainer_state.json
    partial = checkpoints / "checkpoint-999"
    partial.mkdir()
    (partial / "model.safetensors").write_bytes((complete / "model.safetensors").read_bytes()[:1000])
    # and a kill while trainer_state.json itself was being written
    truncated = checkpoints / "checkpoint-998"
    truncated.mkdir()
    (truncated / "trainer_state.json").write_text((complete / "trainer_state.json").read_text()[:40])

    # the phases logger itself: an in-process study run earlier in the session may have raised its level
    with caplog.at_level(logging.INFO, logger="taskdiff.transfer"), \
            caplog.at_level(logging.INFO, logger="taskdiff.transfer.phases"):
        resumed = run_training(ws, spec, task, tiny_path, cfg, keep="encoder")
    assert f"resuming from {complete}" in caplog.text
    assert "incomplete checkpoint" in caplog.text
    assert store.is_done(spec) and store.load_config(spec)["attempt"] == 2
    drop = ("train_seconds",)
    assert {k: v for k, v in resumed.metrics.items() if k not in drop} == \
        {k: v for k, v in clean.metrics.items() if k not in drop}


# A child that trains snli for 2 epochs; with KILL set it SIGKILLs itself in the middle of
# writing its second checkpoint (weights written, trainer_state.json not yet).
CHILD = textwrap.dedent("""
    import json, os, signal, sys
    from taskdiff.transfer.phases import Workspace, run_training, train_spec
    from taskdiff.transfer.models import resolve_model
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task
    from taskdiff.transfer.training import TrainConfig
    store, data, home, out, max_examples = sys.argv[1:6]
    if os.environ.get("KILL"):
        from transformers import Trainer
        original = Trainer._save_rng_state
        def save_rng_state(self, output_dir):
            if self.state.global_step > 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(self, output_dir)
        Trainer._save_rng_state = save_rng_state
    cfg = TrainConfig(**FAST).model_copy(update={"epochs": 2})
    ws = Workspace(RunStore(store), data, int(max_examples), progress=False)
    task = get_task("snli")
    result = run_training(ws, train_spec("intermediate", ws, task, "base:tiny", 1, cfg), task,
                          resolve_model("tiny", home), cfg, keep="encoder")
    metrics = {k: v for k, v in result.metrics.items() if k != "train_seconds"}
    open(out, "w").write(json.dumps(metrics, sort_keys=True))
""").replace("FAST", repr(FAST))


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_sigkill_during_checkpoint_write_then_rerun_gives_the_clean_metrics(tmp_path, fixture_data):
    def child(store, out, kill=False):
        env = child_env(**({"KILL": "1"} if kill else {}))
        return subprocess.run([PYTHON, "-c", CHILD, str(tmp_path / store), str(fixture_data), str(tmp_path / "home"),
                               str(tmp_path / out), str(MAX_EXAMPLES)], env=env, capture_output=True, text=True,
                              timeout=600)

    clean = child("clean", "clean.json")
    assert clean.returncode == 0, clean.stderr[-3000:]
    killed = child("killed", "never.json", kill=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    partial = [p for p in (tmp_path / "killed").glob("runs/*/checkpoints/checkpoint-*")
               if not (p / "trainer_state.json").exists()]
    assert partial, "the kill did not hit a checkpoint write"
    rerun = child("killed", "rerun.json")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert json.loads((tmp_path / "rerun.json").read_text()) == json.loads((tmp_path / "clean.json").read_text())
