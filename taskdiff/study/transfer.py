"""``taskdiff transfer`` as a study: one request, planned and run by the study runner.

A :class:`TransferRequest` (one model; intermediates x targets x languages x seeds) is the
Python form of ``taskdiff transfer``'s options. :func:`run_transfer` turns it into a
:class:`~taskdiff.study.config.Study` (:func:`request_study`) and runs it in this process
through :func:`~taskdiff.study.run.run_study` on the caller's
:class:`~taskdiff.transfer.phases.Workspace` (its store, data, cap and progress), with the
in-process local executor: the study graph is the one orchestrator (enumeration,
trainable vs retrieval targets, retrieval run keys), so a request's run ids are a study's,
and whatever either ran is a cache hit for the other. Every run goes through
:meth:`~taskdiff.transfer.store.RunStore.get_or_run`, done ones too (``revisit_done``: a
cache hit warns about other library versions and counts as reused), and a node's exception
propagates as from a plain call.

This module is above :mod:`taskdiff.transfer` (it imports the study runner), so it is
the one place to import :func:`run_transfer` from (``taskdiff.transfer.pipeline``, which
re-exported it, is gone: :mod:`taskdiff.transfer` never imports :mod:`taskdiff.study`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from taskdiff.errors import ConfigError, UnknownNameError, ZeroShotViolation
from taskdiff.study.config import ExecutorOptions, Study, StudyConfig, target_languages
from taskdiff.study.executors.local import LocalExecutor
from taskdiff.study.node import Node, StudyError, run_node
from taskdiff.study.run import run_study, study_scores
from taskdiff.study.targets import write_targets
from taskdiff.transfer.gains import gains_table, write_tables
from taskdiff.transfer.phases import Workspace, primary_key
from taskdiff.transfer.tasks import get_task
from taskdiff.transfer.training import TrainConfig

log = logging.getLogger(__name__)

__all__ = ["TransferRequest", "check_request", "request_study", "run_transfer", "target_languages"]


class TransferRequest(BaseModel):
    """One transfer study: intermediates x targets x languages x seeds on one model."""

    model_config = ConfigDict(extra="forbid")
    model: str
    intermediates: list[str]
    targets: list[str]
    languages: list[str] | None = None
    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3])
    intermediate_train: TrainConfig = Field(default_factory=TrainConfig)
    target_train: TrainConfig = Field(default_factory=TrainConfig)
    retrieval_layer: int | None = None  # a hidden_states index; None: XTREME's layer
    pooling: str | None = None  # "mean"/"cls"; None: XTREME's per task (tatoeba mean, bucc cls)

    @field_validator("intermediates", "targets")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        if not names:
            raise ValueError("at least one task is needed")
        for name in names:
            get_task(name)  # UnknownNameError with the nearest names
        return names


def check_request(req: TransferRequest) -> None:
    """Refuse up front what would otherwise fail after training, or silently vanish.

    Raises
    ------
    ZeroShotViolation
        A trainable task whose ``train_language`` is not English.
    ConfigError
        A task whose metric is unknown.
    UnknownNameError
        A requested language that no target declares (a typo would evaluate nothing).
    """
    for task in (get_task(n) for n in dict.fromkeys(req.intermediates + req.targets)):
        if task.trainable and task.train_language != "en":
            raise ZeroShotViolation(f"task {task.name!r}: train_language is {task.train_language!r}; training "
                                    "and model selection must be English (zero-shot transfer)")
        try:
            primary_key(task.metric)
        except UnknownNameError as exc:
            raise ConfigError(f"task {task.name!r}: field 'metric': {exc}") from None
    declared = {lang for name in req.targets for lang in get_task(name).languages}
    for lang in req.languages or []:
        if lang not in declared:
            raise UnknownNameError("evaluation language (no target declares it)", lang, declared)


def request_study(req: TransferRequest, ws: Workspace) -> Study:
    """The one-model study of ``req`` on ``ws``'s store and data, run in this process.

    A target with none of the requested languages is left out (with a warning), as one
    with only some of them is evaluated on those it has.
    """
    targets = []
    for name in req.targets:
        task = get_task(name)
        missing = [lang for lang in req.languages or [] if lang not in task.languages]
        if missing:
            log.warning("target %s has no languages %s; skipped there", task.name, missing)
        if target_languages(task, req.languages):
            targets.append(name)
    try:
        config = StudyConfig(name="transfer", models=[req.model], intermediates=list(req.intermediates),
                             targets=targets, languages=req.languages, seeds=list(req.seeds),
                             intermediate_train=req.intermediate_train, target_train=req.target_train,
                             max_examples=ws.max_examples, retrieval_layer=req.retrieval_layer, pooling=req.pooling,
                             trust_remote_code=ws.trust_remote_code, executor=ExecutorOptions(kind="local", workers=0))
    except ValidationError as exc:  # e.g. a seed given twice: one line, like every input error
        err = exc.errors()[0]
        raise ConfigError(f"transfer request: field {'.'.join(str(p) for p in err['loc'])!r}: {err['msg']}") from None
    return Study(config, Path.cwd(), "taskdiff transfer", data_dir=ws.data_dir, store=ws.store.root)


def run_transfer(req: TransferRequest, ws: Workspace, out_dir: Path | None = None):
    """Run (or fetch from the store) every phase of ``req``; returns the gains table.

    Writes ``scores.csv``, ``gains.csv``, ``gains.parquet`` and ``targets.json``
    (:mod:`taskdiff.study.targets`) into ``out_dir`` if given
    (no study manifest: ``taskdiff status OUT`` reads a transfer folder by its ``scores.csv``).

    Parameters
    ----------
    req : TransferRequest
        What to run.
    ws : Workspace
        The run store, data directory, example cap and progress setting.
    out_dir : path, optional
        Where the tables go.

    Returns
    -------
    pandas.DataFrame
        :func:`~taskdiff.transfer.gains.gains_table` of the score rows.
    """
    check_request(req)
    study = request_study(req, ws)

    def job(payload: dict, node: dict) -> dict:  # in this process, on the caller's workspace
        return run_node(study, ws, Node.from_dict(node))

    result = run_study(study, executor=LocalExecutor(0, raise_errors=True), progress=ws.progress, ws=ws, job=job,
                       revisit_done=True)
    scores = study_scores(result.graph, ws.store, req.model) if result.ok else None
    if scores is None:
        sched = result.schedule
        raise StudyError(f"transfer: {len(sched.failed)} run(s) failed, {len(sched.blocked)} blocked: "
                         f"{sched.blocked or sched.failed}")
    if out_dir is not None:
        write_tables(scores, Path(out_dir))
        write_targets(scores, Path(out_dir))
    return gains_table(scores)
