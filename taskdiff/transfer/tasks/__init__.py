"""Tasks: YAML configs validated by pydantic, and a registry that suggests near names."""

from taskdiff.transfer.tasks.config import CarveRule, HubSource, LocalSource, TaskConfig, load_task_file
from taskdiff.transfer.tasks.registry import (
    data_origin,
    get_task,
    list_tasks,
    register_task,
    register_task_file,
)

__all__ = [
    "CarveRule", "HubSource", "LocalSource", "TaskConfig", "load_task_file",
    "data_origin", "get_task", "list_tasks", "register_task", "register_task_file",
]
