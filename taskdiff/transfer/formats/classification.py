"""Single-sentence and sentence-pair classification."""

from __future__ import annotations

import numpy as np

from taskdiff.errors import DataError
from taskdiff.transfer.formats.base import Encoded, TaskFormat, register_format
from taskdiff.transfer.formats.rowcheck import as_str, check_label


def _label_ids(rows, labels):
    index = {l: i for i, l in enumerate(labels)}
    out = []
    for r in rows:
        if r["label"] not in index:
            raise DataError(r.get("source", "rows"), f"a label in {labels}", repr(r["label"]), field="label")
        out.append(index[r["label"]])
    return out


@register_format
class Classification(TaskFormat):
    """One text, one label from the task's label set."""

    name = "classification"
    columns = ("id", "text", "label")
    needs_labels = True
    has_label_set = True
    label_unit = "class"

    def text_fields(self, row):
        return [row["text"]]

    def check_row(self, row, where, labels, check_answers):
        """Text columns are strings; the label is one of the task's labels."""
        for column in self._text_columns:
            as_str(row, column, where)
        check_label(as_str(row, "label", where), labels, where, "label")

    def coerce_label(self, label):
        """An integer label read from a table names a class: its string."""
        return str(label) if isinstance(label, int) and not isinstance(label, bool) else label

    def unit_labels(self, rows):
        return [r["label"] for r in rows]

    def null_row(self, row, unk):
        """The empty text."""
        return {**row, **{k: "" for k in self._text_columns}}

    _text_columns = ("text",)

    def _texts(self, rows):
        return ([r["text"] for r in rows],)

    def encode(self, rows, tokenizer, labels, max_length, train):
        enc = tokenizer(*self._texts(rows), truncation=True, max_length=max_length)
        return Encoded.per_row(enc, len(rows), _label_ids(rows, labels))

    def decode(self, outputs, encoded, rows, labels):
        logits = np.asarray(outputs["logits"])
        return [labels[int(k)] for k in logits.argmax(-1)]


@register_format
class PairClassification(Classification):
    """Two texts (premise / hypothesis, sentence pair), one label."""

    name = "pair_classification"
    columns = ("id", "text_a", "text_b", "label")
    _text_columns = ("text_a", "text_b")

    def text_fields(self, row):
        return [row["text_a"], row["text_b"]]

    def _texts(self, rows):
        return [r["text_a"] for r in rows], [r["text_b"] for r in rows]
