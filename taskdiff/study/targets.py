"""What a study writes about its targets next to ``gains.csv``: format, label count, chance level.

The report reads files only (:mod:`taskdiff.analysis` never imports the task registry), so
what it says about a target - the chance level its baselines are compared with - is written
here, by the study that knows the tasks, into :data:`taskdiff.schema.TARGETS_FILE`
(``targets.json``; its layout is in :mod:`taskdiff.schema`). :func:`~taskdiff.study.run.collect`
and :func:`~taskdiff.study.transfer.run_transfer` write it with the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from taskdiff.io import atomic_write_json
from taskdiff.schema import TARGETS_FILE
from taskdiff.transfer.formats import get_format
from taskdiff.transfer.tasks import get_task

__all__ = ["target_record", "write_targets"]


def target_record(name: str) -> dict:
    """``{"format", "labels", "chance"}`` of the registered target ``name``.

    ``chance`` is the expected accuracy (percent) of a uniform random guess,
    ``100 / len(labels)``, for a format with a label set (classification, pair
    classification); ``None`` for the others (tagging, retrieval, QA, ...).
    """
    task = get_task(name)
    labels = task.labels if get_format(task.format).needs_labels and task.labels else None
    return {"format": task.format, "labels": len(labels) if labels else None,
            "chance": 100.0 / len(labels) if labels else None}


def write_targets(scores: Iterable[dict], out_dir: str | Path) -> Path:
    """Write ``out_dir/targets.json`` for the targets of ``scores`` (rows with a ``target``)."""
    names = dict.fromkeys(row["target"] for row in scores)
    record = {"format": 1, "targets": {name: target_record(name) for name in names}}
    return atomic_write_json(Path(out_dir) / TARGETS_FILE, record)
