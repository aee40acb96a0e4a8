"""Log levels and library chatter: one place that quiets transformers / datasets and our notes.

* :func:`quiet_libraries` - transformers' and datasets' own progress bars and notices off
  (the CLI's ``setup`` and every study worker call it; ours remain).
* :func:`logger_levels` - a context manager that sets the level of some loggers and puts
  the previous levels back on exit (a study node quiets the data notes only while it runs).
* :data:`NOISY_LOGGERS` - the loggers whose notes repeat per task and run (split plans,
  carved splits); they are kept in every run's metrics and shown with ``--verbose`` only.

transformers is imported only inside :func:`quiet_libraries` (and only if installed).
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Iterable, Iterator

__all__ = ["NOISY_LOGGERS", "logger_levels", "quiet_libraries"]

#: Loggers whose notes repeat per task and run; kept in every run's metrics.
NOISY_LOGGERS = ("taskdiff.transfer.data", "taskdiff.transfer.phases")


def quiet_libraries(verbose: bool = False) -> None:
    """Silence transformers' and datasets' own progress bars and notices (ours remain).

    Sets ``TRANSFORMERS_VERBOSITY``, ``HF_DATASETS_DISABLE_PROGRESS_BARS`` and
    ``TOKENIZERS_PARALLELISM`` unless already set, and transformers' verbosity to errors.
    With ``verbose`` nothing is changed.
    """
    if verbose:
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
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
