"""The budgeted training runs of the difficulty measures (``difficulty_train`` in the store).

The base encoder gets the task's head and is fine-tuned for a fixed :class:`Budget` without
model selection. One run (per task, model, seed, budget and real / null inputs) records
everything the training measures read:

* the held-out label units of the final model and the learning curve (``baseline_loss``,
  ``vinfo``);
* the training dynamics of every example (``cartography``);
* with ``Budget.keep_encoder`` (default), the trained encoder, head dropped, as safetensors
  in ``encoder/`` (``probing`` with ``encoder="budget"``).

So under one budget a profile trains the task **once** for ``baseline_loss``, ``vinfo``
(plus its null-input model), ``cartography`` and ``probing``.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from taskdiff.difficulty.base import ENGLISH
from taskdiff.difficulty.maths import v_entropy
from taskdiff.difficulty.recording import (
    CapturingFormat,
    LogitRecorder,
    callbacks,
    feature_tokens,
    has_class_logits,
    label_units,
)
from taskdiff.provenance import task_ref
from taskdiff.transfer.formats import get_format
from taskdiff.provenance import data_fingerprint
from taskdiff.transfer.data import MissingDataError, id_hash
from taskdiff.transfer.evaluation import forward_outputs
from taskdiff.transfer.models import build_model, load_tokenizer, save_encoder
from taskdiff.transfer.phases import primary_key, task_labels
from taskdiff.transfer.precision import resolve_precision
from taskdiff.transfer.store import RunSpec
from taskdiff.transfer.training import TrainConfig, train_phase

log = logging.getLogger(__name__)
TRAIN_VERSION = 3  # 2: the trained encoder may be kept (``keep_encoder``); 3: may stop early (``patience``)
HELD_OUT_FILE, DYNAMICS_FILE, CURVE_FILE = "held_out.npz", "dynamics.npz", "curve.json"
#: Folder of a run's trained encoder (``Budget.keep_encoder``).
ENCODER_DIR = "encoder"


class Budget(BaseModel):
    """The fixed training budget of the difficulty runs (base encoder + task head).

    Two measures with equal budgets share one trained model. The defaults are 3 epochs on
    at most 1,000 rows at learning rate 5e-5, 500 held-out rows and curve points at half and
    all of the steps. Why: a profile should cost a small fraction of the transfer runs it
    predicts (``docs/performance.md`` §5), and tasks are compared at one budget, so the
    budget need not train a task to convergence, only far enough to tell tasks apart. Three
    epochs is the least that cartography needs: its forward-mode dynamics drop the first
    epoch (the untrained model, see :mod:`~taskdiff.difficulty.cartography`), and
    variability needs two epochs left (a 2-epoch budget would cost a third less). On SNLI with e5-small (one
    CPU thread) the former budget (3 epochs on at most 2,000 rows at 3e-5, 1,000 held out,
    3 curve points) took 106 s and reached a normalised loss of 0.70; this one took 76.5 CPU s
    in the final ``profile_vs_transfer`` run (its 2-epoch variant: 59 s, normalised loss 0.80). The learning rate was raised because the short schedule at 3e-5
    learnt little (0.94, held-out accuracy 0.52); 5e-5 is the top of the usual fine-tuning
    range (1e-4 reached 0.74 on e5-small but is risky for large encoders).

    **Training to convergence** (``patience``): with ``patience`` set, ``epochs`` is a
    maximum; the held-out rows are scored after every epoch and training stops once their
    cross-entropy (bits per label unit) has not fallen by more than ``min_delta`` for
    ``patience`` epochs, never before ``min_epochs``. The profile's default
    (:data:`PROFILE_BUDGET`: at most 10 epochs, patience 1, at least 3, 0.01 bits) uses it,
    because a fixed 3-epoch budget left real tasks far from converged (UD English POS with
    e5-small: every sentence "hard-to-learn"), which made the data maps and the probed
    encoder describe an arbitrary point of training. The curve is then one point per epoch
    (``fraction`` = its step over the last step); the run records ``epochs`` trained,
    ``max_epochs`` and ``stopped_early``. The stopping rule reads the same held-out rows
    that ``baseline_loss`` scores but keeps the last model (no best-checkpoint selection),
    so the reported loss is not the minimum over epochs. ``Budget()`` itself keeps the fixed
    3 epochs (``patience=None``) so that explicit budgets mean what they say.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    epochs: int = Field(3, ge=1, description="training epochs (cartography drops the first and needs >= 2 left)")
    max_train_examples: int | None = Field(1000, ge=2, description="cap on English training rows")
    max_held_out: int | None = Field(500, ge=1, description="cap on held-out rows")
    held_out_role: Literal["evaluation", "selection"] = Field(
        "evaluation", description="role of the held-out rows (English); the other one if missing")
    learning_rate: float = Field(5e-5, gt=0)
    batch_size: int = Field(16, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_length: int | None = Field(None, gt=8, description="default: the task's max_length")
    freeze_embeddings: bool = True
    group_by_length: bool = Field(True, description="length-grouped batches (faster; off when length predicts the label)")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    curve_fractions: tuple[float, ...] = Field((0.5, 1.0), description="points of the learning curve")
    dynamics_mode: Literal["forward", "epoch_end"] = "forward"
    keep_encoder: bool = Field(True, description="save the trained encoder in the run (probing reads it)")
    patience: int | None = Field(None, ge=1, description=(
        "stop when the held-out cross-entropy has not improved by min_delta for this many epochs "
        "(epochs is then the maximum); None: train exactly `epochs`"))
    min_epochs: int = Field(3, ge=1, description="never stop before this many epochs (cartography needs 3)")
    min_delta: float = Field(0.01, ge=0, description="least improvement of held-out bits per unit that counts")

    @field_validator("curve_fractions")
    @classmethod
    def _fractions(cls, v):
        v = tuple(float(f) for f in v)
        if not v or any(not 0 < f <= 1 for f in v) or list(v) != sorted(set(v)) or v[-1] != 1.0:
            raise ValueError("curve_fractions must increase strictly within (0, 1] and end at 1.0")
        return v

    def train_config(self):
        """The :class:`~taskdiff.transfer.training.TrainConfig` of the run (no model selection)."""

        return TrainConfig(learning_rate=self.learning_rate, epochs=self.epochs, warmup_ratio=self.warmup_ratio,
                           batch_size=self.batch_size, max_length=self.max_length,
                           freeze_embeddings=self.freeze_embeddings, precision=self.precision,
                           group_by_length=self.group_by_length, select_best=False, early_stopping_patience=None)


#: The profile's default budget: at most 10 epochs, stopped one epoch after the held-out
#: cross-entropy stops improving by 0.01 bits per unit, never before 3 epochs (see :class:`Budget`).
PROFILE_BUDGET = Budget(epochs=10, patience=1, min_epochs=3, min_delta=0.01)


def as_budget(budget) -> Budget:
    """A :class:`Budget` from a Budget, a dict of its fields, or None (:data:`PROFILE_BUDGET`)."""
    if budget is None:
        return PROFILE_BUDGET
    return budget if isinstance(budget, Budget) else Budget(**dict(budget))


class BudgetMixin:
    """For a :class:`~taskdiff.difficulty.base.Measure` with a ``budget`` setting (a
    :class:`Budget`, a dict of its fields or None): its key holds the budget in full."""

    def spec_params(self) -> dict:
        """The settings, with ``budget`` as the dump of :func:`as_budget` (defaults filled in)."""
        return {**self.get_params(), "budget": as_budget(self.budget).model_dump(mode="json")}

    def real_run(self, task, model: str, context, cost) -> tuple[Budget, "BudgetRun"]:
        """The measure's :class:`Budget` and its training run on the real inputs (:func:`budget_run`)."""
        budget = as_budget(self.budget)
        return budget, budget_run(task, model, context, budget, inputs="real", cost=cost)


# ----------------------------------------------------------------------------- rows
def cap_rows(rows: list[dict], n: int | None) -> list[dict]:
    """The first ``n`` ids in id-hash order (as ``--max-examples`` does), file order kept."""

    if n is None or len(rows) <= n:
        return rows
    keep = set(sorted((r["id"] for r in rows), key=id_hash)[:n])
    return [r for r in rows if r["id"] in keep]


def training_rows(task, context, budget: Budget) -> list[dict]:
    """English training rows under the context's cap and the budget's."""
    return cap_rows(context.rows(task, "train", ENGLISH).rows, budget.max_train_examples)


def _same_data(a, b) -> bool:
    """Whether two split plans read overlapping parts of the same split."""
    return a.split == b.split and a.lo < b.hi and b.lo < a.hi


def held_out_rows(task, context, budget: Budget, train_ids=()) -> tuple[list[dict], dict, list[str]]:
    """English held-out rows (the budget's role, else the other), never a training example.

    When the held-out role reads the split that training reads (a fallback without a
    carve rule), the training ids are left out of it. Returns ``(rows, split plan, notes)``.
    """

    roles = [budget.held_out_role] + [r for r in ("evaluation", "selection") if r != budget.held_out_role]
    train_plan = context.rows(task, "train", ENGLISH).plan
    problems = []
    for role in roles:
        try:
            data = context.rows(task, role, ENGLISH)
        except MissingDataError as exc:
            problems.append(str(exc))
            continue
        notes = [] if role == budget.held_out_role else [f"no {budget.held_out_role} rows: held out = {role}"]
        rows = data.rows
        if _same_data(data.plan, train_plan):
            train_ids = set(train_ids)
            rows = [r for r in data.rows if r["id"] not in train_ids]
            if len(rows) < len(data.rows):
                notes.append(f"{len(data.rows) - len(rows)} held-out rows are training rows: left out")
        if rows:
            return cap_rows(rows, budget.max_held_out), {**data.plan.as_dict(), "role": role}, notes
        problems.append(f"{role}: every row is also a training row")
    raise MissingDataError(f"task {task.name!r}: no English held-out rows ({'; '.join(problems)})")


# ----------------------------------------------------------------------------- the run
@dataclass
class BudgetRun:
    """A finished ``difficulty_train`` run: its metrics and arrays."""

    run_id: str
    path: Path
    metrics: dict
    hit: bool

    def held_out(self) -> dict[str, np.ndarray]:
        """Held-out label units of the final model (``prob``, ``correct``, ``example``, ``key``, ...)."""
        with np.load(self.path / HELD_OUT_FILE) as data:
            return {k: data[k] for k in data.files}

    def dynamics(self) -> dict[str, np.ndarray] | None:
        """``probs`` and ``correct`` (epochs x examples), ``epochs``, ``ids`` and maybe ``logits``."""
        if not (self.path / DYNAMICS_FILE).exists():
            return None
        with np.load(self.path / DYNAMICS_FILE) as data:
            return {k: data[k] for k in data.files}

    @property
    def encoder_path(self) -> Path | None:
        """The saved trained encoder (``Budget.keep_encoder``), or None when the run kept none."""
        path = self.path / ENCODER_DIR
        return path if (path / "config.json").is_file() else None


def null_head_only(fmt) -> bool:
    """Whether the null-input model trains its head only (the encoder frozen).

    For classification, pair classification and multiple choice the null input is empty, so
    every example looks the same to the encoder and the best model of the family outputs
    one constant distribution: the training label prior (for multiple choice, with its
    choices all empty, the uniform one). The head's bias reaches it without the encoder,
    at a fraction of the cost (no backward pass through the encoder, no AdamW over its
    weights: vinfo on SNLI with e5-small went from 23 to 8-11 CPU s). Tagging and extractive QA keep the
    positions of their null inputs, and a trained encoder can learn positional priors
    (the first word is often a determiner), so their null models train everything. ``fmt`` is
    a :class:`~taskdiff.transfer.formats.TaskFormat` or its registered name.
    """
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    return has_class_logits(fmt)


def budget_spec(task, model: str, context, budget: Budget, inputs: str):
    """The run spec of a budgeted training (also used to tell whether it is cached)."""

    train = training_rows(task, context, budget)
    held, plan, _ = held_out_rows(task, context, budget, [r["id"] for r in train])
    cfg = budget.model_dump(mode="json")
    if inputs == "null":  # the null model needs neither a curve, dynamics nor its encoder
        for key in ("curve_fractions", "dynamics_mode", "keep_encoder"):
            cfg.pop(key)
        cfg["trains"] = "head" if null_head_only(task.format) else "all"
    return RunSpec("difficulty_train", {
        "encoder": f"base:{model}", "task": task_ref(task), "seed": context.seed, "budget": cfg, "inputs": inputs,
        "max_examples": context.max_examples, "train": data_fingerprint(train), "held_out": data_fingerprint(held),
        "held_out_plan": plan, "version": TRAIN_VERSION}), train, held


def budget_run(task, model: str, context, budget: Budget, *, inputs: str = "real", cost=None) -> BudgetRun:
    """Train (or fetch from the store) the base encoder on ``task`` for ``budget``.

    ``inputs="null"`` trains on null inputs (the format's ``null_rows``)
    and evaluates on null held-out inputs. ``cost`` receives the work when the run is done now.
    """
    if inputs not in ("real", "null"):
        raise ValueError(f"inputs must be 'real' or 'null', found {inputs!r}")
    spec, train, held = budget_spec(task, model, context, budget, inputs)
    path = context.model_path(model)
    result = context.store.get_or_run(
        spec, lambda handle: _train_budget(handle, task, path, train, held, budget, inputs, context))
    if cost is not None and not result.hit:
        cost.add(result.metrics.get("examples", 0), result.metrics.get("tokens", 0))
    return BudgetRun(result.run_id, Path(result.path), result.metrics, result.hit)


@dataclass
class _Setup:
    """What one budgeted training works with (built by :func:`_setup`)."""

    fmt: object
    labels: list | None
    tokenizer: object
    model: object
    train_rows: list[dict]
    held_rows: list[dict]
    held_enc: object
    max_length: int
    precision: str


def _setup(task, model_path, train_rows, held_rows, budget: Budget, inputs: str, context, seed: int) -> _Setup:
    from transformers import set_seed


    fmt = get_format(task.format)
    labels = task_labels(task, train_rows)
    tokenizer = load_tokenizer(model_path, context.trust_remote_code)
    if inputs == "null":
        train_rows, held_rows = fmt.null_rows(train_rows, tokenizer), fmt.null_rows(held_rows, tokenizer)
    set_seed(seed)
    model = build_model(fmt, model_path, labels, context.trust_remote_code)
    if inputs == "null" and null_head_only(fmt):
        getattr(model, model.base_model_prefix).requires_grad_(False)
    max_length = budget.max_length or task.max_length
    held_enc = fmt.encode(held_rows, tokenizer, labels, max_length, train=False)
    return _Setup(fmt, labels, tokenizer, model, train_rows, held_rows, held_enc, max_length,
                  resolve_precision(budget.precision))


def _units(s: _Setup, model, encoded, n_rows: int, per_word: bool = True) -> dict:
    """Label units of ``encoded`` under ``model``."""

    out = forward_outputs(model, s.fmt, s.tokenizer, encoded, s.precision)
    return label_units(s.fmt, encoded, out, n_rows, per_word=per_word)


def _recording(s: _Setup, budget: Budget, inputs: str, extra: list):
    """``(recorder, training format, epoch-end training features)``; appends the epoch-end callback."""
    if inputs != "real":
        return None, s.fmt, None
    recorder = LogitRecorder(len(s.train_rows), budget.dynamics_mode)
    if budget.dynamics_mode == "forward":
        return recorder, (CapturingFormat(s.fmt, recorder) if has_class_logits(s.fmt) else s.fmt), None
    train_enc = s.fmt.encode(s.train_rows, s.tokenizer, s.labels, s.max_length, train=True)
    extra.append(callbacks()[1](recorder, lambda m: _units(s, m, train_enc, len(s.train_rows), per_word=False)))
    return recorder, s.fmt, train_enc


def _save_dynamics(handle, recorder: LogitRecorder, s: _Setup) -> list[str]:
    """Write the complete epochs of ``recorder`` to the run; returns notes."""
    probs, right = recorder.arrays()
    complete = ~np.isnan(probs).any(axis=1)
    notes = [] if complete.all() else [f"{int((~complete).sum())} incomplete epoch(s) of dynamics left out"]
    extra = {}
    logits = recorder.logits()
    if logits is not None:
        extra["logits"] = logits[complete]
        extra["golds"] = np.asarray(s.fmt.label_ids(s.train_rows, s.labels), dtype=np.int64)
    np.savez(handle.file(DYNAMICS_FILE), probs=probs[complete], correct=right[complete],
             epochs=np.array(sorted(recorder._epochs))[complete], ids=np.array([r["id"] for r in s.train_rows]),
             **extra)
    handle.track(DYNAMICS_FILE)
    return notes


def _save_encoder(handle, trainer, s: _Setup) -> None:
    """The trained encoder (head dropped) and tokenizer, as safetensors in ``encoder/``."""

    save_encoder(trainer.model, s.tokenizer, handle.file(ENCODER_DIR))
    handle.track(ENCODER_DIR)  # checksummed: a damaged encoder must not pass for a finished run


def _train_budget(handle, task, model_path, train_rows, held_rows, budget: Budget, inputs: str, context) -> dict:

    start = time.perf_counter()
    seed = int(handle.spec.config["seed"])
    s = _setup(task, model_path, train_rows, held_rows, budget, inputs, context, seed)
    n_evals = [0]

    def evaluate_held_out(m):
        n_evals[0] += 1
        return _units(s, m, s.held_enc, len(s.held_rows))

    CurveCallback, _, ConvergenceCallback = callbacks()
    if budget.patience is not None:  # per-epoch held-out curve, stops when it stops improving
        curve = ConvergenceCallback(evaluate_held_out, budget.patience, min(budget.min_epochs, budget.epochs),
                                    budget.min_delta)
    else:
        curve = CurveCallback(budget.curve_fractions if inputs == "real" else (1.0,), evaluate_held_out,
                              handle.checkpoint_dir / CURVE_FILE)
    extra: list = []
    recorder, train_fmt, train_enc = _recording(s, budget, inputs, extra)
    trainer = train_phase(s.model, s.tokenizer, train_fmt, s.train_rows, s.labels, budget.train_config(),
                          handle.checkpoint_dir, seed, None, primary_key(task.metric), recorder, s.max_length,
                          context.progress, callbacks=[curve, *extra], checkpoints=False)  # ~1 min: redo, not save
    final = curve.final_units if curve.final_units is not None else evaluate_held_out(trainer.model)
    np.savez(handle.file(HELD_OUT_FILE), ids=np.array([r["id"] for r in s.held_rows]),
             **{k: v for k, v in final.items() if k != "logits"})
    handle.track(HELD_OUT_FILE)
    notes = _save_dynamics(handle, recorder, s) if recorder is not None else []
    kept = inputs == "real" and budget.keep_encoder
    if kept:
        _save_encoder(handle, trainer, s)
    shutil.rmtree(handle.checkpoint_dir, ignore_errors=True)
    epochs = len(curve.points) if budget.patience is not None else budget.epochs
    passes = epochs + (epochs if train_enc is not None else 0)
    train_tokens = feature_tokens(train_enc if train_enc is not None else
                                  s.fmt.encode(s.train_rows, s.tokenizer, s.labels, s.max_length, train=True))
    return {
        "inputs": inputs, "curve": (curve.curve() if budget.patience is not None else
                                    sorted(curve.points.values(), key=lambda p: p["fraction"])),
        "cross_entropy_bits": v_entropy(final["prob"]), "accuracy": float(np.mean(final["correct"])),
        "n_train": len(s.train_rows), "n_held_out": len(s.held_rows), "n_units": int(len(final["prob"])),
        "steps": int(trainer.state.global_step), "epochs": epochs, "max_epochs": budget.epochs,
        "stopped_early": bool(getattr(curve, "stopped_early", False)) and epochs < budget.epochs,
        "labels": s.labels,
        "seconds": round(time.perf_counter() - start, 3),
        "examples": int(len(s.train_rows) * passes + len(s.held_rows) * n_evals[0]),
        "tokens": int(train_tokens * passes + feature_tokens(s.held_enc) * n_evals[0]),
        "precision": s.precision, "notes": notes, "encoder_kept": kept,
    }
