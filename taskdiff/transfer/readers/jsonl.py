"""``jsonl``: one JSON object per line → canonical rows (options: :class:`TableOptions`).

Blank lines are skipped (they keep their line number, so ids stay line-aligned). Used for
SNLI, CommonsenseQA (HF-flattened), Social IQa, HellaSwag, ANLI and XCOPA.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taskdiff.errors import DataError

from ._common import parse_options, read_text, split_lines, type_name
from ._registry import register_reader
from ._table import RowBuilder, TableOptions


def parse_json_line(line: str, path: str | Path, number: int) -> dict[str, Any]:
    """Parse one JSONL line into an object, or raise DataError naming the line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(path, "a JSON object", f"invalid JSON ({exc.msg} at column {exc.colno})",
                        line=number) from None
    except RecursionError:
        raise DataError(path, "a JSON object", "JSON nested too deeply", line=number) from None
    if not isinstance(record, dict):
        raise DataError(path, "a JSON object", type_name(record), line=number)
    return record


@register_reader("jsonl")
def read_jsonl(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read a JSON-lines file into canonical rows.

    Parameters
    ----------
    path : Path
        The ``.jsonl`` file (strict UTF-8).
    **options
        See :class:`~taskdiff.transfer.readers._table.TableOptions`: ``format``,
        ``columns``, ``label_map``, ``maps``, ``drop``, ``labels``, ``id_prefix``,
        ``check_answers``.

    Returns
    -------
    list of dict
        Rows in the schema of ``format``; ids default to the 0-based line index.

    Raises
    ------
    DataError
        Bad JSON, a non-object line, a missing field, a wrong type, an unmapped label,
        duplicate ids, undecodable bytes, or no examples.
    ConfigError
        Invalid options.
    """
    opts = parse_options(TableOptions, options, "jsonl")
    builder = RowBuilder(opts, path)
    for number, line in enumerate(split_lines(read_text(path)), start=1):
        if line.strip():
            builder.add(parse_json_line(line, path, number), line=number, index=number - 1)
    return builder.finish()
