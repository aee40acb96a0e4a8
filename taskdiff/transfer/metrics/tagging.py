"""Sequence-labelling metrics: PAN-X entity F1 and UD-POS, both through ``seqeval``.

XTREME's ``run_tag.py`` scores both tagging tasks with ``seqeval.metrics.f1_score`` in its
default (conlleval-compatible, lenient) mode, over the list of sentences. For PAN-X this is
the usual entity F1. For UD-POS the tags carry no ``B-``/``I-`` prefix, and seqeval then
reads the first character of a tag as the chunk prefix and the rest as its type (``NOUN`` ->
type ``OUN``), so runs of equal tags are merged into one "chunk" and a chunk only counts when
its whole run is right. XTREME's POS "F1" is therefore not per-token accuracy; :func:`pos`
reports both.
"""

from __future__ import annotations

import warnings
from typing import Sequence

from seqeval.metrics import f1_score, precision_score, recall_score

from ._checks import MetricInputError, check_same_length
from .registry import register_metric

TagSeqs = Sequence[Sequence[str]]


def _check_tag_sequences(metric: str, predictions: TagSeqs, references: TagSeqs) -> None:
    check_same_length(metric, predictions, references, what="sentences")
    for i, (pred, gold) in enumerate(zip(predictions, references)):
        if isinstance(pred, str) or isinstance(gold, str):
            raise MetricInputError(
                f"{metric}: expected a list of tag lists (one per sentence), found a string "
                f"at sentence {i}")
        if len(pred) != len(gold):
            raise MetricInputError(
                f"{metric}: sentence {i} has {len(gold)} gold tags but {len(pred)} predicted")


def _seqeval(predictions: TagSeqs, references: TagSeqs) -> tuple[float, float, float]:
    """Micro precision, recall and F1 (0-1) from seqeval's default mode, warnings muted."""
    gold = [list(s) for s in references]
    pred = [list(s) for s in predictions]
    with warnings.catch_warnings():
        # seqeval warns once per non-IOB tag ("NOUN seems not to be NE tag") and when no
        # entity is predicted; neither changes the number.
        warnings.simplefilter("ignore")
        return (precision_score(gold, pred), recall_score(gold, pred), f1_score(gold, pred))


@register_metric("seqeval_f1", primary="f1")
def seqeval_f1(predictions: TagSeqs, references: TagSeqs) -> dict[str, float]:
    """Entity-level micro precision, recall and F1 as XTREME reports for PAN-X (WikiANN).

    Parameters
    ----------
    predictions, references : sequence of sequence of str
        One tag list per sentence (IOB2 tags such as ``B-PER``, ``I-PER``, ``O``), aligned
        by position and of equal length per sentence.

    Returns
    -------
    dict
        ``{"precision", "recall", "f1"}`` on the 0-100 scale; primary key ``"f1"``.

    Notes
    -----
    seqeval's default mode is lenient like conlleval: an entity may start with ``I-``
    (``I-PER I-PER`` is one PER entity), and an entity counts as correct only when its type
    and both boundaries match exactly; partial overlaps count as one false positive and one
    false negative. With no gold and no predicted entity at all, seqeval returns 0.
    """
    _check_tag_sequences("seqeval_f1", predictions, references)
    p, r, f = _seqeval(predictions, references)
    return {"precision": 100.0 * p, "recall": 100.0 * r, "f1": 100.0 * f}


def token_accuracy(predictions: TagSeqs, references: TagSeqs) -> float:
    """Percentage of tokens whose predicted tag equals the gold tag (over all sentences)."""
    _check_tag_sequences("token_accuracy", predictions, references)
    total = sum(len(s) for s in references)
    if total == 0:
        raise MetricInputError("token_accuracy: expected at least one token, found none")
    correct = sum(p == g for ps, gs in zip(predictions, references) for p, g in zip(ps, gs))
    return 100.0 * correct / total


@register_metric("pos", primary="f1")
def pos(predictions: TagSeqs, references: TagSeqs) -> dict[str, float]:
    """UD-POS scores: XTREME's seqeval F1 on plain tags, and token accuracy, side by side.

    Parameters
    ----------
    predictions, references : sequence of sequence of str
        One list of UPOS tags (``NOUN``, ``VERB`` ...) per sentence.

    Returns
    -------
    dict
        ``{"f1": ..., "token_accuracy": ...}`` on the 0-100 scale; primary key ``"f1"``
        (the number XTREME and X-STILTs report).

    Notes
    -----
    Pitfall: seqeval parses a plain tag ``NOUN`` as prefix ``N`` + type ``OUN`` and merges
    runs of equal tags into one chunk, so ``f1`` is a chunk F1 over runs, not accuracy.
    Example: gold ``DET NOUN NOUN``, predicted ``DET NOUN ADJ`` gives gold chunks
    {DET, NOUN NOUN} and predicted chunks {DET, NOUN, ADJ}: 1 of 3 predicted and 1 of 2
    gold chunks match, F1 = 40, while token accuracy = 2/3 = 66.7. Tags whose first letter
    is an IOBES prefix get that prefix's meaning (``SCONJ``/``SYM`` are single-token chunks,
    ``INTJ`` an inside tag), and the one-letter ``X`` has the same empty type as ``O``.
    Compare models on ``f1`` for XTREME comparability and read ``token_accuracy`` for
    linguistic interpretation.
    """
    _check_tag_sequences("pos", predictions, references)
    _, _, f = _seqeval(predictions, references)
    return {"f1": 100.0 * f, "token_accuracy": token_accuracy(predictions, references)}


@register_metric("tag_accuracy", primary="accuracy")
def tag_accuracy(predictions: TagSeqs, references: TagSeqs) -> dict[str, float]:
    """Per-token tag accuracy (the CCG supertagging metric), 0-100.

    Returns
    -------
    dict
        ``{"accuracy": ...}``.
    """
    return {"accuracy": token_accuracy(predictions, references)}
