"""taskdiff.logs: the one place that sets and restores library log levels."""

import logging
import os

import pytest

from taskdiff.logs import logger_levels, quiet_libraries, transformers_errors_only

transformers = pytest.importorskip("transformers")


def test_transformers_errors_only_restores_the_level():
    before = transformers.logging.get_verbosity()
    with transformers_errors_only():
        assert transformers.logging.get_verbosity() == logging.ERROR
    assert transformers.logging.get_verbosity() == before


def test_transformers_errors_only_restores_after_an_error():
    transformers.logging.set_verbosity_info()
    try:
        with pytest.raises(RuntimeError), transformers_errors_only():
            raise RuntimeError("load failed")
        assert transformers.logging.get_verbosity() == logging.INFO
    finally:
        transformers.logging.set_verbosity_warning()


def test_logger_levels_restores():
    lg = logging.getLogger("taskdiff.test_logs")
    lg.setLevel(logging.DEBUG)
    with logger_levels(["taskdiff.test_logs"], logging.ERROR):
        assert lg.level == logging.ERROR
    assert lg.level == logging.DEBUG


def test_quiet_libraries_reaches_an_imported_datasets(monkeypatch):
    datasets = pytest.importorskip("datasets")
    for var in ("TRANSFORMERS_VERBOSITY", "DATASETS_VERBOSITY", "HF_DATASETS_DISABLE_PROGRESS_BARS",
                "TOKENIZERS_PARALLELISM"):
        monkeypatch.delenv(var, raising=False)
    t_before, d_before = transformers.logging.get_verbosity(), datasets.logging.get_verbosity()
    bars = datasets.is_progress_bar_enabled()
    try:
        quiet_libraries(verbose=True)  # verbose: nothing changes
        assert "DATASETS_VERBOSITY" not in os.environ
        quiet_libraries()
        assert datasets.logging.get_verbosity() == logging.ERROR
        assert transformers.logging.get_verbosity() == logging.ERROR
        assert not datasets.is_progress_bar_enabled()
    finally:
        transformers.logging.set_verbosity(t_before)
        datasets.logging.set_verbosity(d_before)
        if bars:
            datasets.enable_progress_bars()
        transformers.utils.logging.enable_progress_bar()


def test_worker_processes_inherit_quiet_progress_bars(monkeypatch):
    """A spawned worker starts fresh: only the environment tells its transformers to stay quiet."""
    import subprocess
    import sys

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    try:
        quiet_libraries()
        code = "from transformers.utils import logging; print(logging.is_progress_bar_enabled())"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"
    finally:
        transformers.utils.logging.enable_progress_bar()
