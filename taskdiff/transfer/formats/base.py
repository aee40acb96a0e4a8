"""The format interface: what a task format knows, so no other module dispatches on type.

A format turns canonical rows (see :mod:`taskdiff.transfer.schema`) into model features,
names the ``AutoModelFor...`` head it needs, pads batches dynamically, turns the model's
outputs back into per-example predictions, and gives the probability of the gold answer
from a training forward pass (for dataset cartography).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from taskdiff.registry import Registry
from taskdiff.errors import ConfigError
from taskdiff.transfer.formats.rowcheck import Where

_FORMATS: Registry = Registry("format", builtins="taskdiff.transfer.formats")
"""Format instances by name (the built-ins register when :mod:`taskdiff.transfer.formats` is imported)."""


@dataclass
class Encoded:
    """Features for the model plus what decoding needs (kept out of the model inputs).

    ``features[i]`` holds model inputs, the training target(s) and ``example_index``
    (position of its row); ``extras[i]`` holds e.g. offsets or word ids.
    """

    features: list[dict]
    extras: list[dict] = field(default_factory=list)

    @classmethod
    def per_row(cls, enc, n_rows: int, targets: list | None = None) -> "Encoded":
        """One feature dict per row from a batched tokenizer output ``enc``, no extras.

        Row ``i`` gets its model inputs (``enc[key][i]``), ``labels = targets[i]`` when
        ``targets`` is given, and ``example_index = i``.
        """
        feats = []
        for i in range(n_rows):
            f = {k: enc[k][i] for k in enc.keys()}
            if targets is not None:
                f["labels"] = targets[i]
            f["example_index"] = i
            feats.append(f)
        return cls(feats, [{} for _ in feats])


class TaskFormat:
    """Base class; subclasses register with :func:`register_format`."""

    name: str = ""
    auto_class_name: str = "AutoModelForSequenceClassification"
    output_keys: tuple[str, ...] = ("logits",)
    target_keys: tuple[str, ...] = ("labels",)
    trainable: bool = True
    continuous_target: bool = False
    """True when the gold is a real number (regression), not a label, choice or span."""

    def auto_class(self):
        """The transformers ``AutoModelFor...`` class for this format's head."""
        import transformers

        return getattr(transformers, self.auto_class_name)

    def model_kwargs(self, labels: list[str] | None) -> dict:
        """Keyword arguments for ``from_pretrained`` (number of labels, names)."""
        if not labels:
            return {}
        return {"num_labels": len(labels), "id2label": dict(enumerate(labels)),
                "label2id": {l: i for i, l in enumerate(labels)}}

    def encode(self, rows: list[dict], tokenizer, labels: list[str] | None, max_length: int,
               train: bool) -> Encoded:
        """Tokenise rows into features (no padding: batches are padded dynamically)."""
        raise NotImplementedError

    def collator(self, tokenizer):
        """A callable padding a list of features into a batch of tensors."""
        from transformers import DataCollatorWithPadding

        return _DropExtra(DataCollatorWithPadding(tokenizer))

    def decode(self, outputs: dict[str, list], encoded: Encoded, rows: list[dict],
               labels: list[str] | None) -> list[Any]:
        """Per-row predictions from per-feature outputs (numpy arrays, unpadded)."""
        raise NotImplementedError

    def references(self, rows: list[dict]) -> list[Any]:
        """Per-row gold answers in the form the metric expects."""
        return [r["label"] for r in rows]

    def gold_prob(self, outputs, batch):
        """Per-feature probability of the gold answer (torch), from a forward pass."""
        import torch

        probs = torch.softmax(outputs["logits"].float(), dim=-1)
        return probs.gather(-1, batch["labels"].unsqueeze(-1)).squeeze(-1)

    def correct(self, outputs, batch):
        """Per-feature correctness (torch bool) of the argmax prediction."""
        return outputs["logits"].argmax(-1) == batch["labels"]

    # ------------------------------------------------------------------ what the rows hold
    # Everything below is how the rest of the package learns a format's behaviour: readers,
    # data loading, evaluation and the difficulty measures ask the format, never its name.
    title: str = ""
    """Human name in messages (default: :attr:`name`)."""
    needs_labels: bool = False
    """True when a task must declare its label set (one label of it per example)."""
    has_label_set: bool = False
    """True when gold labels come from a finite label set (a table reader's ``labels`` check)."""
    labels_in_head: bool = True
    """True when a trained head's ``id2label`` names the task's labels (not multiple choice)."""
    per_position_outputs: bool = False
    """True when outputs are per token position (tagging, QA): evaluation keeps them unpadded."""
    candidate_pool: bool = False
    """True when rows are queries (``side="source"``) and a candidate pool (retrieval): splits
    and caps select queries and keep the pool."""
    split_into_words: bool = False
    columns: tuple[str, ...] = ()
    """The canonical row's columns, ``id`` first (:mod:`taskdiff.transfer.schema`); a reader's
    row has exactly these (:func:`~taskdiff.transfer.readers._rows.validate_row`)."""

    def check_row(self, row: dict, where: Where, labels: Sequence[str] | None, check_answers: bool) -> None:
        """Raise :class:`~taskdiff.errors.DataError` if a value of ``row`` has the wrong type or value.

        Called with the column set and the ``id`` already checked; ``where`` is ``(path, line)``
        for the message (helpers: :mod:`taskdiff.transfer.formats.rowcheck`), ``labels`` the
        task's labels or tags (or None), ``check_answers`` whether answer spans must match.
        The default checks nothing more.
        """
    """True when the model reads pre-split words (tagging): :meth:`segment` is a word list."""
    column_defaults: dict = {}
    """Columns a reader may leave out, with the value they get (multiple choice: ``context``)."""
    label_unit: str | None = None
    """What the difficulty measures score per gold (:mod:`taskdiff.difficulty.recording`):
    ``"class"`` (one logit vector per example, the gold an index: classification, multiple
    choice), ``"word"`` (a tag per word), ``"span"`` (the answer window of an example), or any
    other value for a format that computes its units itself (:meth:`label_units`); None: the
    format trains nothing."""

    def display_name(self) -> str:
        """:attr:`title`, or :attr:`name` when the format gives none."""
        return self.title or self.name

    def text_fields(self, row: dict) -> list:
        """The texts of a row the model reads (``size``; a word list for tagging)."""
        raise NotImplementedError(f"format {self.name!r} does not name its text fields")

    def segment(self, row: dict):
        """What a frozen encoder reads of a row (``logme``, ``embedding``): a text, a pair of
        texts, or a word list (:attr:`split_into_words`)."""
        fields = self.text_fields(row)
        return fields[0] if len(fields) == 1 else fields

    def hub_row(self, row: dict, record: dict) -> dict:
        """A row read from a hub data set, completed from its ``record`` (default: as it is)."""
        return row

    def coerce_label(self, label):
        """A label as a table reader found it, in the row schema's type (default: unchanged)."""
        return label

    def observed_labels(self, rows: list[dict]) -> list | None:
        """The label set read off training rows when the task declares none (tagging), else None."""
        return None

    # ------------------------------------------------------------------ difficulty hooks
    def unit_labels(self, rows: list[dict]) -> list | None:
        """The gold label of every label unit (``size``'s label entropy), or None when units
        have no label from a finite set (spans, scores, retrieval)."""
        return None

    def label_ids(self, rows: list[dict], labels: list | None):
        """The gold index of every label unit (numpy int array), or None (see :meth:`unit_labels`)."""
        import numpy as np

        units = self.unit_labels(rows)
        if units is None:
            return None
        index = {l: i for i, l in enumerate(labels)}
        return np.array([index[u] for u in units])

    def n_classes(self, labels: list | None, rows: list[dict]) -> int | None:
        """Number of values a label unit can take (None: count the observed ones)."""
        return len(labels) if labels else None

    def null_row(self, row: dict, unk: str) -> dict:
        """The row with its input removed and its gold kept (``vinfo``'s null model)."""

        why = "" if self.trainable else " (not trainable)"
        raise ConfigError(f"format {self.name!r} has no null input{why}")

    def null_rows(self, rows: list[dict], tokenizer) -> list[dict]:
        """:meth:`null_row` of every row; ``unk`` is the tokenizer's unknown token (else ``[UNK]``)."""
        unk = getattr(tokenizer, "unk_token", None) or "[UNK]"
        return [self.null_row(dict(r), unk) for r in rows]

    def frozen_targets(self, rows: list[dict]) -> tuple[list, list] | None:
        """``(segments, targets)`` of a frozen-feature model (``logme``): what the encoder reads
        per row (word lists when :attr:`split_into_words`, then one target per word) and the
        label-unit targets; None when units have no labels (:attr:`unlabelled_because`)."""
        targets = self.unit_labels(rows)
        return None if targets is None else ([self.segment(r) for r in rows], targets)

    unlabelled_because: str = "its label units have no labels"
    """Why :meth:`frozen_targets` is None (in ``logme``'s note)."""

    def label_statistics(self, rows: list[dict]) -> dict | None:
        """Extra label statistics for ``size`` (None: the label-entropy statistics apply)."""
        return None

    def normaliser_bits(self, train_rows: list[dict], held: dict) -> tuple[float, str] | None:
        """Bits of an uninformed guess per label unit and how (``baseline_loss``); None: the
        label entropy of :meth:`unit_labels` applies (see :attr:`unit_noun`)."""
        return None

    unit_noun: str = "labels"
    """What the label entropy of the normaliser is over, in ``baseline_loss``'s note."""

    def prior_probs(self, train_rows: list[dict], gold):
        """Gold probabilities of the best constant predictor (``vinfo``'s ``null_model="prior"``);
        None: the training label prior over :meth:`label_ids` applies."""
        return None

    def label_units(self, encoded, outputs: dict, n_rows: int, *, per_word: bool = True) -> dict:
        """Label units of a format whose :attr:`label_unit` the measures do not know."""
        raise ValueError(f"format {self.name!r} has no label units (not trainable)")


class _DropExtra:
    """Wrap a collator: keep ``example_index`` as a tensor, pass the rest through."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, features):
        import torch

        idx = [f["example_index"] for f in features]
        inner = self.inner([{k: v for k, v in f.items() if k != "example_index"} for f in features])
        inner["example_index"] = torch.tensor(idx, dtype=torch.long)
        return inner


def register_format(cls=None, *, overwrite: bool = False):
    """Class decorator: register an instance under ``cls.name`` (again for the same class: a no-op).

    A different class under a taken name raises :class:`~taskdiff.errors.DuplicateNameError`
    unless ``overwrite=True``.
    """

    def wrap(klass):
        if type(_FORMATS.get(klass.name, None)) is not klass:
            _FORMATS.register(klass.name, klass(), overwrite=overwrite)
        return klass

    return wrap(cls) if cls is not None else wrap


def get_format(name: str) -> TaskFormat:
    """The registered format called ``name``."""
    return _FORMATS.get(name)


def format_names() -> list[str]:
    """The names of the registered formats (built-ins and plugins)."""
    return _FORMATS.names()
