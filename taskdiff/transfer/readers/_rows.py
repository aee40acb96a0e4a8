"""Check that a row is in the canonical schema of its format (:mod:`taskdiff.transfer.schema`).

Every reader passes each row it builds through :func:`validate_row`, so downstream code can
rely on the types without re-checking. The format owns its schema: its
:attr:`~taskdiff.transfer.formats.TaskFormat.columns` and its
:meth:`~taskdiff.transfer.formats.TaskFormat.check_row` (helpers in
:mod:`taskdiff.transfer.formats.rowcheck`); this module checks what every format shares
(exactly the format's columns, a string ``id``) and asks the format for the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from taskdiff.transfer.formats import get_format
from taskdiff.transfer.formats.rowcheck import Where, as_str, check_answer_span, fail

__all__ = ["check_answer_span", "validate_row"]


def validate_row(row: dict[str, Any], fmt: str, path: str | Path, line: int | None, *,
                 labels: Sequence[str] | None = None, check_answers: bool = True) -> dict[str, Any]:
    """Return ``row`` if it has exactly the columns and types of format ``fmt``.

    Parameters
    ----------
    row : dict
        The candidate row.
    fmt : str
        A registered format name (:func:`~taskdiff.transfer.formats.get_format`).
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
    where: Where = (path, line)
    form = get_format(fmt)
    expected = form.columns
    for column in expected:
        if column not in row:
            raise fail(where, column, f"a value for column {column!r}", "none")
    extra = sorted(set(row) - set(expected))
    if extra:
        raise fail(where, extra[0], f"only the columns {list(expected)}", f"extra column {extra[0]!r}")
    as_str(row, "id", where)
    form.check_row(row, where, labels, check_answers)
    return row
