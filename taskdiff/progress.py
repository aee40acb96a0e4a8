"""What the CLI tells the user while it works: one progress line per run, and a final summary.

* :class:`taskdiff.transfer.trainer.TrainingProgress` (there, because it subclasses
  ``transformers.TrainerCallback``) replaces the Trainer's own printer and bars: on a
  terminal one :mod:`tqdm` bar per run (rate and ETA), otherwise plain lines (start; every
  ``interval`` seconds step, rate and ETA; end), with :func:`run_label` as its label and
  :func:`format_seconds` for times. The Trainer's log dicts (``{'loss': ...}``) go to the
  ``taskdiff.transfer.training`` logger at INFO (shown with ``--verbose``), never to stdout.
* :func:`summary_line` - ``done in 1m 12s: 3 runs trained, 2 reused from the store``, the
  counts read from a :class:`~taskdiff.transfer.store.CountingStore` (that store counts the
  runs it trained and the runs it reused).
* :func:`stderr_is_terminal` / :func:`set_plain_lines` - bars are written only to a
  terminal: when stderr is a file or pipe the CLI turns every bar off (``progress=False``)
  and asks for plain lines, which the training callback and ``profile_task`` then print.

The bars are tqdm (a well-kept library); the plain-line mode is written here because tqdm
has no line-per-interval mode for log files.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

log = logging.getLogger("taskdiff.transfer.training")

__all__ = ["format_seconds", "plain_lines", "plain_progress", "set_plain_lines", "run_label",
           "stderr_is_terminal", "summary_line"]

#: Seconds between two plain progress lines of one run.
INTERVAL = 30.0


def stderr_is_terminal() -> bool:
    """Whether stderr is an interactive terminal (bars) or a file / pipe (plain lines)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


_PLAIN = {"on": False}


def set_plain_lines(on: bool) -> None:
    """Ask for plain progress lines (the CLI does when stderr is a file: bars are off then)."""
    _PLAIN["on"] = bool(on)


def plain_lines() -> bool:
    """Whether plain progress lines were asked for (:func:`set_plain_lines`)."""
    return _PLAIN["on"]


def plain_progress() -> None:
    """Kept for callers: plain lines when stderr is not a terminal (the CLI turns the bars off)."""
    set_plain_lines(not stderr_is_terminal())


def format_seconds(seconds: float) -> str:
    """``75`` -> ``1m 15s``; ``4000`` -> ``1h 06m``; below a minute ``12.3s``."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(round(seconds)), 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m"


def run_label(output_dir: str | Path) -> str:
    """``intermediate snli seed 1`` from the run's ``config.json`` (the run folder above ``output_dir``)."""
    import json

    for folder in (Path(output_dir), Path(output_dir).parent):
        try:
            cfg = json.loads((folder / "config.json").read_text())
        except (OSError, ValueError):
            continue
        c = cfg.get("config", {})
        task = c.get("task")
        name = task.get("name") if isinstance(task, dict) else task
        parts = [str(cfg.get("kind", "run")), str(name or "")]
        if c.get("seed") is not None:
            parts.append(f"seed {c['seed']}")
        return " ".join(p for p in parts if p)
    return "training"


def summary_line(started: float, store=None, extra: str = "") -> str:
    """``done in 12.3s: 3 runs computed, 2 reused from the store`` (``started``: time.monotonic()).

    The counts are given when ``store`` counts its runs (``trained`` and ``reused``, as
    :class:`~taskdiff.transfer.store.CountingStore` does).
    """
    text = f"done in {format_seconds(time.monotonic() - started)}"
    if store is not None and hasattr(store, "trained"):
        n_new, n_old = sum(store.trained.values()), sum(store.reused.values())
        text += f": {n_new} run{'s' if n_new != 1 else ''} computed, {n_old} reused from the store"
    return text + (f"; {extra}" if extra else "")
