"""Multiple choice: each (context + question, choice) pair is scored; softmax over choices."""

from __future__ import annotations

import math
import re

import numpy as np

from taskdiff.errors import DataError
from taskdiff.transfer.formats.base import Encoded, TaskFormat, register_format
from taskdiff.transfer.formats.rowcheck import as_int, as_str, fail, str_list

_DIGITS = re.compile(r"-?[0-9]+")


class _ChoiceCollator:
    """Pad every choice of every example to the longest sequence in the batch."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, features):
        import torch

        n_choices = len(features[0]["input_ids"])
        keys = [k for k in features[0] if k not in ("labels", "example_index")]
        flat = [{k: f[k][c] for k in keys} for f in features for c in range(n_choices)]
        batch = self.tokenizer.pad(flat, return_tensors="pt")
        batch = {k: v.view(len(features), n_choices, -1) for k, v in batch.items()}
        for key in ("labels", "example_index"):
            if key in features[0]:
                batch[key] = torch.tensor([f[key] for f in features], dtype=torch.long)
        return batch


@register_format
class MultipleChoice(TaskFormat):
    """Context and question, N candidate answers, one gold index."""

    name = "multiple_choice"
    columns = ("id", "context", "question", "choices", "label")
    auto_class_name = "AutoModelForMultipleChoice"
    labels_in_head = False
    column_defaults = {"context": ""}
    label_unit = "class"

    def text_fields(self, row):
        return [row["context"], row["question"], *row["choices"]]

    def check_row(self, row, where, labels, check_answers):
        """Strings, a non-empty list of choices, the label an index into them."""
        as_str(row, "context", where)
        as_str(row, "question", where)
        choices = str_list(row, "choices", where)
        label = as_int(row, "label", where)
        if not 0 <= label < len(choices):
            raise fail(where, "label", f"a choice index in 0..{len(choices) - 1}", str(label))

    def segment(self, row):
        """Context + question, and every choice joined (``embedding``)."""
        return [(row["context"] + " " + row["question"]).strip(), " ".join(row["choices"])]

    def coerce_label(self, label):
        """A digit string read from a table is the gold choice's index."""
        return int(label) if isinstance(label, str) and _DIGITS.fullmatch(label) else label

    def unit_labels(self, rows):
        """The gold choice index of every example."""
        return [int(r["label"]) for r in rows]

    def label_ids(self, rows, labels):
        return np.array(self.unit_labels(rows))

    def n_classes(self, labels, rows):
        """The declared labels, else the number of choices."""
        return len(labels) if labels else len(rows[0]["choices"])

    def null_row(self, row, unk):
        """Empty context, question and choices: only the prior over answer positions is left."""
        return {**row, "context": "", "question": "", "choices": [""] * len(row["choices"])}

    def frozen_targets(self, rows):
        """One (context + question, choice) pair per choice, target 1 for the gold choice."""
        segments = [[(r["context"] + " " + r["question"]).strip(), c] for r in rows for c in r["choices"]]
        targets = [int(k == int(r["label"])) for r in rows for k in range(len(r["choices"]))]
        return segments, targets

    def normaliser_bits(self, train_rows, held):
        """A uniform guess among the choices: ``log2 C``."""
        n = len(train_rows[0]["choices"])
        return math.log2(n), f"log2 of the number of choices ({n})"

    def model_kwargs(self, labels):
        return {}

    def encode(self, rows, tokenizer, labels, max_length, train):
        n = len(rows[0]["choices"]) if rows else 0
        firsts, seconds = [], []
        for i, r in enumerate(rows):
            if len(r["choices"]) != n:
                raise DataError("rows", f"{n} choices (as in the first example)", f"{len(r['choices'])}",
                                line=i + 1, field="choices")
            prompt = (r["context"] + " " + r["question"]).strip()
            firsts.extend([prompt] * n)
            seconds.extend(r["choices"])
        enc = tokenizer(firsts, seconds, truncation="longest_first", max_length=max_length)
        feats = []
        for i, r in enumerate(rows):
            f = {k: [enc[k][i * n + c] for c in range(n)] for k in enc.keys()}
            f["labels"], f["example_index"] = int(r["label"]), i
            feats.append(f)
        return Encoded(feats, [{} for _ in feats])

    def collator(self, tokenizer):
        return _ChoiceCollator(tokenizer)

    def decode(self, outputs, encoded, rows, labels):
        return [int(np.asarray(l).argmax(-1)) for l in outputs["logits"]]

    def references(self, rows):
        return [int(r["label"]) for r in rows]
