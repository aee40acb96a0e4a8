"""The job unit of a study: a :class:`Node` (one run of the run store) and the function that runs it.

:func:`execute_node` is the *job* every executor runs (:mod:`taskdiff.study.executors`
receive it as an argument, so they can be tested on fake jobs): it rebuilds the study from
its payload (once per process), recomputes the node's spec with :func:`node_spec` (refusing
to run when the data changed since planning) and calls :func:`run_node`, which runs the
node with the same phase functions as ``taskdiff transfer`` through
:meth:`~taskdiff.transfer.store.RunStore.get_or_run` - so a finished run is a cache hit, a
killed one resumes from its checkpoints, and two processes never run the same run at once.

A job is any callable ``job(payload: dict, node: dict) -> dict`` whose result has the keys
``run_id``, ``hit``, ``seconds`` and ``where``; an executor that runs it in another process
needs it importable by name (a module-level function).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import platform
import time
from dataclasses import dataclass, field
from typing import Callable

from taskdiff.difficulty.api import profile_task
from taskdiff.errors import TaskdiffError
from taskdiff.io import atomic_write_text, read_json
from taskdiff.logs import NOISY_LOGGERS, logger_levels
from taskdiff.provenance import data_fingerprint, task_ref
from taskdiff.study.config import Study
from taskdiff.transfer.models import resolve_model
from taskdiff.transfer.phases import eval_spec, run_evaluation, run_training, train_spec
from taskdiff.transfer.retrieval_eval import retrieval_metrics, retrieval_run_key
from taskdiff.transfer.store import RunSpec
from taskdiff.transfer.tasks import get_task

__all__ = ["BASE", "KINDS", "PROFILE_KIND", "DependencyNotDoneError", "Job", "Node", "StudyError", "execute_node",
           "marker_done", "node_key", "node_spec", "profile_spec", "run_node"]

KINDS = ("intermediate", "target", "evaluation", "profile")
BASE = "none"
PROFILE_KIND = "study_profile"

#: ``job(payload, node) -> {"run_id", "hit", "seconds", "where"}``: what an executor runs per node.
Job = Callable[[dict, dict], dict]


class StudyError(TaskdiffError):
    """A study cannot go on as planned (changed data, a missing dependency ...)."""


class DependencyNotDoneError(StudyError):
    """A node was started before a run it needs was done."""


def node_key(kind: str, model: str, intermediate: str | None, task: str, language: str | None,
             seed: int | None) -> str:
    """The plan key of a node (unique within a study, known before any data is read)."""
    return f"{kind}|{model}|{intermediate or ''}|{task}|{language or ''}|{'' if seed is None else seed}"


@dataclass
class Node:
    """One run of a study.

    ``key`` identifies the node in the plan (before data are read); ``run_id`` is its run
    store id once resolved; ``deps`` are the run ids it needs; ``parent`` is what the run's
    spec names as its encoder / model (``base:<model>`` or a run id).
    """

    key: str
    kind: str
    model: str
    task: str
    seed: int | None = None
    intermediate: str | None = None
    language: str | None = None
    dep_keys: tuple[str, ...] = ()
    retrieval: bool = False
    run_id: str | None = None
    deps: tuple[str, ...] = ()
    parent: str | None = None
    multi_model: bool = field(default=False, repr=False)

    @property
    def label(self) -> str:
        """A human description (``eval xnli/de <- mnli seed 1``)."""
        if self.kind == "intermediate":
            text = f"intermediate {self.task} seed {self.seed}"
        elif self.kind == "target":
            text = f"target {self.task} <- {self.intermediate} seed {self.seed}"
        elif self.kind == "evaluation":
            text = f"eval {self.task}/{self.language} <- {self.intermediate} seed {self.seed}"
        else:
            text = f"profile {self.task}"
        return f"{text} [{self.model}]" if self.multi_model else text

    @property
    def run_key(self) -> str:
        """The key of the run this entry reads: entries with equal run keys share one run
        (a retrieval evaluation of the base encoder does not depend on the seed)."""
        if self.kind == "evaluation" and self.retrieval and self.intermediate == BASE:
            return node_key(self.kind, self.model, BASE, self.task, self.language, None)
        return self.key

    def to_dict(self) -> dict:
        """JSON-able (for workers and the study manifest)."""
        d = dataclasses.asdict(self)
        d["dep_keys"], d["deps"] = list(self.dep_keys), list(self.deps)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Node":
        d = dict(d)
        d["dep_keys"], d["deps"] = tuple(d.get("dep_keys", ())), tuple(d.get("deps", ()))
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(cls)}})


# ------------------------------------------------------------------------------ specs
def profile_spec(ws, study, task, model: str) -> RunSpec:
    """The spec of a study's profile run of ``task`` (kind ``study_profile``)."""
    train = ws.rows(task, "train", task.train_language)
    return RunSpec(PROFILE_KIND, {"task": task_ref(task), "model": model, "measures": list(study.config.measures),
                                  "seed": study.config.profile_seed, "max_examples": ws.max_examples,
                                  "data": data_fingerprint(train.rows)})


def node_spec(node: Node, study, ws, parent: str | None) -> RunSpec:
    """The run spec of ``node`` given its parent's id (what the worker recomputes)."""
    cfg = study.config
    task = get_task(node.task)
    if node.kind == "intermediate":
        return train_spec("intermediate", ws, task, f"base:{node.model}", node.seed, cfg.intermediate_train)
    if node.kind == "target":
        return train_spec("target", ws, task, parent, node.seed, cfg.target_train)
    if node.kind == "evaluation":
        extra = retrieval_run_key(cfg.retrieval_layer, cfg.pooling) if node.retrieval else None
        return eval_spec(ws, task, parent, node.language, extra)
    if node.kind == "profile":
        return profile_spec(ws, study, task, node.model)
    raise ValueError(f"unknown node kind {node.kind!r}")


# ------------------------------------------------------------------------------ running
_CONTEXT: dict[str, tuple] = {}


def _context(payload: dict):
    """The study and workspace of a payload, built once per process (rows are cached)."""
    key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    if key not in _CONTEXT:
        study = Study.from_payload(payload)
        _CONTEXT.clear()  # one study per worker process at a time; drop cached rows of another
        _CONTEXT[key] = (study, study.workspace(progress=False))
    return _CONTEXT[key]


def marker_done(store, run_id: str) -> bool:
    """Cheap check: a ``DONE`` marker of this run exists (no checksums; the scheduler
    verified them fully before submitting)."""
    try:
        done = read_json(store.run_dir(run_id) / "DONE")
    except (OSError, TaskdiffError):
        return False
    return isinstance(done, dict) and done.get("run_id") == run_id


def _encoder_path(store, parent: str, base_path: Callable[[], str]) -> str:
    if parent.startswith("base:"):
        return base_path()
    return str(store.run_dir(parent) / "encoder")


def execute_node(payload: dict, node: dict) -> dict:
    """The study job: run (or find done) one node; returns ``{"run_id", "hit", "seconds", "where"}``.

    Parameters
    ----------
    payload : dict
        :meth:`Study.to_payload() <taskdiff.study.config.Study.to_payload>`.
    node : dict
        :meth:`Node.to_dict` of a resolved node.

    The data notes (:data:`~taskdiff.logs.NOISY_LOGGERS`) are quiet while the node runs
    (they are kept in every run's metrics; ``TASKDIFF_STUDY_VERBOSE=1`` shows them); the
    loggers' levels are restored afterwards.
    """
    study, ws = _context(payload)
    if os.environ.get("TASKDIFF_STUDY_VERBOSE"):
        return run_node(study, ws, Node.from_dict(node))
    with logger_levels(NOISY_LOGGERS, logging.ERROR):
        return run_node(study, ws, Node.from_dict(node))


def run_node(study, ws, n: Node) -> dict:
    """Run (or find done) node ``n`` of ``study`` in workspace ``ws``.

    Raises
    ------
    DependencyNotDoneError
        If a run the node needs is not done.
    StudyError
        If the node's spec computed here differs from the planned one (data changed).
    """
    start = time.perf_counter()
    store, cfg = ws.store, study.config
    missing = [d for d in n.deps if not marker_done(store, d)]
    if missing:
        raise DependencyNotDoneError(f"{n.label} ({n.run_id}) needs {', '.join(missing)}, not done yet")
    spec = node_spec(n, study, ws, n.parent)
    if spec.run_id != n.run_id:
        raise StudyError(f"{n.label}: planned as run {n.run_id} but its spec is now {spec.run_id} "
                         "(the data or task config changed since the study was planned); re-run the study")
    task = get_task(n.task)

    def base_path() -> str:
        return resolve_model(n.model, store.root)

    if n.kind == "intermediate":
        result = run_training(ws, spec, task, base_path(), cfg.intermediate_train, keep="encoder")
    elif n.kind == "target":
        result = run_training(ws, spec, task, _encoder_path(store, n.parent, base_path), cfg.target_train,
                              keep="model")
    elif n.kind == "evaluation" and n.retrieval:
        encoder = _encoder_path(store, n.parent, base_path)
        result = store.get_or_run(spec, lambda handle: retrieval_metrics(
            ws, task, encoder, n.language, cfg.retrieval_layer, cfg.pooling))
    elif n.kind == "evaluation":
        result = run_evaluation(ws, spec, task, str(store.run_dir(n.parent) / "model"), n.language)
    elif n.kind == "profile":
        result = store.get_or_run(spec, lambda handle: _profile(handle, study, ws, n))
    else:
        raise StudyError(f"unknown node kind {n.kind!r}")
    return {"run_id": result.run_id, "hit": result.hit, "seconds": time.perf_counter() - start,
            "where": f"{platform.node()}:{os.getpid()}"}


def _profile(handle, study, ws, node: Node) -> dict:
    prof = profile_task(node.task, node.model, measures=list(study.config.measures), data_dir=ws.data_dir,
                        store=ws.store.root, max_examples=ws.max_examples, seed=study.config.profile_seed,
                        progress=False)
    atomic_write_text(handle.file("profile.json"), prof.to_json())
    handle.track("profile.json")
    return {"task": node.task, "model": node.model, "measures": list(study.config.measures)}
