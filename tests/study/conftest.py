"""Shared pieces of the study tests: fixture data, a tiny study config, the reference result.

The tiny study is ``model: tiny`` on project-made fixture data: one intermediate (snli),
two targets (xnli, trained; tatoeba, retrieval), German, two seeds, one epoch, 16
examples: 13 runs. The reference gains table comes from the in-process local executor
(once per session); the other executors must reproduce it exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TRAIN = {"learning_rate": 5.0e-4, "epochs": 1, "batch_size": 8, "precision": "fp32"}
TINY = {"name": "tiny", "model": "tiny", "intermediates": ["snli"], "targets": ["xnli", "tatoeba"],
        "languages": ["de"], "seeds": [1, 2], "intermediate_train": TRAIN, "target_train": TRAIN,
        "data_dir": "data", "max_examples": 16, "executor": {"workers": 0, "poll_s": 0.2}}


def child_env(**extra: str) -> dict[str, str]:
    """Environment of a child process: offline, quiet, this checkout first on the path."""
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "TRANSFORMERS_VERBOSITY": "error", "PYTHONPATH": path, **extra}


@pytest.fixture(scope="session")
def fixture_data(tmp_path_factory) -> Path:
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("studydata") / "data", n_train=32, n_eval=16,
                                 languages=("en", "de"))


def write_config(folder: Path, data: Path, **changes) -> Path:
    """A tiny study YAML in ``folder`` with ``folder/data`` linked to the fixture data."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "data").exists():
        shutil.copytree(data, folder / "data")
    cfg = {**TINY, **changes}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def reference(tmp_path_factory, fixture_data):
    """The tiny study run by the in-process local executor: (config, store, out, result)."""
    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study

    root = tmp_path_factory.mktemp("reference")
    config = write_config(root, fixture_data)
    study = load_study(config, out=root / "out", store=root / "store")
    result = run_study(study, workers=0, progress=False)
    assert result.ok, (result.schedule.failed, result.schedule.blocked)
    return config, root / "store", root / "out", result


def run_records(store: Path) -> dict[str, dict]:
    """run id -> {"attempt", "done_mtime"} of every run directory in a store."""
    out = {}
    for run in sorted((store / "runs").iterdir()):
        if not run.is_dir():
            continue
        cfg = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
        done = run / "DONE"
        out[run.name] = {"attempt": cfg.get("attempt"), "done_mtime": done.stat().st_mtime_ns if done.exists() else None}
    return out
