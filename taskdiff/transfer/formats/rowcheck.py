"""Checks of one canonical row's values, for :meth:`TaskFormat.check_row` implementations.

A format lists its columns (:attr:`TaskFormat.columns`) and checks their values with these
helpers; :func:`taskdiff.transfer.readers._rows.validate_row` checks the column set and the
``id`` and then asks the format. The checks are written out rather than expressed as a
pydantic model per format because the error must name the *source* file and line, and
pydantic's coercions (``"1"`` -> ``1``) would hide exactly the type mistakes to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from taskdiff.errors import DataError

__all__ = ["Where", "as_int", "as_str", "check_answer_span", "check_label", "fail", "str_list", "type_name"]

#: Where a row came from: ``(path, line or record)``, for error messages.
Where = tuple[str | Path, int | None]


def type_name(value: Any) -> str:
    """A short description of ``value`` for error messages: its JSON-ish type and value."""
    names = {type(None): "null", bool: "boolean", int: "integer", float: "number",
             str: "string", list: "list", dict: "object"}
    return f"{names.get(type(value), type(value).__name__)} {value!r}"


def fail(where: Where, field: str, expected: str, found: str) -> DataError:
    """The :class:`DataError` for ``field`` of the row at ``where`` (returned, to raise)."""
    path, line = where
    return DataError(path, expected, found, line=line, field=field)


def as_str(row: dict, column: str, where: Where) -> str:
    """``row[column]``, which must be a string."""
    value = row[column]
    if not isinstance(value, str):
        raise fail(where, column, "a string", type_name(value))
    return value


def as_int(row: dict, column: str, where: Where) -> int:
    """``row[column]``, which must be an integer (not a boolean)."""
    value = row[column]
    if not isinstance(value, int) or isinstance(value, bool):
        raise fail(where, column, "an integer", type_name(value))
    return value


def str_list(row: dict, column: str, where: Where, *, nonempty: bool = True) -> list[str]:
    """``row[column]``, which must be a list of strings (non-empty unless ``nonempty=False``)."""
    value = row[column]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(where, column, "a list of strings", type_name(value))
    if nonempty and not value:
        raise fail(where, column, "a non-empty list", "an empty list")
    return value


def check_label(label: str, labels: Sequence[str] | None, where: Where, field: str) -> None:
    """``label`` must be one of ``labels`` (when the task declares them)."""
    if labels is not None and label not in labels:
        raise fail(where, field, f"one of {list(labels)}", repr(label))


def check_answer_span(context: str, text: str, start: int, where: Where) -> None:
    """Raise :class:`DataError` unless ``context[start:start+len(text)] == text``."""
    found = context[start:start + len(text)] if 0 <= start <= len(context) else None
    if found != text:
        shown = "outside the context" if found is None else repr(found)
        raise fail(where, "answers", f"answer text {text!r} at answer_start {start} of the context",
                   f"{shown} there (set check_answers=False to accept)")
