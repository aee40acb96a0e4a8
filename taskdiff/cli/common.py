"""Pieces shared by the CLI modules: one-line errors, option parsing, logging set-up.

Imports only typer, :mod:`taskdiff.errors` and :mod:`taskdiff.logs` at module level, so that every CLI module can
use it without import cycles.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path
from typing import Iterator, Optional

import typer

from taskdiff.errors import TaskdiffError
from taskdiff.logs import NOISY_LOGGERS, logger_levels, quiet_libraries
from taskdiff.errors import ConfigError
from taskdiff.transfer.tasks import list_tasks, register_task_file

__all__ = ["NOISY_LOGGERS", "friendly", "int_list", "quiet_libraries", "setup", "show_notes_for", "split_list"]


def split_list(value: Optional[str]) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None or empty -> None."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def int_list(value: str, option: str) -> list[int]:
    """Comma-separated integers; a one-line ConfigError names the option otherwise."""
    items = split_list(value) or []
    bad = [v for v in items if not v.lstrip("-").isdigit()]
    if bad:

        raise ConfigError(f"{option}: expected integers separated by commas, found {bad[0]!r}")
    return [int(v) for v in items]


def friendly(fn):
    """Print TaskdiffErrors as one line and exit 2; interruptions exit 130 (work is kept)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TaskdiffError as exc:
            typer.secho(f"taskdiff: error: {exc}", err=True, fg="red")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.secho("taskdiff: interrupted; finished runs are kept and a rerun resumes", err=True)
            raise typer.Exit(130) from None

    return wrapper


#: Help of the options every command shares (one wording everywhere; see docs/cli.md).
VERBOSE_HELP = "show library notes, data notes and the trainer's loss logs"
QUIET_HELP = "no progress lines (errors and the final summary are still printed)"


def setup(task_files: list[Path] | None, verbose: bool) -> None:
    """Logging, quiet libraries and notes, and the user's extra task files."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_libraries(verbose)
    if not verbose:
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)

    for f in task_files or []:
        register_task_file(f)


def _task_names() -> set[str]:

    return {t.name for t in list_tasks()}


class _TaskNotes(logging.Filter):
    """Pass each data note once, and only for the tasks a command was asked about."""

    def __init__(self, tasks):
        super().__init__()
        self.tasks, self.seen = set(tasks), set()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if not args or record.levelno > logging.WARNING:
            return True  # not a data note (those start with the task's name): e.g. a dropped checkpoint
        if str(args[0]) not in self.tasks:
            return str(args[0]) not in _task_names()  # another task's note: quiet
        key = record.getMessage()
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


@contextlib.contextmanager
def show_notes_for(tasks, verbose: bool = False) -> Iterator[None]:
    """Inside the ``with`` block: data notes (carved splits, fallbacks) of ``tasks`` once
    each; other tasks' stay quiet. The loggers' levels and filters are restored on exit.

    With ``--verbose`` every note is shown (nothing to do here).
    """
    if verbose:
        yield
        return
    notes = _TaskNotes(tasks)
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    with logger_levels(NOISY_LOGGERS, logging.WARNING):
        for logger in loggers:
            logger.addFilter(notes)
        try:
            yield
        finally:
            for logger in loggers:
                logger.removeFilter(notes)
