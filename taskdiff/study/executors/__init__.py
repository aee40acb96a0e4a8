"""Executors: where a study's runs are executed, behind one interface (:mod:`.base`).

============  ==================================================================
``local``     N worker processes on this machine (``--workers``; 0 = in-process)
``gpu-pool``  one worker per visible GPU (``CUDA_VISIBLE_DEVICES``); local if none
``slurm``     submitit job arrays per phase, requeued on pre-emption
``ray``       Ray remote tasks with ``num_gpus`` resources
============  ==================================================================

:func:`register_executor` adds another (a factory ``(study, workers, detach) -> Executor``).
The Slurm and Ray modules import submitit / ray only when chosen.
"""

from __future__ import annotations

from typing import Callable

from taskdiff.registry import Registry
from taskdiff.study.executors.base import Executor, Outcome
from taskdiff.errors import ConfigError
from taskdiff.study.executors.gpu_pool import make_gpu_pool
from taskdiff.study.executors.local import LocalExecutor
from taskdiff.study.executors.ray_exec import RayExecutor
from taskdiff.study.executors.slurm import SlurmExecutor

__all__ = ["Executor", "Outcome", "executor_names", "make_executor", "register_executor"]


def _local(study, workers=None, detach=False):

    return LocalExecutor(study.config.executor.workers if workers is None else workers)


def _gpu_pool(study, workers=None, detach=False):

    return make_gpu_pool(study.config.executor.workers if workers is None else workers)


def _slurm(study, workers=None, detach=False):
    from pathlib import Path


    if study.out is None:
        raise ConfigError("the slurm executor needs a study directory (--out or 'out:') for its job folder")
    opts = study.config.executor
    folder = Path(study.out) / opts.slurm.folder
    return SlurmExecutor(opts.slurm, folder, study_name=study.config.name, poll_s=max(opts.poll_s, 1.0), detach=detach)


def _ray(study, workers=None, detach=False):

    return RayExecutor(study.config.executor.ray)


_EXECUTORS: Registry = Registry("executor")
for _name, _factory in {"local": _local, "gpu-pool": _gpu_pool, "slurm": _slurm, "ray": _ray}.items():
    _EXECUTORS.register(_name, _factory)
del _name, _factory


def register_executor(name: str, factory: Callable, *, overwrite: bool = False) -> None:
    """Register ``factory(study, workers=None, detach=False) -> Executor`` under ``name``.

    A different factory under a taken name raises :class:`~taskdiff.errors.DuplicateNameError`
    unless ``overwrite=True``.
    """
    _EXECUTORS.register(name, factory, overwrite=overwrite)


def executor_names() -> list[str]:
    """The executor names, sorted."""
    return _EXECUTORS.names()


def make_executor(name: str, study, *, workers: int | None = None, detach: bool = False) -> Executor:
    """The executor called ``name`` for ``study``."""
    return _EXECUTORS.get(name)(study, workers=workers, detach=detach)
