"""``size``: how much data a task has and how its labels and words are distributed.

Computed on the task's **whole** English training role (the context's ``max_examples`` cap
is not applied: size is cheap and a capped count would misreport the task; set this
measure's own ``max_examples`` to cap it), with the model's tokenizer and no model:

* ``n_examples``; ``n_tokens`` = sub-word tokens of every text field, special tokens not
  counted (pairs: both sides; multiple choice: context, question and every choice once;
  QA: question and context; tagging: the words); ``mean_length`` = n_tokens / n_examples;
* ``label_entropy`` (bits, :func:`~taskdiff.difficulty.maths.label_entropy`) of the label
  unit the model predicts: the label (classification), each word's tag (tagging), the gold
  choice index (multiple choice); None for extractive QA (answers are spans, not labels)
  and for regression (real-valued scores have no label entropy: instead ``label_mean``,
  ``label_std``, ``label_min``, ``label_max`` and ``label_quartiles`` of the scores, from
  the format's ``label_statistics``);
* class balance: ``class_balance`` = smallest / largest class frequency (1 = balanced) and
  ``normalized_label_entropy`` = label entropy / log2 K (K = the task's declared labels, or
  the observed ones);
* ``vocabulary_overlap``: for each target task whose English training data exists locally,
  word *types* (lower-cased ``\\w+`` matches) of the intermediate task (A) and of the target
  (B): ``jaccard`` = |A ∩ B| / |A ∪ B| and ``coverage`` = |A ∩ B| / |B|, the share of the
  target's types seen in the intermediate task. Targets default to the XTREME tasks
  (:data:`DEFAULT_TARGETS`) with local English training data; name them to use others (the
  hub is then tried too).
"""

from __future__ import annotations

import logging
import math
import re

import numpy as np

from taskdiff.difficulty.base import ENGLISH, Measure, finite_or_none
from taskdiff.difficulty.maths import label_distribution, label_entropy
from taskdiff.difficulty.registry import register_measure
from taskdiff.schema import format1_features
from taskdiff.transfer.formats import get_format
from taskdiff.errors import TaskdiffError
from taskdiff.provenance import data_fingerprint
from taskdiff.transfer.data import available_splits, load_role
from taskdiff.transfer.models import load_tokenizer
from taskdiff.transfer.tasks import get_task

log = logging.getLogger(__name__)
DEFAULT_TARGETS = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "xcopa")
_TYPE = re.compile(r"\w+")


def text_fields(fmt: str, row: dict) -> list:
    """The texts of a row the model reads (the format's ``text_fields``; tagging: its word list)."""
    return get_format(fmt).text_fields(row)


def word_types(fmt: str, rows: list[dict]) -> set[str]:
    """Lower-cased ``\\w+`` word types of every text field."""
    types: set[str] = set()
    form = get_format(fmt)
    for r in rows:
        for field in form.text_fields(r):
            text = " ".join(field) if isinstance(field, list) else field
            types.update(m.lower() for m in _TYPE.findall(text))
    return types


def unit_labels(fmt: str, rows: list[dict]) -> list | None:
    """The labels of the label units (the format's ``unit_labels``), or None (QA, regression)."""
    return get_format(fmt).unit_labels(rows)


def count_tokens(tokenizer, fmt: str, rows: list[dict], batch: int = 1000) -> np.ndarray:
    """Sub-word tokens per row (no special tokens)."""
    out = np.zeros(len(rows), dtype=np.int64)
    form = get_format(fmt)
    for s in range(0, len(rows), batch):
        part = rows[s: s + batch]
        if form.split_into_words:
            ids = tokenizer([form.segment(r) for r in part], is_split_into_words=True,
                            add_special_tokens=False)["input_ids"]
            out[s: s + len(part)] = [len(x) for x in ids]
            continue
        fields = [form.text_fields(r) for r in part]
        flat = [t for f in fields for t in f]
        ids = tokenizer(flat, add_special_tokens=False)["input_ids"] if flat else []
        k = 0
        for j, f in enumerate(fields):
            out[s + j] = sum(len(ids[k + i]) for i in range(len(f)))
            k += len(f)
    return out


@register_measure
class Size(Measure):
    """Data size, length, label distribution and vocabulary overlap with the targets.

    Parameters
    ----------
    targets : list of str, optional
        Target tasks for the vocabulary overlap (default: :data:`DEFAULT_TARGETS` that
        have local English training data).
    max_examples : int, optional
        Cap on the task's training rows (default: all of them).
    max_target_examples : int, optional
        Cap on each target's rows for the overlap.

    Attributes
    ----------
    result_ : dict
        ``n_examples``, ``n_tokens``, ``mean_length``, ``label_entropy``, ``n_classes``,
        ``class_balance``, ``normalized_label_entropy``, ``n_types``,
        ``vocabulary_overlap`` ({target: {jaccard, coverage, n_types}}), ``notes``.
    types_ : set of str
    """

    name = "size"
    higher_is_harder = None
    features = format1_features("size")

    def __init__(self, targets: list[str] | None = None, max_examples: int | None = None,
                 max_target_examples: int | None = 10000):
        self.targets = targets
        self.max_examples = max_examples
        self.max_target_examples = max_target_examples

    def _rows(self, task, context):

        return load_role(task, "train", ENGLISH, context.data_dir, self.max_examples).rows

    def cache_key(self, task, context):

        key = {"train": data_fingerprint(self._rows(task, context))}
        key["targets"] = {name: data_fingerprint(rows) for name, rows, _ in self._targets(task, context, [])}
        return key

    def _fit(self, task, model, context, cost):

        rows = self._rows(task, context)
        tokenizer = load_tokenizer(context.model_path(model), context.trust_remote_code)
        lengths = count_tokens(tokenizer, task.format, rows)
        cost.add(len(rows), int(lengths.sum()))
        labels = unit_labels(task.format, rows)
        result = {"n_examples": len(rows), "n_tokens": int(lengths.sum()),
                  "mean_length": float(lengths.mean()) if len(rows) else None,
                  "label_entropy": None, "n_classes": None, "class_balance": None,
                  "normalized_label_entropy": None}
        if labels:
            classes, freq = label_distribution(labels)
            h = label_entropy(labels)
            k = get_format(task.format).n_classes(task.labels, rows)
            k = len(classes) if k is None else k
            result.update(label_entropy=h, n_classes=int(len(classes)),
                          class_balance=float(freq.min() / freq.max()),
                          normalized_label_entropy=finite_or_none(h / math.log2(k)) if k > 1 else None)
        elif rows:
            extra = get_format(task.format).label_statistics(rows)
            if extra:
                result.update(extra)
        self.types_ = word_types(task.format, rows)
        result["n_types"] = len(self.types_)
        overlap, notes = {}, []
        for name, target_rows, target in self._targets(task, context, notes):
            theirs = word_types(target.format, target_rows)
            both = len(self.types_ & theirs)
            union = len(self.types_ | theirs)
            overlap[name] = {"jaccard": both / union if union else None,
                             "coverage": both / len(theirs) if theirs else None, "n_types": len(theirs)}
        result["vocabulary_overlap"] = overlap
        result["notes"] = notes
        self.result_ = result

    def _targets(self, task, context, notes):

        explicit = self.targets is not None
        for name in (self.targets if explicit else DEFAULT_TARGETS):
            target = get_task(name)
            if not explicit and not available_splits(target, context.data_dir, ENGLISH):
                continue
            try:
                rows = load_role(target, "train", ENGLISH, context.data_dir, self.max_target_examples).rows
            except TaskdiffError as exc:  # missing or unreadable target data: a note, not a failure
                notes.append(f"target {name}: no English training data ({type(exc).__name__}: {str(exc)[:120]})")
                continue
            yield name, rows, target
