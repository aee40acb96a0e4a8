"""Token tagging (POS, NER, supertagging): a label per word, on its first sub-word."""

from __future__ import annotations

import numpy as np

from taskdiff.errors import DataError
from taskdiff.transfer.formats.base import Encoded, TaskFormat, _DropExtra, register_format
from taskdiff.transfer.formats.rowcheck import check_label, fail, str_list

IGNORE = -100


@register_format
class Tagging(TaskFormat):
    """Each word gets a tag; sub-words after the first are ignored by the loss."""

    name = "tagging"
    columns = ("id", "tokens", "tags")
    auto_class_name = "AutoModelForTokenClassification"
    per_position_outputs = True
    split_into_words = True
    has_label_set = True
    label_unit = "word"
    unit_noun = "tags (per word)"

    def text_fields(self, row):
        return [row["tokens"]]

    def check_row(self, row, where, labels, check_answers):
        """Non-empty token and tag lists of one length; every tag one of the task's tags."""
        tokens = str_list(row, "tokens", where)
        tags = str_list(row, "tags", where)
        if len(tokens) != len(tags):
            raise fail(where, "tags", f"one tag per token ({len(tokens)})", f"{len(tags)} tags")
        for tag in tags:
            check_label(tag, labels, where, "tags")

    def observed_labels(self, rows):
        """The sorted tags of the rows (a task without a declared tag set)."""
        return sorted({t for r in rows for t in r["tags"]})

    def unit_labels(self, rows):
        """Every word's tag."""
        return [t for r in rows for t in r["tags"]]

    def segment(self, row):
        return list(row["tokens"])

    def null_row(self, row, unk):
        """Every word replaced by the unknown token: the number of words is kept, not which."""
        return {**row, "tokens": [unk] * len(row["tokens"])}

    def encode(self, rows, tokenizer, labels, max_length, train):
        index = {l: i for i, l in enumerate(labels)}
        enc = tokenizer([r["tokens"] for r in rows], is_split_into_words=True, truncation=True,
                        max_length=max_length)
        feats, extras = [], []
        for i, r in enumerate(rows):
            word_ids = enc.word_ids(i)
            tags, prev = [], None
            for w in word_ids:
                if w is None or w == prev:
                    tags.append(IGNORE)
                else:
                    tag = r["tags"][w]
                    if tag not in index:
                        raise DataError("rows", f"a tag in the task's labels", repr(tag), line=i + 1, field="tags")
                    tags.append(index[tag])
                prev = w
            f = {k: enc[k][i] for k in enc.keys()}
            f["labels"], f["example_index"] = tags, i
            feats.append(f)
            extras.append({"word_ids": word_ids})
        return Encoded(feats, extras)

    def collator(self, tokenizer):
        from transformers import DataCollatorForTokenClassification

        return _DropExtra(DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE))

    def decode(self, outputs, encoded, rows, labels):
        preds = []
        fallback = "O" if "O" in labels else labels[0]
        for logits, extra, row in zip(outputs["logits"], encoded.extras, rows):
            best = np.asarray(logits).argmax(-1)
            tags = [fallback] * len(row["tokens"])  # words cut by truncation
            prev = None
            for pos, w in enumerate(extra["word_ids"]):
                if w is not None and w != prev and pos < len(best):
                    tags[w] = labels[int(best[pos])]
                prev = w
            preds.append(tags)
        return preds

    def references(self, rows):
        return [list(r["tags"]) for r in rows]

    def gold_prob(self, outputs, batch):
        import torch

        labels = batch["labels"]
        mask = labels != IGNORE
        probs = torch.softmax(outputs["logits"].float(), dim=-1)
        gold = probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        return (gold * mask).sum(-1) / mask.sum(-1).clamp(min=1)

    def correct(self, outputs, batch):
        labels = batch["labels"]
        mask = labels != IGNORE
        right = (outputs["logits"].argmax(-1) == labels) | ~mask
        return right.all(-1)
