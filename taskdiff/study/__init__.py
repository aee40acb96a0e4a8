"""Studies at scale: a declarative study config, a resumable run graph, and executors.

* :func:`load_study` (``config``) - read and validate a study YAML file;
* :func:`plan_study` / :func:`resolve` (``graph``) - the run graph, whose node ids are run
  store ids;
* :func:`run_study` (``run``) - run or finish a study on ``local``, ``gpu-pool``, ``slurm``
  (submitit) or ``ray``, a shard or some phases of it, and write the study directory;
* :func:`study_status` (``status``) - done / running / failed / pending;
* :func:`estimate_plan` (``estimate``) - the dry-run's cost estimate.

See ``docs/studies.md``. Names are imported lazily (no torch import here).
"""

from __future__ import annotations

import importlib

__all__ = ["Study", "StudyConfig", "estimate_plan", "format_plan", "format_status", "load_study", "plan_study",
           "resolve", "run_study", "study_status"]

_WHERE = {"Study": "config", "StudyConfig": "config", "load_study": "config", "plan_study": "graph",
          "resolve": "graph", "run_study": "run", "study_status": "status", "format_status": "status",
          "estimate_plan": "estimate", "format_plan": "estimate"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"taskdiff.study.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'taskdiff.study' has no attribute {name!r}")
