"""``csv`` and ``tsv``: delimited text → canonical rows, with the :mod:`csv` module.

Options are those of :class:`~taskdiff.transfer.readers._table.TableOptions` plus

``header`` (bool, default true)
    First record names the columns; specs are those names. With ``header: false`` specs are
    0-based column indices and every record must have as many columns as the first one.
``quoting`` (``minimal`` | ``none``)
    Default ``minimal`` for ``csv`` and ``none`` for ``tsv``: the XTREME and GLUE TSV files are
    unquoted and contain bare ``"`` characters that must stay part of the text.

Blank records are skipped; ids default to the 0-based index of the data record (header
excluded). CRLF line ends are accepted.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Literal, Optional

from taskdiff.errors import DataError

from ._common import parse_options, read_text
from ._registry import register_reader
from ._table import RowBuilder, TableOptions

_QUOTING = {"minimal": csv.QUOTE_MINIMAL, "none": csv.QUOTE_NONE}


class DelimitedOptions(TableOptions):
    """:class:`TableOptions` plus ``header`` and ``quoting``."""

    header: bool = True
    quoting: Optional[Literal["minimal", "none"]] = None


def _records(path: Path, text: str, delimiter: str, quoting: int):
    """Yield ``(line, fields)`` for every non-blank record; csv errors become DataError."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(path, "well-formed delimited text", str(exc), line=reader.line_num) from None
        if fields and fields != [""]:
            yield reader.line_num, fields


def _check_header(path: Path, names: list[str], line: int) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(path, "distinct column names in the header", f"{duplicates[0]!r} repeated",
                        line=line, field=duplicates[0])


def _read_delimited(path: Path, options: dict[str, Any], *, name: str, delimiter: str,
                    default_quoting: str) -> list[dict[str, Any]]:
    opts = parse_options(DelimitedOptions, options, name)
    quoting = _QUOTING[opts.quoting or default_quoting]
    builder = RowBuilder(opts, path)
    names: list[Any] | None = None
    index = 0
    for line, fields in _records(path, read_text(path), delimiter, quoting):
        if names is None:
            names = list(fields) if opts.header else list(range(len(fields)))
            if opts.header:
                _check_header(path, fields, line)
                continue
        if len(fields) != len(names):
            raise DataError(path, f"{len(names)} {name} columns", f"{len(fields)} columns", line=line)
        builder.add(dict(zip(names, fields)), line=line, index=index)
        index += 1
    return builder.finish()


@register_reader("csv")
def read_csv(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read a comma-separated file into canonical rows (see the module docstring).

    Raises
    ------
    DataError
        Wrong column count, a missing field, a wrong value, undecodable bytes, no examples.
    ConfigError
        Invalid options.
    """
    return _read_delimited(path, options, name="csv", delimiter=",", default_quoting="minimal")


@register_reader("tsv")
def read_tsv(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read a tab-separated file (unquoted by default) into canonical rows.

    Raises
    ------
    DataError
        Wrong column count, a missing field, a wrong value, undecodable bytes, no examples.
    ConfigError
        Invalid options.
    """
    return _read_delimited(path, options, name="tsv", delimiter="\t", default_quoting="none")
