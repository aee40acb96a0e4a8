"""The task registry: built-in YAML tasks, user task files, and Python-registered tasks.

Names are looked up with :func:`get_task`; a typo raises :class:`UnknownNameError` with the
nearest registered names. Built-in tasks live in ``builtin/*.yaml``; files whose name starts
with ``_`` are bases for ``include:`` only. Users add a task with one YAML file (``--task-file``
or :func:`register_task_file`), or from Python with the :func:`register_task` decorator on a
function that returns a :class:`TaskConfig`. A user file may ``include: builtin:<file>`` to
start from a built-in file. The tasks live in :data:`TASKS`, a :class:`taskdiff.registry.Registry`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from taskdiff.registry import Registry
from taskdiff.transfer.tasks.config import TaskConfig, builtin_dir, load_task_file, resolve_includes, task_from_dict


def _load_builtins() -> None:
    """Register every built-in task file (names starting with ``_`` are include-only bases)."""
    for path in sorted(builtin_dir().glob("*.yaml")):
        if not path.name.startswith("_"):
            task = task_from_dict(resolve_includes(path), str(path))
            TASKS.register(task.name, task)


#: All tasks: the built-in YAML files (loaded on first use), task files and Python configs.
TASKS: Registry = Registry("task", builtins=_load_builtins)


def register_task(obj: TaskConfig | Callable[[], TaskConfig | Iterable[TaskConfig]], *, overwrite: bool = False):
    """Register a task config, or decorate a function returning one (or several).

    Parameters
    ----------
    obj : TaskConfig or callable
        The config, or a zero-argument function returning configs (called at once).
    overwrite : bool
        Replace a different task of the same name instead of raising
        :class:`~taskdiff.errors.DuplicateNameError` (an equal config is always accepted).

    Returns
    -------
    The argument, unchanged, so it works as a decorator.
    """
    configs = obj() if callable(obj) and not isinstance(obj, TaskConfig) else obj
    if isinstance(configs, TaskConfig):
        configs = [configs]
    for cfg in configs:
        TASKS.register(cfg.name, cfg, overwrite=overwrite)
    return obj


def register_task_file(path: str | Path, *, overwrite: bool = True) -> TaskConfig:
    """Load a user's task YAML (paths relative to its directory) and register it."""
    cfg = load_task_file(Path(path), user_file=True)
    register_task(cfg, overwrite=overwrite)
    return cfg


def get_task(name: str) -> TaskConfig:
    """The registered task called ``name`` (suggests the nearest names on a typo)."""
    return TASKS.get(name)


def list_tasks() -> list[TaskConfig]:
    """All registered tasks, sorted by name."""
    return [TASKS.get(name) for name in TASKS.names()]


def data_origin(task: TaskConfig) -> str:
    """A short human description of where a task's data comes from."""
    parts = []
    if task.components:
        parts.append("mixture of " + ", ".join(task.components))
    if task.local is not None:
        if task.base_dir is not None:
            parts.append(f"files under {task.base_dir}/{task.local.root}")
        elif task.local.layout == "xtreme":
            parts.append(f"DATA_DIR/xtreme/{task.local.dataset}")
        else:
            parts.append(f"DATA_DIR/{task.local.root}")
    if task.hub is not None:
        rev = f"@{task.hub.revision}" if task.hub.revision else ""
        parts.append(f"hub:{task.hub.path}{'/' + task.hub.name if task.hub.name else ''}{rev}")
    return " | ".join(parts)
