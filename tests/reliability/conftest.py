"""Shared pieces of the reliability tests: tiny data, one finished tiny study, helpers.

The finished study (snli -> xnli, German, one seed, the ``tiny`` model) is made once per
session; tests that change a store or a data folder work on copies of it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

N_TRAIN, N_EVAL, MAX_EXAMPLES = 16, 12, 12
# The same settings as the CLI flags in CLI_TRAIN below: a CLI rerun is a cache hit.
FAST = dict(learning_rate=5e-4, epochs=1, batch_size=8, precision="fp32")
CLI_TRAIN = ["--lr", "5e-4", "--epochs", "1", "--batch-size", "8", "--precision", "fp32"]
STUDY = dict(model="tiny", intermediates=["snli"], targets=["xnli"], languages=["de"], seeds=[1])


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: offline, quiet, this checkout first on the path."""
    repo = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "TRANSFORMERS_VERBOSITY": "error", "PYTHONPATH": path, **extra}


PYTHON = sys.executable


def train_config():
    from taskdiff.transfer.training import TrainConfig

    return TrainConfig(**FAST)


def study_request(**overrides):
    from taskdiff.study.transfer import TransferRequest

    cfg = train_config()
    return TransferRequest(**{**STUDY, "intermediate_train": cfg, "target_train": cfg, **overrides})


def snapshot(store_root: Path) -> dict[str, str]:
    """SHA-256 of every run's DONE, metrics.json and config.json (what 'untouched' means)."""
    out = {}
    for path in sorted(Path(store_root, "runs").glob("*/*")):
        if path.name in ("DONE", "metrics.json", "config.json"):
            out[path.relative_to(store_root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def attempts(store_root: Path) -> dict[str, int]:
    """Run id -> the ``attempt`` recorded in its config.json (1 = run exactly once)."""
    import json

    return {p.parent.name: json.loads(p.read_text())["attempt"]
            for p in sorted(Path(store_root, "runs").glob("*/config.json"))}


@dataclass
class Study:
    data: Path
    store: Path
    out: Path
    gains: object  # pandas.DataFrame

    def copy(self, dest: Path, *, data: bool = False) -> "Study":
        """A copy of the store (and of the data folder if ``data``) under ``dest``."""
        store = Path(shutil.copytree(self.store, dest / "store", symlinks=True))
        new_data = Path(shutil.copytree(self.data, dest / "data")) if data else self.data
        return Study(new_data, store, self.out, self.gains)


@pytest.fixture(scope="session")
def fixture_data(tmp_path_factory) -> Path:
    """Project-made miniature data in the real layouts (en, de, es, sw)."""
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("reliability-data"), n_train=N_TRAIN, n_eval=N_EVAL)


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory) -> str:
    """The ``tiny`` model, built once in a session home."""
    from taskdiff.transfer.models import resolve_model

    return resolve_model("tiny", tmp_path_factory.mktemp("reliability-home"))


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory, fixture_data) -> Study:
    """A finished tiny study (3 training runs, 2 evaluations); do not modify: copy it."""
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import run_transfer
    from taskdiff.transfer.store import RunStore

    root = tmp_path_factory.mktemp("reliability-study")
    ws = Workspace(RunStore(root / "store"), fixture_data, MAX_EXAMPLES, progress=False)
    gains = run_transfer(study_request(), ws, root / "out")
    return Study(fixture_data, root / "store", root / "out", gains)


def run_cli(*args):
    """``taskdiff ARGS`` in this process (typer's CliRunner); returns the click Result."""
    from typer.testing import CliRunner

    from taskdiff.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def assert_one_line_error(result, *patterns: str) -> str:
    """Exit status 2, no traceback, stderr exactly one ``taskdiff: error:`` line matching every pattern."""
    import re

    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("taskdiff: error: "), result.stderr
    for pattern in patterns:
        assert re.search(pattern, lines[0]), f"{pattern!r} not in {lines[0]!r}"
    return lines[0]
