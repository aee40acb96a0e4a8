"""Helpers every reader shares: strict UTF-8 reading, line splitting, option parsing.

Why these are written here rather than taken from a library: the standard ``open(...,
encoding="utf-8")`` raises a ``UnicodeDecodeError`` that names a byte offset, not a line, and
``str.splitlines`` also splits on characters such as U+2028 that may legally sit inside a
JSON string or a sentence. The helpers below keep line numbers exact so that every
:class:`~taskdiff.errors.DataError` can point at ``file:line``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from taskdiff.errors import ConfigError, DataError
from taskdiff.transfer.formats.rowcheck import type_name  # noqa: F401  (readers import it from here)

_BOM = "\ufeff"
ModelT = TypeVar("ModelT", bound=BaseModel)


def read_text(path: str | Path) -> str:
    """Read ``path`` as strict UTF-8 and return its text (a leading BOM is dropped).

    Raises
    ------
    DataError
        If the file cannot be read (missing, a directory, no permission) or holds bytes
        that are not UTF-8; the latter names the 1-based line of the first bad byte.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(path, "a readable file", exc.strerror or type(exc).__name__) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.end]
        raise DataError(path, "UTF-8 text", f"undecodable bytes {bad!r}", line=line) from None
    return text[1:] if text.startswith(_BOM) else text


def split_lines(text: str) -> list[str]:
    """Split ``text`` on ``\\n`` only, dropping a trailing ``\\r`` per line (CRLF files).

    A final newline does not produce an extra empty line, so ``len(result)`` equals the
    number of lines ``wc -l`` counts (plus one when the last line lacks a newline).
    """
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_options(model: type[ModelT], options: dict[str, Any], reader: str) -> ModelT:
    """Validate reader ``options`` against a pydantic ``model``.

    Raises
    ------
    ConfigError
        Naming the reader, the offending option and what was wrong with it.
    """
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(options)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid options for reader {reader!r}: {problems}") from None


def require_rows(rows: list[dict[str, Any]], path: str | Path, found: str = "an empty file") -> list[dict[str, Any]]:
    """Return ``rows`` unchanged, or raise :class:`DataError` if there are none."""
    if not rows:
        raise DataError(path, "at least one example", found)
    return rows


def check_unique_id(seen: dict[str, int | None], row_id: str, path: str | Path, line: int | None,
                    hint: str = "") -> None:
    """Record ``row_id`` in ``seen`` (id → line) or raise if it was seen before."""
    if row_id in seen:
        first = seen[row_id]
        where = f" (first seen at line/record {first})" if first is not None else ""
        expected = f"unique ids ({hint})" if hint else "unique ids"
        raise DataError(path, expected, f"duplicate id {row_id!r}{where}", line=line, field="id")
    seen[row_id] = line
