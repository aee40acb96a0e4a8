"""Retrieval (BUCC, Tatoeba): no training; sentences are embedded and matched."""

from __future__ import annotations

from taskdiff.transfer.formats.base import Encoded, TaskFormat, register_format
from taskdiff.transfer.formats.rowcheck import as_str, fail


@register_format
class Retrieval(TaskFormat):
    """Source and target sentences; the gold column names the aligned target id."""

    name = "retrieval"
    columns = ("id", "text", "side", "gold")
    auto_class_name = "AutoModel"
    trainable = False
    candidate_pool = True

    def text_fields(self, row):
        return [row["text"]]

    def check_row(self, row, where, labels, check_answers):
        """Strings; ``side`` is ``"source"`` or ``"target"``."""
        as_str(row, "text", where)
        side = as_str(row, "side", where)
        if side not in ("source", "target"):
            raise fail(where, "side", "'source' or 'target'", repr(side))
        as_str(row, "gold", where)

    def model_kwargs(self, labels):
        return {}

    def encode(self, rows, tokenizer, labels, max_length, train):
        enc = tokenizer([r["text"] for r in rows], truncation=True, max_length=max_length)
        return Encoded.per_row(enc, len(rows))

    def references(self, rows):
        return [r["gold"] for r in rows]
