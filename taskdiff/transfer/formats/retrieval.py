"""Retrieval (BUCC, Tatoeba): no training; sentences are embedded and matched."""

from __future__ import annotations

from taskdiff.transfer.formats.base import Encoded, TaskFormat, register_format


@register_format
class Retrieval(TaskFormat):
    """Source and target sentences; the gold column names the aligned target id."""

    name = "retrieval"
    auto_class_name = "AutoModel"
    trainable = False
    candidate_pool = True

    def text_fields(self, row):
        return [row["text"]]

    def model_kwargs(self, labels):
        return {}

    def encode(self, rows, tokenizer, labels, max_length, train):
        enc = tokenizer([r["text"] for r in rows], truncation=True, max_length=max_length)
        return Encoded.per_row(enc, len(rows))

    def references(self, rows):
        return [r["gold"] for r in rows]
