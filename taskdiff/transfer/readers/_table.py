"""Options and row building shared by the record readers (``jsonl``, ``csv``, ``tsv``).

A *record* is one parsed line (a JSON object, or a CSV/TSV row as a dict keyed by header
name or by 0-based column index). :class:`RowBuilder` turns records into canonical rows
following :class:`TableOptions`:

* ``columns`` maps each canonical column to a *source spec*: a key (``"premise"``), a column
  index (``0``, headerless files), a dotted path into nested objects (``"choices.text"``; a
  list met on the way is mapped over, so ``"question.choices.text"`` gathers the text of
  every choice), or a list of specs gathered into a list (``[answerA, answerB, answerC]``).
* ``label_map`` / ``maps`` translate source values (``{"A": 0}``); a map must cover every
  value that occurs: an unmapped value is a :class:`~taskdiff.errors.DataError`. Keys are
  compared as strings, numbers by their JSON spelling (``1`` and ``"1"`` are the same key).
* ``drop`` removes records whose field has one of the listed values (SNLI ``gold_label: ["-"]``).
* Without an ``id`` column the id is ``id_prefix + str(index)``, index being the 0-based
  record index (JSONL: line index), which is the same for line-aligned translations.
* For ``multiple_choice`` a missing ``context`` column means ``context = ""``.
* Integers are accepted as ids and as classification labels (written as decimal strings),
  and digit strings as multiple-choice labels (CSV/TSV have no integer type).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from taskdiff.errors import DataError
from taskdiff.transfer.formats import format_names, get_format

from ._common import check_unique_id, require_rows, type_name
from ._rows import validate_row

Spec = Union[int, str, list[Union[int, str]]]


def value_key(value: Any) -> str:
    """The string a map or drop list compares: strings as-is, other scalars as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _keyed(mapping: Any) -> Any:
    return {value_key(k): v for k, v in mapping.items()} if isinstance(mapping, dict) else mapping


class TableOptions(BaseModel):
    """Options of the record readers (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    format: str
    columns: dict[str, Spec]
    label_map: Optional[dict[str, Union[str, int]]] = None
    maps: dict[str, dict[str, Union[str, int]]] = Field(default_factory=dict)
    drop: dict[Union[int, str], list[Any]] = Field(default_factory=dict)
    labels: Optional[list[str]] = None
    id_prefix: str = ""
    check_answers: bool = True

    @field_validator("label_map", mode="before")
    @classmethod
    def _label_map_keys(cls, value: Any) -> Any:
        return _keyed(value)

    @field_validator("maps", mode="before")
    @classmethod
    def _maps_keys(cls, value: Any) -> Any:
        return {k: _keyed(m) for k, m in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _consistent(self) -> "TableOptions":
        if self.format not in format_names():
            raise ValueError(f"format must be one of {format_names()}, not {self.format!r}")
        allowed = get_format(self.format).columns
        unknown = sorted(set(self.columns) - set(allowed))
        if unknown:
            raise ValueError(f"columns {unknown} are not columns of format {self.format!r} {list(allowed)}")
        fmt = get_format(self.format)
        optional = {"id"} | set(fmt.column_defaults)
        missing = [c for c in allowed if c not in self.columns and c not in optional]
        if missing:
            raise ValueError(f"columns must give a source for {missing}")
        if self.label_map is not None and "label" in self.maps:
            raise ValueError("give label_map or maps.label, not both")
        if self.labels is not None and not fmt.has_label_set:
            raise ValueError(f"labels applies to formats with a label set, not {self.format!r}")
        bad = sorted(set(self.maps) - set(self.columns))
        if bad:
            raise ValueError(f"maps names columns {bad} that are not in columns")
        return self

    def all_maps(self) -> dict[str, dict[str, Any]]:
        """``maps`` with ``label_map`` folded in as ``maps["label"]``."""
        return {**self.maps, **({"label": self.label_map} if self.label_map is not None else {})}


class _Missing(Exception):
    """A source spec has no value in a record (internal; becomes a DataError)."""


def _walk(value: Any, parts: list[str]) -> Any:
    for i, part in enumerate(parts):
        if isinstance(value, list):
            return [_walk(item, parts[i:]) for item in value]
        if not isinstance(value, dict) or part not in value:
            raise _Missing
        value = value[part]
    return value


def resolve(record: dict, spec: Spec) -> Any:
    """The value of ``spec`` in ``record`` (see the module docstring); raises ``_Missing``."""
    if isinstance(spec, list):
        return [resolve(record, item) for item in spec]
    if spec in record:
        return record[spec]
    if isinstance(spec, str) and "." in spec:
        return _walk(record, spec.split("."))
    raise _Missing


class RowBuilder:
    """Accumulates canonical rows from records of one file.

    Parameters
    ----------
    options : TableOptions
        The validated reader options.
    path : Path
        The file being read (for error messages).
    """

    def __init__(self, options: TableOptions, path: str | Path):
        self.options, self.path = options, path
        self.maps = options.all_maps()
        self.drop = {spec: {value_key(v) for v in values} for spec, values in options.drop.items()}
        self.rows: list[dict[str, Any]] = []
        self.seen: dict[str, int | None] = {}
        self.n_dropped = 0

    def _get(self, record: dict, spec: Spec, line: int) -> Any:
        try:
            return resolve(record, spec)
        except _Missing:
            specs = spec if isinstance(spec, list) else [spec]
            first = next(s for s in specs if not _has(record, s))
            raise DataError(self.path, f"a field {first!r}", "none", line=line, field=str(first)) from None

    def _is_dropped(self, record: dict) -> bool:
        for spec, values in self.drop.items():
            try:
                value = resolve(record, spec)
            except _Missing:
                continue
            if not isinstance(value, (list, dict)) and value_key(value) in values:
                return True
        return False

    def _map(self, column: str, value: Any, line: int) -> Any:
        mapping = self.maps[column]
        field = _field_name(column, self.options.columns[column])
        if isinstance(value, (list, dict)) or value_key(value) not in mapping:
            keys = list(mapping)
            raise DataError(self.path, f"one of {keys} (the keys of the {column} map)", type_name(value),
                            line=line, field=field)
        return mapping[value_key(value)]

    def _coerce(self, row: dict[str, Any]) -> dict[str, Any]:
        rid = row.get("id")
        if isinstance(rid, int) and not isinstance(rid, bool):
            row["id"] = str(rid)
        if "label" in row:  # in the schema's type (the format's coerce_label)
            row["label"] = get_format(self.options.format).coerce_label(row["label"])
        return row

    def add(self, record: dict, line: int, index: int) -> None:
        """Build, check and keep the row of one record (unless ``drop`` removes it).

        Raises
        ------
        DataError
            For a missing field, an unmapped value, a wrong type or a duplicate id.
        """
        if self._is_dropped(record):
            self.n_dropped += 1
            return
        row: dict[str, Any] = {}
        for column, spec in self.options.columns.items():
            value = self._get(record, spec, line)
            row[column] = self._map(column, value, line) if column in self.maps else value
        row = self._coerce(row)
        prefix = self.options.id_prefix
        if "id" not in row:
            row["id"] = f"{prefix}{index}"
        elif isinstance(row["id"], str):
            row["id"] = prefix + row["id"]
        for column, value in get_format(self.options.format).column_defaults.items():
            row.setdefault(column, value)
        row = {c: row[c] for c in get_format(self.options.format).columns if c in row}
        try:
            validate_row(row, self.options.format, self.path, line, labels=self.options.labels,
                         check_answers=self.options.check_answers)
        except DataError as exc:
            raise self._renamed(exc) from None
        check_unique_id(self.seen, row["id"], self.path, line)
        self.rows.append(row)

    def _renamed(self, exc: DataError) -> DataError:
        """Name the source field (``gold_label``) rather than the canonical column (``label``)."""
        column = (exc.field or "").split(".")[0]
        if column not in self.options.columns:
            return exc
        field = _field_name(column, self.options.columns[column])
        return DataError(exc.path, exc.expected, exc.found, line=exc.line, field=field)

    def finish(self) -> list[dict[str, Any]]:
        """The rows, or a DataError if the file held none (or all were dropped)."""
        found = f"0 examples ({self.n_dropped} dropped)" if self.n_dropped else "an empty file"
        return require_rows(self.rows, self.path, found)


def _has(record: dict, spec: int | str) -> bool:
    try:
        resolve(record, spec)
    except _Missing:
        return False
    return True


def _field_name(column: str, spec: Spec) -> str:
    return column if isinstance(spec, list) else str(spec)
