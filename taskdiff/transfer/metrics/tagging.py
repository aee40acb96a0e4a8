"""Sequence-labelling metrics: PAN-X entity F1 and UD-POS, with seqeval's chunking.

XTREME's ``run_tag.py`` scores both tagging tasks with ``seqeval.metrics.f1_score`` in its
default (conlleval-compatible, lenient) mode, over the list of sentences. For PAN-X this is
the usual entity F1. For UD-POS the tags carry no ``B-``/``I-`` prefix, and seqeval then
reads the first character of a tag as the chunk prefix, so runs of equal tags are merged into
one "chunk" and a chunk only counts when its whole run is right. XTREME's POS "F1" is
therefore not per-token accuracy; :func:`pos` reports both.

seqeval version. xtreme's ``install_tools.sh`` runs an unpinned ``pip install seqeval``
(commits of March to September 2020); the seqeval release of that whole period was 0.0.12
(June 2019; 0.0.13 came on 30 September 2020, 1.0 in October 2020), so XTREME's and
X-STILTs' published numbers are 0.0.12's. 0.0.12 and 1.x parse a tag differently: 0.0.12's
chunk type is ``tag.split("-")[-1]`` (``NOUN`` -> ``NOUN``, ``X`` -> ``X``), 1.x's is
``tag[1:].split("-", 1)[-1] or "_"`` (``NOUN`` -> ``OUN``, ``X`` -> ``_``, the type of the
``O`` that separates sentences). For IOB2 tags (PAN-X) and for every UPOS tag but ``X`` the
two agree; ``X`` gets the type of the sentence-separating ``O`` in 1.x, so an ``X`` chunk is
not closed at a sentence end and runs on into the next chunk boundary. On the UD dev files
with noisy predictions 1.2.2 differs from 0.0.12 by up to 0.56 points
(``tests/transfer/seqeval_0012_reference.py``; the issue that asked for this reports up to 1.9 points
with real model predictions). seqeval 0.0.12
declares ``Keras>=2.2.4`` as a dependency (for a callback module its metrics never import),
so pinning it would install Keras into every environment; :func:`pos` therefore uses 0.0.12's
chunk parsing, re-implemented in :func:`chunks_seqeval_0012` on top of the boundary rules
(``end_of_chunk``/``start_of_chunk``) that 1.2.2 still ships unchanged, while PAN-X uses the
installed seqeval (pinned to 1.2.2; identical to 0.0.12 on IOB2). The equivalence to the
real 0.0.12 was checked on the UD dev files (docs/metrics.md). :data:`METRIC_PROVENANCE`
records which chunking each metric used.
"""

from __future__ import annotations

import warnings
from typing import Sequence

from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import end_of_chunk, start_of_chunk

from ._checks import MetricInputError, check_same_length
from .registry import register_metric

TagSeqs = Sequence[Sequence[str]]

SEQEVAL_XTREME = "0.0.12"
"""The seqeval release XTREME's and X-STILTs' tagging numbers were computed with."""


def _installed_seqeval() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("seqeval")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        return "unknown"


METRIC_PROVENANCE = {
    "pos": {"f1": f"seqeval {SEQEVAL_XTREME} chunking (taskdiff re-implementation, XTREME-comparable)",
            "token_accuracy": "per-token accuracy"},
    "seqeval_f1": {"f1": f"seqeval {_installed_seqeval()} default mode (= {SEQEVAL_XTREME} on IOB2 tags)"},
}
"""Metric -> how its keys were computed; stored with each evaluation run."""


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


def chunks_seqeval_0012(sentences: TagSeqs) -> set[tuple[str, int, int]]:
    """Chunks ``(type, start, end)`` as seqeval 0.0.12's ``get_entities`` finds them.

    Sentences are joined with an ``O`` between them (as seqeval does for nested lists); the
    prefix is a tag's first character and the type ``tag.split("-")[-1]`` (0.0.12's
    parsing; 1.x uses ``tag[1:]``). Boundaries follow seqeval's ``end_of_chunk`` and
    ``start_of_chunk``, unchanged between the two releases.
    """
    flat = [tag for sentence in sentences for tag in list(sentence) + ["O"]]
    chunks: set[tuple[str, int, int]] = set()
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate(flat + ["O"]):
        tag, type_ = chunk[0], chunk.split("-")[-1]
        if end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.add((prev_type, begin, i - 1))
        if start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


def _f1_seqeval_0012(predictions: TagSeqs, references: TagSeqs) -> float:
    """seqeval 0.0.12's micro ``f1_score`` (0-1): exact chunk matches over the two chunk sets."""
    gold, pred = chunks_seqeval_0012(references), chunks_seqeval_0012(predictions)
    correct = len(gold & pred)
    p = correct / len(pred) if pred else 0.0
    r = correct / len(gold) if gold else 0.0
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


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
    """UD-POS scores: XTREME's seqeval (0.0.12) F1 on plain tags, and token accuracy, side by side.

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
    Pitfall: seqeval parses a plain tag ``NOUN`` as prefix ``N`` + a type and merges runs of
    equal tags into one chunk, so ``f1`` is a chunk F1 over runs, not accuracy. Example:
    gold ``DET NOUN NOUN``, predicted ``DET NOUN ADJ`` gives gold chunks {DET, NOUN NOUN}
    and predicted chunks {DET, NOUN, ADJ}: 1 of 3 predicted and 1 of 2 gold chunks match,
    F1 = 40, while token accuracy = 2/3 = 66.7. Tags whose first letter is an IOBES prefix
    get that prefix's meaning (``SCONJ``/``SYM`` are single-token chunks, ``INTJ`` an
    inside tag). The chunking is seqeval 0.0.12's (:func:`chunks_seqeval_0012`), the
    release XTREME used; seqeval 1.x differs on ``X`` (module docstring). Compare models on
    ``f1`` for XTREME comparability and read ``token_accuracy`` for linguistic
    interpretation.
    """
    _check_tag_sequences("pos", predictions, references)
    f = _f1_seqeval_0012(predictions, references)
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
