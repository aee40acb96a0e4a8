"""``baseline_loss``: held-out cross-entropy of the base encoder after a small, fixed budget.

The base encoder gets the task's head and is fine-tuned for a fixed :class:`Budget`
(default: 3 epochs on at most 2,000 English training examples, learning rate 3e-5,
batch 16, no model selection). Its held-out cross-entropy is measured in bits per label
unit at fractions of the budget (default 0.25, 0.5, 1.0 of the optimisation steps), from
the same run:

.. math::

    \\mathrm{CE} = \\frac1U \\sum_u -\\log_2 p_\\theta(y_u \\mid x_u)

(:func:`~taskdiff.difficulty.maths.v_entropy` of the gold probabilities). A label *unit*
is what the format's loss is over: an example (classification, multiple choice), a word
(tagging: its first sub-word), or an example's answer span (extractive QA: the window that
holds the answer, gold probability :math:`p_{start} \\cdot p_{end}`).

``normalized_baseline_loss`` = CE / normaliser, the normaliser being the cross-entropy of
an uninformed guess:

* classification, tagging: the label entropy of the training labels (per word for tagging),
  :func:`~taskdiff.difficulty.maths.label_entropy`;
* multiple choice: :math:`\\log_2 C` (C choices);
* extractive QA: :math:`2\\,\\overline{\\log_2 T}`, the mean over held-out units of the
  bits of a uniform guess of the start and of the end among the T positions of the window.

The learning-curve area is the trapezoid area under CE over the budget fractions
(bits x fraction of the budget). The trained model of a budget is a ``difficulty_train``
run in the store, shared with :mod:`~taskdiff.difficulty.vinfo` and
:mod:`~taskdiff.difficulty.cartography` when their budgets are equal (each is trained once).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from taskdiff.difficulty.base import ENGLISH, Measure, finite_or_none, task_ref
from taskdiff.difficulty.maths import (
    gold_prob_classification,
    gold_prob_multiple_choice,
    gold_prob_qa,
    gold_prob_tagging,
    label_entropy,
    v_entropy,
)
from taskdiff.difficulty.registry import register_measure
from taskdiff.transfer.dynamics import DynamicsRecorder, _np

log = logging.getLogger(__name__)
TRAIN_VERSION = 1
HELD_OUT_FILE, DYNAMICS_FILE, CURVE_FILE = "held_out.npz", "dynamics.npz", "curve.json"
#: Formats whose outputs are one logit vector per example (kept for the cartography files).
LOGIT_FORMATS = ("classification", "pair_classification", "multiple_choice")


class Budget(BaseModel):
    """The fixed training budget of the difficulty runs (base encoder + task head).

    Two measures with equal budgets share one trained model.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    epochs: int = Field(3, ge=1, description="training epochs (cartography needs >= 2)")
    max_train_examples: int | None = Field(2000, ge=2, description="cap on English training rows")
    max_held_out: int | None = Field(1000, ge=1, description="cap on held-out rows")
    held_out_role: Literal["evaluation", "selection"] = Field(
        "evaluation", description="role of the held-out rows (English); the other one if missing")
    learning_rate: float = Field(3e-5, gt=0)
    batch_size: int = Field(16, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_length: int | None = Field(None, gt=8, description="default: the task's max_length")
    freeze_embeddings: bool = True
    group_by_length: bool = Field(True, description="length-grouped batches (faster; off when length predicts the label)")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    curve_fractions: tuple[float, ...] = Field((0.25, 0.5, 1.0), description="points of the learning curve")
    dynamics_mode: Literal["forward", "epoch_end"] = "forward"

    @field_validator("curve_fractions")
    @classmethod
    def _fractions(cls, v):
        v = tuple(float(f) for f in v)
        if not v or any(not 0 < f <= 1 for f in v) or list(v) != sorted(set(v)) or v[-1] != 1.0:
            raise ValueError("curve_fractions must increase strictly within (0, 1] and end at 1.0")
        return v

    def train_config(self):
        """The :class:`~taskdiff.transfer.training.TrainConfig` of the run (no model selection)."""
        from taskdiff.transfer.training import TrainConfig

        return TrainConfig(learning_rate=self.learning_rate, epochs=self.epochs, warmup_ratio=self.warmup_ratio,
                           batch_size=self.batch_size, max_length=self.max_length,
                           freeze_embeddings=self.freeze_embeddings, precision=self.precision,
                           group_by_length=self.group_by_length, select_best=False, early_stopping_patience=None)


def as_budget(budget) -> Budget:
    """A :class:`Budget` from a Budget, a dict of its fields, or None (the default)."""
    if budget is None:
        return Budget()
    return budget if isinstance(budget, Budget) else Budget(**dict(budget))


# ----------------------------------------------------------------------------- label units
def _qa_feature_of_example(encoded, n_rows: int) -> np.ndarray:
    """Per example, the window holding the answer (else its first window)."""
    chosen = np.full(n_rows, -1, dtype=np.int64)
    for j, f in enumerate(encoded.features):
        i = f["example_index"]
        has_answer = (f["start_positions"], f["end_positions"]) != (0, 0)
        if chosen[i] < 0 or (has_answer and (encoded.features[chosen[i]]["start_positions"],
                                             encoded.features[chosen[i]]["end_positions"]) == (0, 0)):
            chosen[i] = j
    return chosen


def label_units(fmt_name: str, encoded, outputs: dict, n_rows: int, *, per_word: bool = True) -> dict:
    """Gold probability, correctness, label and key of every label unit (numpy arrays).

    Parameters
    ----------
    fmt_name : str
    encoded : Encoded
        Features with their training targets (``labels`` / ``start_positions`` ...).
    outputs : dict
        :func:`~taskdiff.transfer.evaluation.forward_outputs` of those features.
    n_rows : int
    per_word : bool
        Tagging: one unit per word (True) or per sentence (mean word probability,
        correct when every word is; the cartography unit).

    Returns
    -------
    dict
        ``prob``, ``correct``, ``example`` (row index), ``key`` (word index or 0),
        ``label`` (gold class / choice index, -1 for QA), ``length`` (positions of the
        unit's sequence), and ``logits`` (N, K) for the formats of :data:`LOGIT_FORMATS`.
    """
    feats = encoded.features
    if fmt_name in LOGIT_FORMATS:
        z = np.stack([np.asarray(o, dtype=np.float64) for o in outputs["logits"]])
        y = np.array([f["labels"] for f in feats], dtype=np.int64)
        fn = gold_prob_multiple_choice if fmt_name == "multiple_choice" else gold_prob_classification
        prob, ok = fn(z, y)
        return {"prob": prob, "correct": ok, "example": np.array([f["example_index"] for f in feats]),
                "key": np.zeros(len(feats), np.int64), "label": y, "logits": z.astype(np.float32),
                "length": np.array([_n_positions(f) for f in feats])}
    if fmt_name == "tagging":
        out = {k: [] for k in ("prob", "correct", "example", "key", "label", "length")}
        for f, extra, z in zip(feats, encoded.extras, outputs["logits"]):
            lab = np.asarray(f["labels"], dtype=np.int64)[: len(z)]
            mask = lab != -100
            z = np.asarray(z, dtype=np.float64)
            if per_word:
                p, ok = gold_prob_classification(z[mask], lab[mask])
                words = [extra["word_ids"][t] for t in np.flatnonzero(mask)]
                out["prob"] += p.tolist(); out["correct"] += ok.tolist()
                out["example"] += [f["example_index"]] * len(p); out["key"] += words
                out["label"] += lab[mask].tolist(); out["length"] += [len(z)] * len(p)
            else:
                p, ok = gold_prob_tagging(z[None], lab[None], mask[None])
                out["prob"].append(float(p[0])); out["correct"].append(bool(ok[0]))
                out["example"].append(f["example_index"]); out["key"].append(0)
                out["label"].append(-1); out["length"].append(len(z))
        return {k: np.asarray(v) for k, v in out.items()}
    if fmt_name == "extractive_qa":
        chosen = _qa_feature_of_example(encoded, n_rows)
        chosen = chosen[chosen >= 0]
        probs, oks = [], []
        for j in chosen:
            s, e = np.asarray(outputs["start_logits"][j]), np.asarray(outputs["end_logits"][j])
            f = feats[j]
            p, ok = gold_prob_qa(s[None], e[None], [f["start_positions"]], [f["end_positions"]],
                                 np.ones((1, len(s)), dtype=bool))
            probs.append(float(p[0])); oks.append(bool(ok[0]))
        return {"prob": np.asarray(probs), "correct": np.asarray(oks, dtype=bool),
                "example": np.array([feats[j]["example_index"] for j in chosen], dtype=np.int64),
                "key": np.zeros(len(chosen), np.int64), "label": np.full(len(chosen), -1),
                "length": np.array([len(outputs["start_logits"][j]) for j in chosen])}
    raise ValueError(f"format {fmt_name!r} has no label units (not trainable)")


def _n_positions(feature: dict) -> int:
    ids = feature["input_ids"]
    return max(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)


def _feature_tokens(encoded) -> int:
    total = 0
    for f in encoded.features:
        ids = f["input_ids"]
        total += sum(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)
    return total


# ----------------------------------------------------------------------------- rows
def cap_rows(rows: list[dict], n: int | None) -> list[dict]:
    """The first ``n`` ids in id-hash order (as ``--max-examples`` does), file order kept."""
    from taskdiff.transfer.data import id_hash

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
    from taskdiff.transfer.data import MissingDataError

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


# ----------------------------------------------------------------------------- recording
class LogitRecorder(DynamicsRecorder):
    """A :class:`DynamicsRecorder` that also keeps each example's logits per epoch.

    Logits arrive through ``pending`` (set by :class:`CapturingFormat` from the training
    forward pass, or by the epoch-end pass) just before :meth:`record` is called.
    """

    def __init__(self, n_examples: int, mode: str = "forward"):
        super().__init__(n_examples, mode)
        self._logits: dict[int, np.ndarray] = {}
        self.pending = None

    def record(self, epoch, example_index, gold_prob, correct) -> None:
        super().record(epoch, example_index, gold_prob, correct)
        if self.pending is None:
            return
        z = np.asarray(self.pending, dtype=np.float32)
        self.pending = None
        slot = self._logits.get(int(epoch))
        if slot is None:
            slot = self._logits[int(epoch)] = np.full((self.n_examples, z.shape[-1]), np.nan, np.float32)
        slot[np.asarray(_np(example_index), dtype=np.int64)] = z

    def logits(self) -> np.ndarray | None:
        """(epochs, examples, K) logits of the recorded epochs, or None if none were kept."""
        epochs = sorted(self._epochs)
        if not self._logits or any(e not in self._logits for e in epochs):
            return None
        return np.stack([self._logits[e] for e in epochs])

    def save(self, path) -> None:
        probs, right = self.arrays()
        extra = {} if self.logits() is None else {"logits": self.logits()}
        np.savez(Path(path), probs=probs, correct=right, epochs=np.array(sorted(self._epochs)), **extra)

    def load(self, path) -> None:
        super().load(path)
        with np.load(Path(path)) as data:
            if "logits" in data.files:
                for e, z in zip(data["epochs"], data["logits"]):
                    self._logits[int(e)] = z.copy()


class CapturingFormat:
    """Delegates to a task format; ``gold_prob`` also hands the batch's logits to a recorder."""

    def __init__(self, fmt, recorder: LogitRecorder):
        self._fmt, self._recorder = fmt, recorder

    def __getattr__(self, name):
        return getattr(self._fmt, name)

    def gold_prob(self, outputs, batch):
        self._recorder.pending = outputs["logits"].detach().float().cpu().numpy()
        return self._fmt.gold_prob(outputs, batch)


def _callbacks():
    """TrainerCallback classes, defined on first use (keeps transformers out of import time)."""
    from transformers import TrainerCallback

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

    return CurveCallback, EpochPassCallback


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


def budget_spec(task, model: str, context, budget: Budget, inputs: str):
    """The run spec of a budgeted training (also used to tell whether it is cached)."""
    from taskdiff.provenance import data_fingerprint
    from taskdiff.transfer.store import RunSpec

    train = training_rows(task, context, budget)
    held, plan, _ = held_out_rows(task, context, budget, [r["id"] for r in train])
    cfg = budget.model_dump(mode="json")
    if inputs == "null":  # the null model needs neither a curve nor dynamics
        cfg.pop("curve_fractions")
        cfg.pop("dynamics_mode")
    return RunSpec("difficulty_train", {
        "encoder": f"base:{model}", "task": task_ref(task), "seed": context.seed, "budget": cfg, "inputs": inputs,
        "max_examples": context.max_examples, "train": data_fingerprint(train), "held_out": data_fingerprint(held),
        "held_out_plan": plan, "version": TRAIN_VERSION}), train, held


def budget_run(task, model: str, context, budget: Budget, *, inputs: str = "real", cost=None) -> BudgetRun:
    """Train (or fetch from the store) the base encoder on ``task`` for ``budget``.

    ``inputs="null"`` trains on null inputs (see :func:`taskdiff.difficulty.vinfo.null_rows`)
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


def _train_budget(handle, task, model_path, train_rows, held_rows, budget: Budget, inputs: str, context) -> dict:
    from transformers import set_seed

    from taskdiff.transfer.evaluation import forward_outputs
    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import build_model, load_tokenizer
    from taskdiff.transfer.phases import primary_key, task_labels
    from taskdiff.transfer.precision import resolve_precision
    from taskdiff.transfer.training import train_phase

    start = time.perf_counter()
    fmt = get_format(task.format)
    labels = task_labels(task, train_rows)
    tokenizer = load_tokenizer(model_path, context.trust_remote_code)
    if inputs == "null":
        from taskdiff.difficulty.vinfo import null_rows

        train_rows, held_rows = null_rows(task.format, train_rows, tokenizer), null_rows(task.format, held_rows, tokenizer)
    seed = int(handle.spec.config["seed"])
    set_seed(seed)
    model = build_model(fmt, model_path, labels, context.trust_remote_code)
    cfg = budget.train_config()
    max_length = budget.max_length or task.max_length
    precision = resolve_precision(cfg.precision)
    held_enc = fmt.encode(held_rows, tokenizer, labels, max_length, train=False)
    n_evals = [0]

    def evaluate_held_out(m):
        n_evals[0] += 1
        return label_units(fmt.name, held_enc, forward_outputs(m, fmt, tokenizer, held_enc, precision), len(held_rows))

    CurveCallback, EpochPassCallback = _callbacks()
    fractions = budget.curve_fractions if inputs == "real" else (1.0,)
    curve = CurveCallback(fractions, evaluate_held_out, handle.checkpoint_dir / CURVE_FILE)
    callbacks = [curve]
    recorder, train_fmt, train_enc = None, fmt, None
    if inputs == "real":
        recorder = LogitRecorder(len(train_rows), budget.dynamics_mode)
        if budget.dynamics_mode == "forward" and fmt.name in LOGIT_FORMATS:
            train_fmt = CapturingFormat(fmt, recorder)
        elif budget.dynamics_mode == "epoch_end":
            train_enc = fmt.encode(train_rows, tokenizer, labels, max_length, train=True)

            def evaluate_train(m):
                out = forward_outputs(m, fmt, tokenizer, train_enc, precision)
                return label_units(fmt.name, train_enc, out, len(train_rows), per_word=False)

            callbacks.append(EpochPassCallback(recorder, evaluate_train))
    trainer = train_phase(model, tokenizer, train_fmt, train_rows, labels, cfg, handle.checkpoint_dir, seed, None,
                          primary_key(task.metric), recorder, max_length, context.progress, callbacks=callbacks)
    final = curve.final_units if curve.final_units is not None else evaluate_held_out(trainer.model)
    ids = np.array([r["id"] for r in held_rows])
    np.savez(handle.file(HELD_OUT_FILE), ids=ids, **{k: v for k, v in final.items() if k != "logits"})
    handle.track(HELD_OUT_FILE)
    notes = []
    if recorder is not None:
        probs, right = recorder.arrays()
        complete = ~np.isnan(probs).any(axis=1)
        if not complete.all():
            notes.append(f"{int((~complete).sum())} incomplete epoch(s) of dynamics left out")
        epochs = np.array(sorted(recorder._epochs))[complete]
        extra = {}
        logits = recorder.logits()
        if logits is not None:
            extra["logits"] = logits[complete]
            extra["golds"] = np.array([int(r["label"]) if fmt.name == "multiple_choice" else labels.index(r["label"])
                                       for r in train_rows], dtype=np.int64)
        np.savez(handle.file(DYNAMICS_FILE), probs=probs[complete], correct=right[complete], epochs=epochs,
                 ids=np.array([r["id"] for r in train_rows]), **extra)
        handle.track(DYNAMICS_FILE)
    shutil.rmtree(handle.checkpoint_dir, ignore_errors=True)
    n_epochs = budget.epochs
    train_tokens = _feature_tokens(train_enc if train_enc is not None else
                                   fmt.encode(train_rows, tokenizer, labels, max_length, train=True))
    epoch_passes = n_epochs if train_enc is not None else 0
    examples = len(train_rows) * (n_epochs + epoch_passes) + len(held_rows) * n_evals[0]
    tokens = train_tokens * (n_epochs + epoch_passes) + _feature_tokens(held_enc) * n_evals[0]
    points = sorted(curve.points.values(), key=lambda p: p["fraction"])
    return {
        "inputs": inputs, "curve": points, "cross_entropy_bits": v_entropy(final["prob"]),
        "accuracy": float(np.mean(final["correct"])), "n_train": len(train_rows), "n_held_out": len(held_rows),
        "n_units": int(len(final["prob"])), "steps": int(trainer.state.global_step), "epochs": n_epochs,
        "labels": labels, "seconds": round(time.perf_counter() - start, 3), "examples": int(examples),
        "tokens": int(tokens), "precision": precision, "notes": notes,
    }


# ----------------------------------------------------------------------------- the measure
def normaliser_bits(task, train_rows: list[dict], held: dict) -> tuple[float | None, str]:
    """The bits of an uninformed guess per label unit, and how they were computed."""
    if task.format in ("classification", "pair_classification"):
        return label_entropy([r["label"] for r in train_rows]), "label entropy of the training labels"
    if task.format == "tagging":
        return (label_entropy([t for r in train_rows for t in r["tags"]]),
                "label entropy of the training tags (per word)")
    if task.format == "multiple_choice":
        n = len(train_rows[0]["choices"])
        return math.log2(n), f"log2 of the number of choices ({n})"
    if task.format == "extractive_qa":
        lengths = np.asarray(held["length"], dtype=np.float64)
        return (2.0 * float(np.mean(np.log2(lengths))),
                "2 x mean log2(positions of the answer window): uniform start and end")
    return None, "none"


@register_measure
class BaselineLoss(Measure):
    """Held-out cross-entropy (bits) of the base encoder after a fixed budget.

    Parameters
    ----------
    budget : Budget or dict, optional
        The training budget (default :class:`Budget`); equal budgets share the trained
        model with ``vinfo`` and ``cartography``.

    Attributes
    ----------
    result_ : dict
        ``baseline_loss`` (bits per label unit), ``normalized_baseline_loss``,
        ``normaliser_bits``, ``normaliser``, ``curve`` (fraction, step,
        cross_entropy_bits, accuracy), ``curve_area``, ``held_out_accuracy``, ``n_train``,
        ``n_held_out``, ``n_units``, ``run_id``.
    curve_ : list of (fraction, bits)
    run_id_ : str
    """

    name = "baseline_loss"
    higher_is_harder = True

    def __init__(self, budget: Budget | dict | None = None):
        self.budget = budget

    def spec_params(self):
        return {**self.get_params(), "budget": as_budget(self.budget).model_dump(mode="json")}

    def _fit(self, task, model, context, cost):
        budget = as_budget(self.budget)
        run = budget_run(task, model, context, budget, inputs="real", cost=cost)
        held = run.held_out()
        train = training_rows(task, context, budget)
        norm, how = normaliser_bits(task, train, held)
        ce = run.metrics["cross_entropy_bits"]
        curve = run.metrics["curve"]
        fr = np.array([p["fraction"] for p in curve])
        ys = np.array([p["cross_entropy_bits"] for p in curve])
        area = float(np.trapezoid(ys, fr)) if len(curve) > 1 else None
        self.curve_ = [(float(f), float(y)) for f, y in zip(fr, ys)]
        self.run_id_ = run.run_id
        self.result_ = {
            "baseline_loss": finite_or_none(ce),
            "normalized_baseline_loss": finite_or_none(ce / norm) if norm else None,
            "normaliser_bits": finite_or_none(norm), "normaliser": how,
            "curve": curve, "curve_area": finite_or_none(area),
            "held_out_accuracy": run.metrics["accuracy"], "n_train": run.metrics["n_train"],
            "n_held_out": run.metrics["n_held_out"], "n_units": run.metrics["n_units"],
            "run_id": run.run_id, "budget": budget.model_dump(mode="json"), "notes": run.metrics.get("notes", []),
        }

    @staticmethod
    def flat(result):
        return {"baseline_loss": result.get("baseline_loss"),
                "normalized_baseline_loss": result.get("normalized_baseline_loss")}
