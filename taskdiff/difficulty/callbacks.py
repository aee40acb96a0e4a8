"""The ``TrainerCallback`` classes of the difficulty budget (:mod:`~taskdiff.difficulty.budget`).

* :class:`CurveCallback` - held-out label units at fractions of the optimisation steps
  (the learning curve; saved for resumption);
* :class:`EpochPassCallback` - ``dynamics_mode="epoch_end"``: one inference pass over the
  training set per epoch, fed to the recorder;
* :class:`ConvergenceCallback` - held-out units after every epoch; stops training when
  they stop improving.

Module-level, so they can be subclassed. This module imports transformers:
:func:`taskdiff.difficulty.recording.callbacks` imports it when a budget run trains.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from transformers import TrainerCallback

from taskdiff.difficulty.maths import v_entropy

__all__ = ["ConvergenceCallback", "CurveCallback", "EpochPassCallback"]


class CurveCallback(TrainerCallback):
    """Held-out units at fractions of the optimisation steps (saved for resumption)."""

    def __init__(self, fractions, evaluate, path: Path):
        self.fractions, self.evaluate, self.path = tuple(fractions), evaluate, Path(path)
        self.points: dict[float, dict] = {}
        self.targets: dict[int, list[float]] = {}
        self.final_units = None

    def on_train_begin(self, args, state, control, **kw):
        total = max(int(state.max_steps), 1)
        self.targets = {}
        for f in self.fractions:
            self.targets.setdefault(max(1, int(round(f * total))), []).append(f)
        if self.path.exists():
            self.points = {float(p["fraction"]): p for p in json.loads(self.path.read_text())}

    def on_step_end(self, args, state, control, model=None, **kw):
        fractions = self.targets.get(int(state.global_step))
        if not fractions:
            return
        units = self.evaluate(model)
        model.train()
        for f in fractions:
            self.points[f] = {"fraction": f, "step": int(state.global_step),
                              "cross_entropy_bits": v_entropy(units["prob"]),
                              "accuracy": float(np.mean(units["correct"]))}
        if max(self.fractions) in fractions:
            self.final_units = units
        self.path.write_text(json.dumps(sorted(self.points.values(), key=lambda p: p["fraction"])))


class EpochPassCallback(TrainerCallback):
    """``dynamics_mode="epoch_end"``: one inference pass over the training set per epoch."""

    def __init__(self, recorder, evaluate):
        self.recorder, self.evaluate = recorder, evaluate

    def on_epoch_end(self, args, state, control, model=None, **kw):
        units = self.evaluate(model)
        model.train()
        self.recorder.pending = units.get("logits")
        self.recorder.record(int(round(state.epoch)) - 1, units["example"], units["prob"], units["correct"])


class ConvergenceCallback(TrainerCallback):
    """Held-out units after every epoch; stops training when they stop improving.

    The selection metric is the held-out cross-entropy in bits per label unit (what
    ``baseline_loss`` reports). Training stops after ``patience`` consecutive epochs
    whose value is not below the best so far by more than ``min_delta``, never before
    ``min_epochs``; the trainer's ``epochs`` is the bound. The final model is the last
    one trained (no checkpoint is restored), so the dynamics and the held-out values
    describe the same model. ``points`` is the per-epoch curve.
    """

    def __init__(self, evaluate, patience: int, min_epochs: int, min_delta: float):
        self.evaluate, self.patience = evaluate, int(patience)
        self.min_epochs, self.min_delta = int(min_epochs), float(min_delta)
        self.points: list[dict] = []
        self.final_units = None
        self.best, self.bad_epochs, self.stopped_early = float("inf"), 0, False

    def on_epoch_end(self, args, state, control, model=None, **kw):
        units = self.evaluate(model)
        model.train()
        bits = v_entropy(units["prob"])
        self.points.append({"epoch": len(self.points) + 1, "step": int(state.global_step),
                            "cross_entropy_bits": bits, "accuracy": float(np.mean(units["correct"]))})
        self.final_units = units
        if bits < self.best - self.min_delta:
            self.best, self.bad_epochs = min(bits, self.best), 0
        else:
            self.best, self.bad_epochs = min(bits, self.best), self.bad_epochs + 1
        if self.bad_epochs >= self.patience and len(self.points) >= self.min_epochs:
            self.stopped_early = True
            control.should_training_stop = True

    def curve(self) -> list[dict]:
        """The per-epoch points with ``fraction`` = step / last step (the final model at 1)."""
        last = max(self.points[-1]["step"], 1) if self.points else 1
        return [{**p, "fraction": p["step"] / last} for p in self.points]
