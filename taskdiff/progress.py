"""What the CLI tells the user while it works: one progress line per run, and a final summary.

* :func:`training_progress` - a ``transformers`` callback that replaces the Trainer's own
  printer and bars: on a terminal one :mod:`tqdm` bar per run (rate and ETA), otherwise
  plain lines (start; every ``interval`` seconds step, rate and ETA; end). The Trainer's
  log dicts (``{'loss': ...}``) go to the ``taskdiff.transfer.training`` logger at INFO
  (shown with ``--verbose``), never to stdout.
* :class:`CountingStore` - a :class:`~taskdiff.transfer.store.RunStore` that counts the runs
  it trained and the runs it reused, for the summary line.
* :func:`summary_line` - ``done in 1m 12s: 3 runs trained, 2 reused from the store``.
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

__all__ = ["CountingStore", "format_seconds", "plain_lines", "plain_progress", "set_plain_lines", "run_label", "stderr_is_terminal",
           "summary_line", "training_progress"]

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


def _n(count, noun: str) -> str:
    return f"{count:g} {noun}{'' if count == 1 else 's'}"


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


def training_progress(label: str, *, interval: float = INTERVAL, stream=None):
    """A ``TrainerCallback``: one bar (terminal) or a few plain lines (file) per training run."""
    from transformers import TrainerCallback

    class TrainingProgress(TrainerCallback):
        def __init__(self):
            self.stream = stream or sys.stderr
            self.bar = None

        def _say(self, text: str) -> None:
            print(f"  {label}: {text}", file=self.stream, flush=True)

        def on_train_begin(self, args, state, control, **kwargs):
            self.t0 = self.last = time.monotonic()
            self.first = state.global_step
            self.total = state.max_steps
            if stderr_is_terminal() and stream is None and not plain_lines():
                from tqdm.auto import tqdm

                self.bar = tqdm(total=self.total, initial=self.first, desc=label, unit="step", leave=False,
                                file=self.stream, dynamic_ncols=True)
            else:
                resumed = f", resuming at step {self.first}" if self.first else ""
                self._say(f"training started, {_n(self.total, 'step')} ({_n(args.num_train_epochs, 'epoch')}){resumed}")

        def _rate(self, step: int) -> tuple[float, float]:
            elapsed = time.monotonic() - self.t0
            rate = (step - self.first) / elapsed if elapsed > 0 else 0.0
            eta = (self.total - step) / rate if rate > 0 else float("inf")
            return rate, eta

        def on_step_end(self, args, state, control, **kwargs):
            step = state.global_step
            if self.bar is not None:
                self.bar.update(step - self.bar.n)
            elif time.monotonic() - self.last >= interval:
                self.last = time.monotonic()
                rate, eta = self._rate(step)
                self._say(f"step {step}/{self.total} ({step / max(self.total, 1):.0%}), {rate:.2f} steps/s, "
                          f"ETA {format_seconds(eta)}")

        def on_log(self, args, state, control, logs=None, **kwargs):
            log.info("%s: %s", label, logs)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            rate, _ = self._rate(state.global_step)
            self._say(f"training done, {_n(state.global_step, 'step')} in {format_seconds(time.monotonic() - self.t0)} "
                      f"({rate:.2f} steps/s)")

    return TrainingProgress()


def _counting_store_class():
    from taskdiff.transfer.store import RunStore

    class CountingStore(RunStore):
        """A RunStore that counts runs trained (computed) and reused (found done), per kind."""

        def __init__(self, root=None):
            super().__init__(root)
            self.trained: dict[str, int] = {}
            self.reused: dict[str, int] = {}

        def get_or_run(self, spec, fn, **kwargs):
            result = super().get_or_run(spec, fn, **kwargs)
            counts = self.reused if result.hit else self.trained
            counts[spec.kind] = counts.get(spec.kind, 0) + 1
            return result

    return CountingStore


def CountingStore(root=None):  # noqa: N802 - a class made lazily, so importing this module needs no store
    """A :class:`~taskdiff.transfer.store.RunStore` that counts trained and reused runs."""
    return _counting_store_class()(root)


def summary_line(started: float, store=None, extra: str = "") -> str:
    """``done in 12.3s: 3 runs computed, 2 reused from the store`` (``started``: time.monotonic())."""
    text = f"done in {format_seconds(time.monotonic() - started)}"
    if store is not None and hasattr(store, "trained"):
        n_new, n_old = sum(store.trained.values()), sum(store.reused.values())
        text += f": {n_new} run{'s' if n_new != 1 else ''} computed, {n_old} reused from the store"
    return text + (f"; {extra}" if extra else "")
