"""The task registry: built-in YAML tasks, user task files, and Python-registered tasks.

Names are looked up with :func:`get_task`; a typo raises :class:`UnknownNameError` with the
nearest registered names. Built-in tasks live in ``builtin/*.yaml``; files whose name starts
with ``_`` are bases for ``include:`` only. Users add a task with one YAML file (``--task-file``
or :func:`register_task_file`), or from Python with the :func:`register_task` decorator on a
function that returns a :class:`TaskConfig`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from taskdiff.errors import ConfigError, UnknownNameError
from taskdiff.transfer.tasks.config import TaskConfig, load_task_file, resolve_includes, task_from_dict

_TASKS: dict[str, TaskConfig] = {}
_BUILTINS_LOADED = False


def _builtin_dir() -> Path:
    return Path(str(resources.files("taskdiff.transfer.tasks") / "builtin"))


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    for path in sorted(_builtin_dir().glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        task = task_from_dict(resolve_includes(path), str(path))
        _TASKS.setdefault(task.name, task)


def register_task(obj: TaskConfig | Callable[[], TaskConfig | Iterable[TaskConfig]], *, overwrite: bool = False):
    """Register a task config, or decorate a function returning one (or several).

    Parameters
    ----------
    obj : TaskConfig or callable
        The config, or a zero-argument function returning configs (called at once).
    overwrite : bool
        Replace a task of the same name instead of raising.

    Returns
    -------
    The argument, unchanged, so it works as a decorator.
    """
    _load_builtins()
    configs = obj() if callable(obj) and not isinstance(obj, TaskConfig) else obj
    if isinstance(configs, TaskConfig):
        configs = [configs]
    for cfg in configs:
        if cfg.name in _TASKS and not overwrite and _TASKS[cfg.name] != cfg:
            raise ConfigError(f"task {cfg.name!r} is already registered; pass overwrite=True to replace it")
        _TASKS[cfg.name] = cfg
    return obj


def register_task_file(path: str | Path, *, overwrite: bool = True) -> TaskConfig:
    """Load a user's task YAML (paths relative to its directory) and register it."""
    cfg = load_task_file(Path(path), user_file=True)
    register_task(cfg, overwrite=overwrite)
    return cfg


def get_task(name: str) -> TaskConfig:
    """The registered task called ``name`` (suggests the nearest names on a typo)."""
    _load_builtins()
    try:
        return _TASKS[name]
    except KeyError:
        raise UnknownNameError("task", name, _TASKS) from None


def list_tasks() -> list[TaskConfig]:
    """All registered tasks, sorted by name."""
    _load_builtins()
    return [_TASKS[k] for k in sorted(_TASKS)]


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
