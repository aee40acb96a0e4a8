"""Training a phase with ``transformers.Trainer`` (subclassed hooks, no training loop of ours).

:class:`~taskdiff.transfer.trainer.TransferTrainer` (in :mod:`taskdiff.transfer.trainer`,
with the callbacks) overrides two hooks: ``compute_loss`` (drops the bookkeeping column
``example_index``, stops on a NaN/inf loss, feeds the dynamics recorder from the very
forward pass that trains) and ``evaluate`` (English model selection with the task's own
metric, through :mod:`taskdiff.transfer.evaluation`). Dynamic padding comes from the
format's collator, length-grouped batches from ``train_sampling_strategy``; checkpoints
are written every epoch so an interrupted phase resumes from the last one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taskdiff.errors import ZeroShotViolation
from taskdiff.progress import plain_lines, run_label
from taskdiff.transfer.models import freeze_word_embeddings
from taskdiff.transfer.precision import resolve_precision

log = logging.getLogger(__name__)


class TrainConfig(BaseModel):
    """Hyperparameters of one phase; defaults are the X-STILTs reference setup (jiant)."""

    model_config = ConfigDict(extra="forbid")
    learning_rate: float = Field(1e-5, gt=0)
    epochs: float = Field(3.0, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    batch_size: int = Field(16, gt=0)
    gradient_accumulation_steps: int = Field(1, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    max_length: int | None = Field(None, gt=8)
    freeze_embeddings: bool = True
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    group_by_length: bool = True
    early_stopping_patience: int | None = Field(None, ge=1)
    select_best: bool = True
    max_steps: int = -1
    record_dynamics: bool = False
    dynamics_mode: Literal["forward", "epoch_end"] = "forward"

    @model_validator(mode="after")
    def _dynamics(self) -> "TrainConfig":
        if self.record_dynamics and self.dynamics_mode != "forward":  # it would record nothing
            raise ValueError("record_dynamics records from the training forward pass (dynamics_mode 'forward'); "
                             "the 'epoch_end' pass is the difficulty budget's (taskdiff.difficulty.budget)")
        return self


def _trainer_class():
    """The Trainer class a phase uses (:class:`taskdiff.transfer.trainer.TransferTrainer`;
    imported here, when a phase trains, to keep torch out of import time)."""
    from taskdiff.transfer.trainer import TransferTrainer

    return TransferTrainer


def training_arguments(cfg: TrainConfig, output_dir: Path, seed: int, precision: str, has_selection: bool,
                       primary: str, progress: bool = True, checkpoints: bool = True):
    """``TrainingArguments`` for one phase (epoch checkpoints unless ``checkpoints=False``, selection on English dev)."""
    import torch
    from transformers import TrainingArguments

    select = has_selection and cfg.select_best
    if select and not checkpoints:
        raise ValueError("model selection (select_best) reloads the best epoch's checkpoint: it needs checkpoints")
    return TrainingArguments(
        output_dir=str(output_dir), learning_rate=cfg.learning_rate, num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps, warmup_steps=cfg.warmup_ratio, weight_decay=cfg.weight_decay,
        per_device_train_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        lr_scheduler_type="linear", seed=seed, data_seed=seed,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=not torch.cuda.is_available(),
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        eval_strategy="epoch" if has_selection else "no", save_strategy="epoch" if checkpoints else "no",
        save_total_limit=2, load_best_model_at_end=select,
        metric_for_best_model=primary if select else None, greater_is_better=True,
        logging_strategy="epoch", report_to="none", disable_tqdm=not progress,
        remove_unused_columns=False, dataloader_num_workers=0,
    )


def check_english(rows: list[dict], role: str, language: str = "en") -> None:
    """The zero-shot guard: refuse any non-English example in training or selection."""
    bad = [r for r in rows if r.get("language", language) != language]
    if bad:
        raise ZeroShotViolation(
            f"{len(bad)} {role} examples are not {language!r} (first: id {bad[0]['id']!r}, "
            f"language {bad[0].get('language')!r}); training and model selection must be English only")


def train_phase(model, tokenizer, fmt, train_rows: list[dict], labels, cfg: TrainConfig, output_dir: Path,
                seed: int, selection_fn: Callable | None, primary: str, recorder=None, max_length: int = 128,
                progress: bool = True, callbacks: list | None = None, selection_rows: list[dict] | None = None,
                checkpoints: bool = True):
    """Fine-tune ``model`` on ``train_rows``; resumes from the last checkpoint in ``output_dir``.

    ``selection_fn(model) -> scores`` scores the English ``selection_rows`` at each epoch end.
    ``checkpoints=False`` writes no epoch checkpoint: for short runs (the difficulty
    budget, about a minute) that are cheaper to redo after an interruption than to save
    (model + optimiser state: ~640 MB per epoch for e5-small).

    Returns
    -------
    transformers.Trainer
        The trainer, with the best (or last) model loaded.
    """
    import datasets
    from transformers import EarlyStoppingCallback
    from transformers.trainer_utils import get_last_checkpoint


    check_english(train_rows, "training")
    check_english(selection_rows or [], "model-selection")
    precision = resolve_precision(cfg.precision)
    encoded = fmt.encode(train_rows, tokenizer, labels, max_length, train=True)
    for f in encoded.features:
        ids = f["input_ids"]
        f["length"] = max(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)
    dataset = datasets.Dataset.from_list(encoded.features)
    if cfg.freeze_embeddings:
        freeze_word_embeddings(model)
    args = training_arguments(cfg, output_dir, seed, precision, selection_fn is not None, primary, progress,
                              checkpoints)
    cbs = list(callbacks or [])
    if recorder is not None:
        from taskdiff.transfer.trainer import DynamicsCallback

        cbs.append(DynamicsCallback(recorder))
    if cfg.early_stopping_patience and selection_fn is not None:
        cbs.append(EarlyStoppingCallback(cfg.early_stopping_patience))
    collate = fmt.collator(tokenizer)
    trainer = _trainer_class()(
        model=model, args=args, train_dataset=dataset, eval_dataset=selection_rows if selection_fn else None,
        data_collator=lambda b: collate(
            [{k: v for k, v in f.items() if k != "length"} for f in b]),
        processing_class=tokenizer, callbacks=cbs, task_format=fmt, recorder=recorder, selection_fn=selection_fn)
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from taskdiff.transfer.trainer import TrainingProgress

    trainer.remove_callback(PrinterCallback)  # printed the log dicts on stdout
    trainer.remove_callback(ProgressCallback)  # nested bars even when stderr is a file
    if progress or plain_lines():  # one bar (terminal) or a few plain lines (file) per run; log dicts at INFO
        trainer.add_callback(TrainingProgress(run_label(output_dir)))
    last = get_last_checkpoint(str(output_dir)) if Path(output_dir).exists() else None
    if last:
        log.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    return trainer
