"""Pieces shared by the CLI modules: one-line errors, option parsing, logging set-up.

Imports only typer and :mod:`taskdiff.errors` at module level, so that every CLI module can
use it without import cycles.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Optional

import typer

from taskdiff.errors import TaskdiffError


def split_list(value: Optional[str]) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None or empty -> None."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def int_list(value: str, option: str) -> list[int]:
    """Comma-separated integers; a one-line ConfigError names the option otherwise."""
    items = split_list(value) or []
    bad = [v for v in items if not v.lstrip("-").isdigit()]
    if bad:
        from taskdiff.errors import ConfigError

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


#: Loggers whose notes repeat per task and run (split plans, carved splits); kept in every run's
#: metrics and shown with --verbose only.
NOISY_LOGGERS = ("taskdiff.transfer.data", "taskdiff.transfer.phases")

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
    from taskdiff.transfer.tasks import register_task_file

    for f in task_files or []:
        register_task_file(f)


def quiet_libraries(verbose: bool = False) -> None:
    """Silence transformers' and datasets' own progress bars and notices (ours remain)."""
    if verbose:
        return
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def _task_names() -> set[str]:
    from taskdiff.transfer.tasks import list_tasks

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


def show_notes_for(tasks, verbose: bool = False) -> None:
    """Data notes (carved splits, fallbacks) of ``tasks`` once each; other tasks' stay quiet.

    With ``--verbose`` every note is shown (nothing to do here).
    """
    if verbose:
        return
    notes = _TaskNotes(tasks)
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        for f in [f for f in logger.filters if isinstance(f, _TaskNotes)]:
            logger.removeFilter(f)
        logger.addFilter(notes)
