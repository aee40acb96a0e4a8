"""The transfer pipeline: pretrained encoder -> intermediate -> target -> zero-shot evaluation.

:func:`run_transfer` trains each intermediate task once per seed and reuses it for every
target and language; the no-intermediate baseline runs the same target phase on the base
encoder. Every phase is a cached run (see :mod:`taskdiff.transfer.phases`), so an identical
request is a cache hit and an interrupted one resumes. Data for every requested role and
language is loaded (and validated) before any training starts.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from taskdiff.transfer.phases import (BASE, Workspace, eval_spec, run_evaluation, run_training, train_spec)
from taskdiff.transfer.tasks import TaskConfig, get_task
from taskdiff.transfer.training import TrainConfig

log = logging.getLogger(__name__)


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


def target_languages(task: TaskConfig, requested: list[str] | None) -> list[str]:
    """The requested languages this target has (all of its languages when none requested)."""
    if not requested:
        return list(task.languages)
    return [l for l in requested if l in task.languages]


def _preload(ws: Workspace, req: TransferRequest) -> None:
    """Read every role and language up front: bad data fails before hours of training."""
    _check_request(req)
    for name in req.intermediates:
        task = get_task(name)
        ws.rows(task, "train", task.train_language)
    for name in req.targets:
        task = get_task(name)
        missing = [l for l in req.languages or [] if l not in task.languages]
        if missing:
            log.warning("target %s has no languages %s; skipped there", task.name, missing)
        if task.trainable:
            ws.rows(task, "train", task.train_language)
        for lang in target_languages(task, req.languages):
            ws.rows(task, "evaluation", lang)


def _check_request(req: TransferRequest) -> None:
    """Refuse up front what would otherwise fail after training, or silently vanish."""
    from taskdiff.errors import ConfigError, UnknownNameError, ZeroShotViolation
    from taskdiff.transfer.phases import primary_key

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
        if lang not in declared:  # a typo would otherwise evaluate nothing, without an error
            raise UnknownNameError("evaluation language (no target declares it)", lang, declared)


def _encoders(ws: Workspace, req: TransferRequest, base_path: str, seed: int, bar) -> dict[str, tuple[str, str]]:
    """Intermediate name -> (run id, encoder path) for one seed, plus the base encoder."""
    out = {BASE: (f"base:{req.model}", base_path)}
    for name in req.intermediates:
        task = get_task(name)
        spec = train_spec("intermediate", ws, task, f"base:{req.model}", seed, req.intermediate_train)
        bar.set_postfix_str(f"intermediate {name} seed {seed}")
        result = run_training(ws, spec, task, base_path, req.intermediate_train, keep="encoder")
        out[name] = (result.run_id, str(result.path / "encoder"))
        bar.update(1)
    return out


def _target_scores(ws, req, task, inter: str, parent: tuple[str, str], seed: int, bar) -> list[dict]:
    from taskdiff.transfer.gains import score_rows
    from taskdiff.transfer.retrieval_eval import retrieval_metrics, retrieval_run_key

    rows = []
    run_id, encoder_path = parent
    if task.trainable:
        spec = train_spec("target", ws, task, run_id, seed, req.target_train)
        bar.set_postfix_str(f"{inter} -> {task.name} seed {seed}")
        trained = run_training(ws, spec, task, encoder_path, req.target_train, keep="model")
        run_id, model_path = trained.run_id, str(trained.path / "model")
        bar.update(1)
    for lang in target_languages(task, req.languages):
        if task.trainable:
            result = run_evaluation(ws, eval_spec(ws, task, run_id, lang), task, model_path, lang)
        else:
            extra = retrieval_run_key(req.retrieval_layer, req.pooling)
            result = ws.store.get_or_run(eval_spec(ws, task, run_id, lang, extra), lambda h, l=lang: retrieval_metrics(
                ws, task, encoder_path, l, req.retrieval_layer, req.pooling))
        rows.extend(score_rows(inter, task.name, lang, seed, result))
    return rows


def run_transfer(req: TransferRequest, ws: Workspace, out_dir: Path | None = None):
    """Run (or fetch from the store) every phase of ``req``; returns the gains table.

    Writes ``scores.csv``, ``gains.csv`` and ``gains.parquet`` into ``out_dir`` if given.
    """
    from tqdm.auto import tqdm

    from taskdiff.transfer.gains import gains_table, write_tables
    from taskdiff.transfer.models import resolve_model

    base_path = resolve_model(req.model, ws.store.root)
    _preload(ws, req)
    targets = [get_task(t) for t in req.targets]
    n_train = len(req.seeds) * (len(req.intermediates) + (len(req.intermediates) + 1) * sum(t.trainable for t in targets))
    scores: list[dict] = []
    with tqdm(total=n_train, desc="training phases", disable=not ws.progress) as bar:
        for seed in req.seeds:
            encoders = _encoders(ws, req, base_path, seed, bar)
            for task in targets:
                for inter, parent in encoders.items():
                    scores.extend(_target_scores(ws, req, task, inter, parent, seed, bar))
    if out_dir is not None:
        write_tables(scores, Path(out_dir))
    return gains_table(scores)
