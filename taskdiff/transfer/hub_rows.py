"""Turn a hub ``datasets.Dataset`` into canonical rows, with a task's column mapping."""

from __future__ import annotations

from typing import Any

from taskdiff.errors import DataError
from taskdiff.transfer.formats import get_format


def field_value(record: dict, spec: Any, origin: str, index: int) -> Any:
    """Resolve a column spec on one record: a key, a dotted path, or a list of specs."""
    if isinstance(spec, list):
        return [field_value(record, s, origin, index) for s in spec]
    value: Any = record
    for part in str(spec).split("."):
        if not isinstance(value, dict) or part not in value:
            raise DataError(origin, f"a field {spec!r}", f"keys {sorted(record)[:8]}", line=index + 1, field=str(spec))
        value = value[part]
    return value


def hub_rows(ds, task) -> list[dict]:
    """Canonical rows from a hub split (integer labels named by ``label_names``)."""
    hub = task.hub
    names = hub.label_names
    origin = f"hub:{hub.path}"
    rows, fmt = [], get_format(task.format)
    for i, rec in enumerate(ds):
        row = {col: field_value(rec, spec, origin, i) for col, spec in hub.columns.items()}
        row.setdefault("id", str(rec.get("id", i)))
        row["id"] = str(row["id"])
        if names and "label" in row and isinstance(row["label"], int):
            if row["label"] < 0:
                continue  # unlabelled (e.g. SNLI -1)
            row["label"] = names[row["label"]]
        if names and "tags" in row:
            row["tags"] = [names[t] if isinstance(t, int) else t for t in row["tags"]]
        rows.append(fmt.hub_row(row, rec))
    return rows
