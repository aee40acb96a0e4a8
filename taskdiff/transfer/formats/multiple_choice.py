"""Multiple choice: each (context + question, choice) pair is scored; softmax over choices."""

from __future__ import annotations

import numpy as np

from taskdiff.errors import DataError
from taskdiff.transfer.formats.base import Encoded, TaskFormat, register_format


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
    auto_class_name = "AutoModelForMultipleChoice"

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
