"""The ``transformers`` classes a phase trains with: the Trainer subclass and its callbacks.

* :class:`TransferTrainer` - ``Trainer`` with two hooks overridden: ``compute_loss`` (drops
  the bookkeeping column ``example_index``, stops on a NaN/inf loss, feeds the dynamics
  recorder from the very forward pass that trains) and ``evaluate`` (English model
  selection with the task's own metric);
* :class:`DynamicsCallback` - saves a :class:`~taskdiff.transfer.dynamics.DynamicsRecorder`
  with every checkpoint and reloads it on resume;
* :class:`TrainingProgress` - one bar (terminal) or a few plain lines (file) per training
  run, replacing the Trainer's own printer and bars; the log dicts go to the
  ``taskdiff.transfer.training`` logger at INFO.

All are module-level, so they can be subclassed. This module imports torch and
transformers: :mod:`taskdiff.transfer.training` imports it only when a phase trains.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from taskdiff.errors import NumericalError
from taskdiff.progress import INTERVAL, format_seconds, log, plain_lines, stderr_is_terminal

__all__ = ["DynamicsCallback", "TrainingProgress", "TransferTrainer", "training_progress"]


class TransferTrainer(Trainer):
    """``Trainer`` with the format's loss bookkeeping, dynamics and model selection."""

    def __init__(self, *args, task_format=None, recorder=None, selection_fn=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task_format, self.recorder, self.selection_fn = task_format, recorder, selection_fn
        self.model_accepts_loss_kwargs = False

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        index = inputs.pop("example_index", None)
        outputs = model(**inputs)
        loss = outputs["loss"]
        if not torch.isfinite(loss):
            raise NumericalError(
                f"loss is {loss.item()} at step {self.state.global_step} (epoch {self.state.epoch:.2f}); "
                "the last good checkpoint is kept - lower the learning rate or use fp32")
        if self.recorder is not None and model.training and self.recorder.mode == "forward" and index is not None:
            with torch.no_grad():
                epoch = math.floor(self.state.epoch or 0.0)
                self.recorder.record(epoch, index, self.task_format.gold_prob(outputs, inputs),
                                     self.task_format.correct(outputs, inputs))
        return (loss, outputs) if return_outputs else loss

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        if self.selection_fn is None:
            return {}
        scores = self.selection_fn(self.model)
        metrics = {f"{metric_key_prefix}_{k}": v for k, v in scores.items()}
        metrics["epoch"] = self.state.epoch
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


class DynamicsCallback(TrainerCallback):
    """Saves ``recorder`` into every checkpoint (``dynamics.npz``) and reloads it on resume."""

    def __init__(self, recorder):
        self.recorder = recorder

    def on_train_begin(self, args, state, control, **kw):
        last = get_last_checkpoint(args.output_dir) if Path(args.output_dir).exists() else None
        if last is not None and (Path(last) / "dynamics.npz").exists():
            self.recorder.load(Path(last) / "dynamics.npz")

    def on_save(self, args, state, control, **kw):
        ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if ckpt.exists():
            self.recorder.save(ckpt / "dynamics.npz")


def _n(count, noun: str) -> str:
    return f"{count:g} {noun}{'' if count == 1 else 's'}"


class TrainingProgress(TrainerCallback):
    """One bar (terminal) or a few plain lines (file) per training run.

    Parameters
    ----------
    label : str
        What the lines name (``intermediate snli seed 1``).
    interval : float
        Seconds between two plain lines.
    stream : file, optional
        Where lines go (default stderr; a given stream always gets plain lines).
    """

    def __init__(self, label: str, *, interval: float = INTERVAL, stream=None):
        self.label, self.interval, self.given_stream = label, interval, stream
        self.stream = stream or sys.stderr
        self.bar = None

    def _say(self, text: str) -> None:
        print(f"  {self.label}: {text}", file=self.stream, flush=True)

    def on_train_begin(self, args, state, control, **kwargs):
        self.t0 = self.last = time.monotonic()
        self.first = state.global_step
        self.total = state.max_steps
        if stderr_is_terminal() and self.given_stream is None and not plain_lines():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, initial=self.first, desc=self.label, unit="step", leave=False,
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
        elif time.monotonic() - self.last >= self.interval:
            self.last = time.monotonic()
            rate, eta = self._rate(step)
            self._say(f"step {step}/{self.total} ({step / max(self.total, 1):.0%}), {rate:.2f} steps/s, "
                      f"ETA {format_seconds(eta)}")

    def on_log(self, args, state, control, logs=None, **kwargs):
        log.info("%s: %s", self.label, logs)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        rate, _ = self._rate(state.global_step)
        self._say(f"training done, {_n(state.global_step, 'step')} in {format_seconds(time.monotonic() - self.t0)} "
                  f"({rate:.2f} steps/s)")


def training_progress(label: str, *, interval: float = INTERVAL, stream=None) -> TrainingProgress:
    """A :class:`TrainingProgress` for one run."""
    return TrainingProgress(label, interval=interval, stream=stream)
