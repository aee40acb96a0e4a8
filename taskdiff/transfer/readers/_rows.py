"""Check that a row is in the canonical schema of its format (:mod:`taskdiff.transfer.schema`).

Every reader passes each row it builds through :func:`validate_row`, so downstream code can
rely on the types without re-checking. The checks are written out rather than expressed as
a pydantic model per format because the error must name the *source* file and line, and
pydantic's coercions (``"1"`` → ``1``) would hide exactly the type mistakes we want to
report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from taskdiff.errors import DataError
from taskdiff.transfer.schema import FORMATS

from ._common import type_name

_Where = tuple[str | Path, int | None]


def _fail(where: _Where, field: str, expected: str, found: str) -> DataError:
    path, line = where
    return DataError(path, expected, found, line=line, field=field)


def _str(row: dict, column: str, where: _Where) -> str:
    value = row[column]
    if not isinstance(value, str):
        raise _fail(where, column, "a string", type_name(value))
    return value


def _int(row: dict, column: str, where: _Where) -> int:
    value = row[column]
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(where, column, "an integer", type_name(value))
    return value


def _str_list(row: dict, column: str, where: _Where, *, nonempty: bool = True) -> list[str]:
    value = row[column]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, column, "a list of strings", type_name(value))
    if nonempty and not value:
        raise _fail(where, column, "a non-empty list", "an empty list")
    return value


def _check_label(label: str, labels: Sequence[str] | None, where: _Where, field: str) -> None:
    if labels is not None and label not in labels:
        raise _fail(where, field, f"one of {list(labels)}", repr(label))


def _classification(row: dict, where: _Where, labels, check_answers) -> None:
    for column in ("text_a", "text_b") if "text_a" in row else ("text",):
        _str(row, column, where)
    _check_label(_str(row, "label", where), labels, where, "label")


def _regression(row: dict, where: _Where, labels, check_answers) -> None:
    _str(row, "text_a", where)
    _str(row, "text_b", where)
    value = row["label"]
    if not isinstance(value, float) or value != value or value in (float("inf"), float("-inf")):
        raise _fail(where, "label", "a finite number (regression score)", repr(value))


def _tagging(row: dict, where: _Where, labels, check_answers) -> None:
    tokens = _str_list(row, "tokens", where)
    tags = _str_list(row, "tags", where)
    if len(tokens) != len(tags):
        raise _fail(where, "tags", f"one tag per token ({len(tokens)})", f"{len(tags)} tags")
    for tag in tags:
        _check_label(tag, labels, where, "tags")


def _extractive_qa(row: dict, where: _Where, labels, check_answers) -> None:
    context = _str(row, "context", where)
    _str(row, "question", where)
    answers = row["answers"]
    if not isinstance(answers, dict) or set(answers) != {"text", "answer_start"}:
        raise _fail(where, "answers", "an object with keys 'text' and 'answer_start'", type_name(answers))
    texts = _str_list(answers, "text", where, nonempty=False)
    starts = answers["answer_start"]
    if not isinstance(starts, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in starts):
        raise _fail(where, "answers.answer_start", "a list of integers", type_name(starts))
    if len(texts) != len(starts):
        raise _fail(where, "answers", "as many answer_start values as texts", f"{len(starts)} vs {len(texts)}")
    if check_answers:
        for text, start in zip(texts, starts):
            check_answer_span(context, text, start, where)


def check_answer_span(context: str, text: str, start: int, where: _Where) -> None:
    """Raise :class:`DataError` unless ``context[start:start+len(text)] == text``."""
    found = context[start:start + len(text)] if 0 <= start <= len(context) else None
    if found != text:
        shown = "outside the context" if found is None else repr(found)
        raise _fail(where, "answers", f"answer text {text!r} at answer_start {start} of the context",
                    f"{shown} there (set check_answers=False to accept)")


def _multiple_choice(row: dict, where: _Where, labels, check_answers) -> None:
    _str(row, "context", where)
    _str(row, "question", where)
    choices = _str_list(row, "choices", where)
    label = _int(row, "label", where)
    if not 0 <= label < len(choices):
        raise _fail(where, "label", f"a choice index in 0..{len(choices) - 1}", str(label))


def _retrieval(row: dict, where: _Where, labels, check_answers) -> None:
    _str(row, "text", where)
    side = _str(row, "side", where)
    if side not in ("source", "target"):
        raise _fail(where, "side", "'source' or 'target'", repr(side))
    _str(row, "gold", where)


_CHECKS: dict[str, Callable[..., None]] = {
    "classification": _classification,
    "pair_classification": _classification,
    "regression": _regression,
    "tagging": _tagging,
    "extractive_qa": _extractive_qa,
    "multiple_choice": _multiple_choice,
    "retrieval": _retrieval,
}


def validate_row(row: dict[str, Any], fmt: str, path: str | Path, line: int | None, *,
                 labels: Sequence[str] | None = None, check_answers: bool = True) -> dict[str, Any]:
    """Return ``row`` if it has exactly the columns and types of format ``fmt``.

    Parameters
    ----------
    row : dict
        The candidate row.
    fmt : str
        A key of :data:`taskdiff.transfer.schema.FORMATS`.
    path, line
        Where the row came from (for the error message).
    labels : sequence of str, optional
        Allowed labels (classification formats) or tags (tagging).
    check_answers : bool
        For ``extractive_qa``: require each answer text at its ``answer_start``.

    Raises
    ------
    DataError
        Naming the file, line/record and column that is missing or malformed.
    """
    where: _Where = (path, line)
    expected = FORMATS[fmt]
    for column in expected:
        if column not in row:
            raise _fail(where, column, f"a value for column {column!r}", "none")
    extra = sorted(set(row) - set(expected))
    if extra:
        raise _fail(where, extra[0], f"only the columns {list(expected)}", f"extra column {extra[0]!r}")
    _str(row, "id", where)
    _CHECKS[fmt](row, where, labels, check_answers)
    return row
