"""Killing a training run with SIGKILL and rerunning it ends with the uninterrupted metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import sys
from taskdiff.transfer.phases import Workspace
from taskdiff.study.transfer import TransferRequest, run_transfer
from taskdiff.transfer.store import RunStore
from taskdiff.transfer.training import TrainConfig
cfg = TrainConfig(learning_rate=5e-4, epochs=4, batch_size=4, precision="fp32")
req = TransferRequest(model="tiny", intermediates=["snli"], targets=["xnli"], languages=["de"], seeds=[7],
                      intermediate_train=cfg, target_train=cfg)
run_transfer(req, Workspace(RunStore(sys.argv[1]), sys.argv[2], 48, progress=False), sys.argv[3])
"""


def _run(store: Path, data: Path, out: Path, kill_when=None, home=None) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TASKDIFF_HOME": str(home or store)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(store), str(data), str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_when is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        return proc
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not kill_when():
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc


def _checkpoints(store: Path) -> list[Path]:
    return list(store.glob("runs/*/checkpoints/checkpoint-*/trainer_state.json"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=48, n_eval=24)


@pytest.mark.slow
def test_sigkill_during_training_resumes_to_identical_metrics(tmp_path, data):
    home = tmp_path / "home"  # shared model cache (tiny) for both stores
    _run(tmp_path / "clean", data, tmp_path / "out_clean", home=home)
    # kill once a checkpoint exists (mid-training), then once more later, then finish
    _run(tmp_path / "killed", data, tmp_path / "o1", kill_when=lambda: len(_checkpoints(tmp_path / "killed")) >= 1,
         home=home)
    assert not (tmp_path / "o1" / "gains.csv").exists()
    _run(tmp_path / "killed", data, tmp_path / "o2", kill_when=lambda: len(_checkpoints(tmp_path / "killed")) >= 3,
         home=home)
    _run(tmp_path / "killed", data, tmp_path / "out_killed", home=home)
    clean = (tmp_path / "out_clean" / "scores.csv").read_text().splitlines()
    killed = (tmp_path / "out_killed" / "scores.csv").read_text().splitlines()
    strip = lambda lines: [",".join(l.split(",")[:6]) for l in lines]  # noqa: E731 (drop run ids: stores differ)
    assert strip(killed) == strip(clean)


def test_failed_run_leaves_error_and_no_done(tmp_path, data, monkeypatch):
    from taskdiff.errors import NumericalError
    from taskdiff.transfer import training
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.training import TrainConfig

    original = training._trainer_class

    def nan_trainer():
        cls = original()

        class NaNTrainer(cls):
            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                inputs = dict(inputs)
                inputs["labels"] = inputs["labels"]
                for p in model.parameters():
                    p.data.fill_(float("nan"))
                    break
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

        return NaNTrainer

    monkeypatch.setattr(training, "_trainer_class", nan_trainer)
    store = RunStore(tmp_path / "s")
    req = TransferRequest(model="tiny", intermediates=["snli"], targets=["xnli"], languages=["de"], seeds=[1],
                          intermediate_train=TrainConfig(epochs=1, precision="fp32"))
    with pytest.raises(NumericalError, match="loss is nan"):
        run_transfer(req, Workspace(store, data, 16, progress=False), tmp_path / "o")
    runs = store.list_runs()
    assert len(runs) == 1 and store.state(runs[0]) == "failed"
    err = json.loads((store.run_dir(runs[0]) / "ERROR.json").read_text())
    assert err["type"] == "NumericalError"
