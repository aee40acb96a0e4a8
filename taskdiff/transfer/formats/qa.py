"""Extractive question answering: sliding windows over long contexts, span decoding.

Long contexts are split into overlapping windows (``doc_stride``) instead of being
truncated (a known jiant pain point); a window that does not contain the answer is trained
to point at the first token. Decoding takes the best-scoring valid span over all windows
of an example (at most ``max_answer_tokens`` long), as the SQuAD reference recipe does.
"""

from __future__ import annotations

import bisect
import re

import numpy as np

from taskdiff.transfer.formats.base import Encoded, TaskFormat, register_format
from taskdiff.transfer.formats.rowcheck import as_str, check_answer_span, fail, str_list, type_name

_WORD = re.compile(r"\S+")


def _null_context(context: str, answers: dict, unk: str) -> tuple[str, dict]:
    """Context with every word replaced by ``unk``; answers moved onto the replaced words."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(context)]
    parts, new_spans, cursor, length = [], [], 0, 0
    for a, b in spans:
        parts.append(context[cursor:a])
        length += a - cursor
        new_spans.append((length, length + len(unk)))
        parts.append(unk)
        length += len(unk)
        cursor = b
    parts.append(context[cursor:])
    text = "".join(parts)
    starts = [a for a, _ in spans]

    def word_at(ch: int) -> int:
        return max(bisect.bisect_right(starts, ch) - 1, 0)

    new_text, new_start = [], []
    for ans, start in zip(answers["text"], answers["answer_start"]):
        if not spans:
            new_text.append("")
            new_start.append(0)
            continue
        first, last = word_at(start), word_at(start + max(len(ans), 1) - 1)
        lo, hi = new_spans[first][0], new_spans[last][1]
        new_text.append(text[lo:hi])
        new_start.append(lo)
    return text, {"text": new_text, "answer_start": new_start}


@register_format
class ExtractiveQA(TaskFormat):
    """Question + context -> the answer span in the context."""

    name = "extractive_qa"
    columns = ("id", "context", "question", "answers")
    auto_class_name = "AutoModelForQuestionAnswering"
    output_keys = ("start_logits", "end_logits")
    target_keys = ("start_positions", "end_positions")
    doc_stride = 128
    max_answer_tokens = 30
    n_best = 20
    title = "extractive QA"
    per_position_outputs = True
    label_unit = "span"
    unlabelled_because = "answers are spans"

    def text_fields(self, row):
        return [row["question"], row["context"]]

    def check_row(self, row, where, labels, check_answers):
        """Strings; ``answers`` = ``{"text": [str], "answer_start": [int]}`` of one length, each
        text at its start in the context (unless ``check_answers`` is off)."""
        context = as_str(row, "context", where)
        as_str(row, "question", where)
        answers = row["answers"]
        if not isinstance(answers, dict) or set(answers) != {"text", "answer_start"}:
            raise fail(where, "answers", "an object with keys 'text' and 'answer_start'", type_name(answers))
        texts = str_list(answers, "text", where, nonempty=False)
        starts = answers["answer_start"]
        if not isinstance(starts, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in starts):
            raise fail(where, "answers.answer_start", "a list of integers", type_name(starts))
        if len(texts) != len(starts):
            raise fail(where, "answers", "as many answer_start values as texts", f"{len(starts)} vs {len(texts)}")
        if check_answers:
            for text, start in zip(texts, starts):
                check_answer_span(context, text, start, where)

    def hub_row(self, row, record):
        """SQuAD-style records: ``answers`` as plain lists; ``context`` and ``question`` by default."""
        answers = record["answers"]
        row["answers"] = {"text": list(answers["text"]), "answer_start": list(answers["answer_start"])}
        row.setdefault("context", record["context"])
        row.setdefault("question", record["question"])
        return row

    def null_row(self, row, unk):
        """Empty question, every context word replaced by ``unk`` (white space kept, answer
        offsets moved onto the replaced words): only answer *positions* can be learnt."""
        context, answers = _null_context(row["context"], row["answers"], unk)
        return {**row, "question": "", "context": context, "answers": answers}

    def normaliser_bits(self, train_rows, held):
        """A uniform guess of the start and of the end: ``2 x mean log2 T`` (T positions of the window)."""
        lengths = np.asarray(held["length"], dtype=np.float64)
        return (2.0 * float(np.mean(np.log2(lengths))),
                "2 x mean log2(positions of the answer window): uniform start and end")

    def model_kwargs(self, labels):
        return {"num_labels": 2}  # start and end logits

    def encode(self, rows, tokenizer, labels, max_length, train):
        stride = min(self.doc_stride, max_length // 4)
        enc = tokenizer([r["question"].lstrip() for r in rows], [r["context"] for r in rows],
                        truncation="only_second", max_length=max_length, stride=stride,
                        return_overflowing_tokens=True, return_offsets_mapping=True)
        feats, extras = [], []
        for j in range(len(enc["input_ids"])):
            i = enc["overflow_to_sample_mapping"][j]
            seq = enc.sequence_ids(j)
            offsets = [o if s == 1 else None for o, s in zip(enc["offset_mapping"][j], seq)]
            f = {k: enc[k][j] for k in enc.keys() if k not in ("offset_mapping", "overflow_to_sample_mapping")}
            f["start_positions"], f["end_positions"] = self._positions(rows[i], offsets)
            f["example_index"] = i
            feats.append(f)
            extras.append({"offsets": offsets})
        return Encoded(feats, extras)

    @staticmethod
    def _positions(row, offsets):
        answers = row["answers"]
        if not answers["text"]:
            return 0, 0
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])
        start = end = None
        for pos, off in enumerate(offsets):
            if off is None:
                continue
            if start is None and off[0] <= start_char < off[1]:
                start = pos
            if off[0] < end_char <= off[1]:
                end = pos
        if start is None or end is None or end < start:
            return 0, 0
        return start, end

    def decode(self, outputs, encoded, rows, labels):
        best = [(-np.inf, "") for _ in rows]
        for start, end, feat, extra in zip(outputs["start_logits"], outputs["end_logits"],
                                           encoded.features, encoded.extras):
            i = feat["example_index"]
            score, text = self._best_span(np.asarray(start), np.asarray(end), extra["offsets"], rows[i]["context"])
            if score > best[i][0]:
                best[i] = (score, text)
        return [text for _, text in best]

    def _best_span(self, start, end, offsets, context):
        n = min(len(offsets), len(start))
        valid = np.array([offsets[p] is not None for p in range(n)])
        s_idx = [p for p in np.argsort(start[:n])[::-1][: self.n_best] if valid[p]]
        e_idx = [p for p in np.argsort(end[:n])[::-1][: self.n_best] if valid[p]]
        best = (-np.inf, "")
        for s in s_idx:
            for e in e_idx:
                if e < s or e - s + 1 > self.max_answer_tokens:
                    continue
                score = start[s] + end[e]
                if score > best[0]:
                    best = (score, context[offsets[s][0]: offsets[e][1]])
        return best

    def references(self, rows):
        return [list(r["answers"]["text"]) for r in rows]

    def gold_prob(self, outputs, batch):
        import torch

        ps = torch.softmax(outputs["start_logits"].float(), -1).gather(-1, batch["start_positions"].unsqueeze(-1))
        pe = torch.softmax(outputs["end_logits"].float(), -1).gather(-1, batch["end_positions"].unsqueeze(-1))
        return (ps * pe).squeeze(-1)

    def correct(self, outputs, batch):
        return ((outputs["start_logits"].argmax(-1) == batch["start_positions"])
                & (outputs["end_logits"].argmax(-1) == batch["end_positions"]))
