"""Log levels and library chatter: one place that quiets transformers / datasets and our notes.

* :func:`quiet_libraries` - transformers' and datasets' own progress bars and notices off
  (the CLI's ``setup`` and every study worker call it; ours remain).
* :func:`logger_levels` - a context manager that sets the level of some loggers and puts
  the previous levels back on exit (a study node quiets the data notes only while it runs).
* :func:`transformers_errors_only` - transformers' notices at errors inside a ``with`` block
  and restored after (loading a checkpoint whose head is fresh or dropped, an expected notice).
* :data:`NOISY_LOGGERS` - the loggers whose notes repeat per task and run (split plans,
  carved splits); they are kept in every run's metrics and shown with ``--verbose`` only.

transformers is imported only inside :func:`quiet_libraries` and :func:`transformers_errors_only`;
datasets is never imported here (its settings reach it through the environment, or directly
when it is already loaded).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Iterable, Iterator

__all__ = ["NOISY_LOGGERS", "logger_levels", "quiet_libraries", "transformers_errors_only"]

#: Loggers whose notes repeat per task and run; kept in every run's metrics.
NOISY_LOGGERS = ("taskdiff.transfer.data", "taskdiff.transfer.phases")


def quiet_libraries(verbose: bool = False) -> None:
    """Silence transformers' and datasets' own progress bars and notices (ours remain).

    Sets ``TRANSFORMERS_VERBOSITY``, ``DATASETS_VERBOSITY``, ``HF_DATASETS_DISABLE_PROGRESS_BARS``,
    ``HF_HUB_DISABLE_PROGRESS_BARS`` and ``TOKENIZERS_PARALLELISM`` unless already set (so
    worker processes, which start fresh, inherit them: without the hub's variable each worker
    prints transformers' "Loading weights" and "Writing model shards" bars for every run), and transformers' verbosity to errors
    (datasets' too if it is already imported: the environment reaches it only at import).
    With ``verbose`` nothing is changed.
    """
    if verbose:
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DATASETS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    datasets = sys.modules.get("datasets")
    if datasets is not None:
        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - transformers is a dependency
        return
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@contextlib.contextmanager
def logger_levels(names: Iterable[str], level: int) -> Iterator[None]:
    """Set the level of the loggers ``names`` inside the ``with`` block; restore them after.

    Parameters
    ----------
    names : iterable of str
        Logger names (e.g. :data:`NOISY_LOGGERS`).
    level : int
        A :mod:`logging` level (``logging.ERROR``).
    """
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, old in zip(loggers, before):
            lg.setLevel(old)


@contextlib.contextmanager
def transformers_errors_only() -> Iterator[None]:
    """transformers' log level at errors inside the ``with`` block; the previous level after.

    For loads whose notices are expected ("newly initialized" head, "unused weights" of a
    head that is dropped): they would repeat for every run and say nothing.
    """
    from transformers.utils import logging as hf_logging

    hf_logging.get_logger()  # configures transformers' root logger (its own default level) first
    with logger_levels(["transformers"], logging.ERROR):
        yield
