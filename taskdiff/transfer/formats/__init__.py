"""Task formats; importing this package registers the built-in ones."""

from taskdiff.transfer.formats.base import Encoded, TaskFormat, format_names, get_format, register_format
from taskdiff.transfer.formats import classification, multiple_choice, qa, regression, retrieval, tagging  # noqa: F401

__all__ = ["Encoded", "TaskFormat", "format_names", "get_format", "register_format"]
