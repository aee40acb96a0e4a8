"""The three phases as cached runs: intermediate, target, evaluation.

Each phase is a :class:`~taskdiff.transfer.store.RunSpec` whose config names the model,
the task (and the hash of its config), the seed, the hyperparameters, the parent run and the
fingerprint of the rows it reads, so an identical request is a cache hit and a changed file
is not. The intermediate run keeps only the encoder; target runs load it with a fresh head
of their own format; evaluation runs score one language each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from taskdiff.provenance import data_fingerprint, task_ref
from taskdiff.transfer.data import RoleData, load_role
from taskdiff.transfer.formats import get_format
from taskdiff.transfer.store import RunSpec, RunStore
from taskdiff.transfer.tasks import TaskConfig
from taskdiff.transfer.training import TrainConfig
from taskdiff.threads import ensure_threads
from taskdiff.transfer.data import MissingDataError
from taskdiff.transfer.dynamics import DynamicsRecorder, write_summary
from taskdiff.transfer.evaluation import predict, score
from taskdiff.transfer.metrics import metric_provenance, metric_run_key, primary_key as _primary
from taskdiff.transfer.models import build_model, load_tokenizer, save_encoder
from taskdiff.transfer.precision import resolve_precision
from taskdiff.transfer.training import train_phase

log = logging.getLogger(__name__)
BASE = "none"


@dataclass
class Workspace:
    """Where runs are stored and data is read; shared by all phases of a request."""

    store: RunStore
    data_dir: Path | None = None
    max_examples: int | None = None
    progress: bool = True
    trust_remote_code: bool = False
    _rows: dict = field(default_factory=dict)

    def __post_init__(self):  # thread count by load, once per process (taskdiff/threads.py)

        ensure_threads("transfer")

    def rows(self, task: TaskConfig, role: str, language: str) -> RoleData:
        """Rows of a role, read once per workspace."""
        key = (task.name, role, language)
        if key not in self._rows:
            self._rows[key] = load_role(task, role, language, self.data_dir, self.max_examples)
        return self._rows[key]


def task_labels(task: TaskConfig, rows: list[dict]) -> list[str] | None:
    """The task's declared labels, or (tagging without a declared set) those of the training rows."""
    observed = None if task.labels else get_format(task.format).observed_labels(rows)
    return task.labels if observed is None else observed


def primary_key(metric: str) -> str:
    """The main score of a metric (e.g. ``f1`` for squad)."""

    return _primary(metric)


def train_spec(kind: str, ws: Workspace, task: TaskConfig, encoder: str, seed: int, cfg: TrainConfig) -> RunSpec:
    """The spec of a training phase (``intermediate`` or ``target``) on top of ``encoder``."""
    train = ws.rows(task, "train", task.train_language)
    sel = _selection(ws, task)
    return RunSpec(kind, {
        "encoder": encoder, "task": task_ref(task), "seed": seed, "train": cfg.model_dump(),
        "max_examples": ws.max_examples, "data": data_fingerprint(train.rows + (sel.rows if sel else [])),
        "split_plan": [train.plan.as_dict()] + ([sel.plan.as_dict()] if sel else []),
    })


def _selection(ws: Workspace, task: TaskConfig) -> RoleData | None:

    try:
        return ws.rows(task, "selection", task.train_language)
    except MissingDataError as exc:
        log.warning("task %s: no English selection data (%s); the last epoch is kept", task.name, exc)
        return None


def run_training(ws: Workspace, spec: RunSpec, task: TaskConfig, encoder_path: str, cfg: TrainConfig,
                 keep: str):
    """Train one phase as a cached run; ``keep`` is "encoder" (intermediate) or "model" (target)."""
    return ws.store.get_or_run(spec, lambda handle: _train(ws, handle, task, encoder_path, cfg, keep))


def _train(ws: Workspace, handle, task: TaskConfig, encoder_path: str, cfg: TrainConfig, keep: str) -> dict:
    import time


    start = time.perf_counter()
    fmt = get_format(task.format)
    train = ws.rows(task, "train", task.train_language)
    sel = _selection(ws, task)
    labels = task_labels(task, train.rows)
    tokenizer = load_tokenizer(encoder_path, ws.trust_remote_code)
    from transformers import set_seed

    set_seed(int(handle.spec.config["seed"]))  # the fresh head's init must not depend on earlier work
    model = build_model(fmt, encoder_path, labels, ws.trust_remote_code)
    max_length = cfg.max_length or task.max_length
    precision = resolve_precision(cfg.precision)
    key = primary_key(task.metric)

    def select(m):
        preds = predict(m, tokenizer, fmt, sel.rows, labels, max_length, precision)
        return score(task.metric, preds, fmt.references(sel.rows), task.train_language)

    recorder = DynamicsRecorder(len(train.rows), cfg.dynamics_mode) if cfg.record_dynamics else None
    _drop_incomplete_checkpoints(handle.checkpoint_dir)
    trainer = train_phase(model, tokenizer, fmt, train.rows, labels, cfg, handle.checkpoint_dir, int(handle.spec.config["seed"]),
                          select if sel else None, key, recorder, max_length, ws.progress,
                          selection_rows=sel.rows if sel else None)
    out = handle.path / keep
    if keep == "encoder":
        save_encoder(trainer.model, tokenizer, out)
    else:
        trainer.model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    handle.track(keep)  # a damaged saved model must not pass for a finished run
    metrics = {"selection": select(trainer.model) if sel else {}, "labels": labels,
               "n_train": len(train.rows), "n_selection": len(sel.rows) if sel else 0,
               "train_seconds": time.perf_counter() - start, "precision": precision,
               "notes": train.notes + (sel.notes if sel else [])}
    if recorder is not None:

        write_summary(handle.path / "dynamics.json", recorder, [r["id"] for r in train.rows])
        handle.track("dynamics.json")
    _drop_checkpoints(handle.checkpoint_dir)
    return metrics


def _drop_incomplete_checkpoints(path: Path) -> None:
    """Delete checkpoint folders a kill left half-written, so resuming picks the last complete one.

    ``Trainer`` writes ``trainer_state.json`` last (not atomically): a folder without a
    readable one was interrupted, and resuming from it would fail on every rerun.
    """
    import json
    import shutil

    for ckpt in sorted(Path(path).glob("checkpoint-*")):
        try:
            json.loads((ckpt / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("dropping incomplete checkpoint %s (interrupted while it was written)", ckpt)
            shutil.rmtree(ckpt, ignore_errors=True)


def _drop_checkpoints(path: Path) -> None:
    """Checkpoints only serve resumption; a finished run keeps its saved model."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def eval_spec(ws: Workspace, task: TaskConfig, parent: str, language: str, extra: dict | None = None) -> RunSpec:
    """The spec of a zero-shot evaluation of ``parent`` (a run id or base model) in ``language``."""

    rows = ws.rows(task, "evaluation", language)
    return RunSpec("evaluation", {"parent": parent, "task": task_ref(task), "language": language,
                                  "max_examples": ws.max_examples, "data": data_fingerprint(rows.rows),
                                  "split_plan": rows.plan.as_dict(), **metric_run_key(task.metric), **(extra or {})})


def run_evaluation(ws: Workspace, spec: RunSpec, task: TaskConfig, model_path: str, language: str):
    """Score a fine-tuned model on one language (cached)."""
    return ws.store.get_or_run(spec, lambda handle: _evaluate(ws, task, model_path, language))


def _evaluate(ws: Workspace, task: TaskConfig, model_path: str, language: str) -> dict:
    import json


    fmt = get_format(task.format)
    rows = ws.rows(task, "evaluation", language)
    labels = json.loads((Path(model_path) / "config.json").read_text()).get("id2label")
    labels = [labels[str(i)] for i in range(len(labels))] if labels and fmt.labels_in_head else None
    tokenizer = load_tokenizer(model_path, ws.trust_remote_code)
    model = fmt.auto_class().from_pretrained(model_path, trust_remote_code=ws.trust_remote_code)
    preds = predict(model, tokenizer, fmt, rows.rows, labels, task.max_length, resolve_precision("auto"),
                    progress=f"eval {task.name}/{language}" if ws.progress else None)
    scores = score(task.metric, preds, fmt.references(rows.rows), language)
    return {"scores": scores, "n": len(rows.rows), "notes": rows.notes, "split_plan": rows.plan.as_dict(),
            "metric": metric_provenance(task.metric)}
