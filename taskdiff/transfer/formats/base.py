"""The format interface: what a task format knows, so no other module dispatches on type.

A format turns canonical rows (see :mod:`taskdiff.transfer.schema`) into model features,
names the ``AutoModelFor...`` head it needs, pads batches dynamically, turns the model's
outputs back into per-example predictions, and gives the probability of the gold answer
from a training forward pass (for dataset cartography).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taskdiff.errors import UnknownNameError

_FORMATS: dict[str, "TaskFormat"] = {}


@dataclass
class Encoded:
    """Features for the model plus what decoding needs (kept out of the model inputs).

    ``features[i]`` holds model inputs, the training target(s) and ``example_index``
    (position of its row); ``extras[i]`` holds e.g. offsets or word ids.
    """

    features: list[dict]
    extras: list[dict] = field(default_factory=list)


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

    # Hooks of the difficulty measures for formats that the measures do not list by name
    # (new formats put their behaviour here instead of another string comparison there).
    def text_fields(self, row: dict) -> list:
        """The texts of a row the model reads (``size``, ``logme``, ``embedding``)."""
        raise NotImplementedError(f"format {self.name!r} does not name its text fields")

    def null_row(self, row: dict, unk: str) -> dict:
        """The row with its input removed and its gold kept (``vinfo``'s null model)."""
        from taskdiff.errors import ConfigError

        raise ConfigError(f"format {self.name!r} has no null input")

    def label_statistics(self, rows: list[dict]) -> dict | None:
        """Extra label statistics for ``size`` (None: the label-entropy statistics apply)."""
        return None


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


def register_format(cls):
    """Class decorator: register an instance under ``cls.name``."""
    _FORMATS[cls.name] = cls()
    return cls


def get_format(name: str) -> TaskFormat:
    """The registered format called ``name``."""
    from taskdiff.transfer import formats  # noqa: F401  (registers the built-ins)

    try:
        return _FORMATS[name]
    except KeyError:
        raise UnknownNameError("format", name, _FORMATS) from None
