"""Extractive QA metrics: SQuAD v1.1 (XQuAD, TyDiQA-GoldP) and MLQA's per-language variant.

Both follow their official scripts: normalise prediction and gold answer, exact match (EM)
is string equality after normalisation, F1 is the bag-of-tokens overlap F1, each maximised
over a question's gold answers and averaged over questions, on the 0-100 scale. They differ
only in normalisation:

* SQuAD v1.1 (``evaluate-v1.1.py``, used by XTREME for XQuAD and TyDiQA-GoldP): lower-case,
  drop ASCII punctuation (``string.punctuation``), drop the English articles a/an/the,
  collapse whitespace; tokens are whitespace-separated.
* MLQA (``mlqa_evaluation_v1.py``): lower-case, drop every Unicode punctuation character
  (category P*) and ASCII punctuation, drop language-specific articles, then whitespace
  tokenisation, except for Chinese which uses mixed segmentation (every CJK character is a
  token, runs of other characters are split on whitespace).
"""

from __future__ import annotations

import re
import string
import unicodedata
import warnings
from collections import Counter
from functools import lru_cache
from typing import Callable, Mapping, Sequence, Union

from taskdiff.errors import UnknownNameError

from ._checks import MetricInputError, check_same_length
from .registry import register_metric

Predictions = Union[Mapping[str, str], Sequence[str]]
References = Union[Mapping[str, object], Sequence[object]]

_SQUAD_PUNCT = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")

MLQA_ARTICLES: dict[str, re.Pattern | None] = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "hi": None,  # no articles
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    # The official pattern; its first branch can never match (``^`` after characters), so
    # in effect every occurrence of the prefix "ال" is removed, also inside words.
    "ar": re.compile(r"\sال^|ال"),
    "zh": None,  # no articles
}
"""Article patterns of the official MLQA script, by language."""

MLQA_LANGUAGES: tuple[str, ...] = tuple(MLQA_ARTICLES)
MIXED_SEGMENTATION_LANGUAGES = frozenset({"zh"})
_CJK = re.compile("[\u4e00-\u9fa5]")  # the official script's range, not the whole CJK block


@lru_cache(maxsize=65536)
def _is_mlqa_punct(ch: str) -> bool:
    return ch in _SQUAD_PUNCT or unicodedata.category(ch).startswith("P")


def normalize_squad(text: str) -> str:
    """SQuAD v1.1 normalisation: lower, drop ASCII punctuation and a/an/the, fix spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _SQUAD_PUNCT)
    return " ".join(_SQUAD_ARTICLES.sub(" ", text).split())


def mixed_segmentation(text: str) -> list[str]:
    """MLQA's Chinese tokenisation: each CJK character (or punctuation) is one token.

    Runs of other characters between them are split on whitespace, so
    ``"iphone手机"`` -> ``["iphone", "手", "机"]``.
    """
    tokens: list[str] = []
    run = ""
    for ch in text:
        if _CJK.match(ch) or _is_mlqa_punct(ch):
            tokens.extend(run.split())
            run = ""
            tokens.append(ch)
        else:
            run += ch
    tokens.extend(run.split())
    return tokens


def normalize_mlqa(text: str, language: str) -> str:
    """MLQA normalisation for ``language`` (one of :data:`MLQA_LANGUAGES`).

    Raises
    ------
    UnknownNameError
        If the language is not one of MLQA's seven.
    """
    if language not in MLQA_ARTICLES:
        raise UnknownNameError("MLQA language", language, MLQA_LANGUAGES)
    text = "".join(ch for ch in text.lower() if not _is_mlqa_punct(ch))
    articles = MLQA_ARTICLES[language]
    if articles is not None:
        text = articles.sub(" ", text)
    if language in MIXED_SEGMENTATION_LANGUAGES:
        tokens = mixed_segmentation(text)
    else:
        tokens = text.split()
    return " ".join(t for t in tokens if t.strip())


def token_f1(prediction_tokens: Sequence[str], gold_tokens: Sequence[str]) -> float:
    """Bag-of-tokens F1 (0-1) as in SQuAD v1.1: 0 when nothing overlaps, also if both empty."""
    common = Counter(prediction_tokens) & Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _gold_texts(metric: str, key: object, golds: object) -> list[str]:
    """Accept a list of gold strings, one string, or a schema ``answers`` dict."""
    if isinstance(golds, Mapping):
        golds = golds.get("text", [])
    if isinstance(golds, str):
        golds = [golds]
    golds = list(golds)  # type: ignore[arg-type]
    if not golds:
        raise MetricInputError(f"{metric}: question {key!r} has no gold answer")
    return golds


def _align(metric: str, predictions: Predictions, references: References,
           strict: bool) -> list[tuple[str | None, list[str]]]:
    """Pair each reference question with its prediction (None when missing)."""
    if isinstance(references, Mapping) != isinstance(predictions, Mapping):
        raise MetricInputError(
            f"{metric}: expected predictions and references both keyed by id (dict) or both "
            f"aligned lists, found {type(predictions).__name__} and {type(references).__name__}")
    if not isinstance(references, Mapping):
        check_same_length(metric, predictions, references, what="questions")
        return [(p, _gold_texts(metric, i, g))
                for i, (p, g) in enumerate(zip(predictions, references))]
    if not references:
        raise MetricInputError(f"{metric}: expected at least one reference question, found none")
    missing = [qid for qid in references if qid not in predictions]
    if missing and strict:
        raise MetricInputError(
            f"{metric}: expected a prediction for every question, found {len(missing)} "
            f"missing (first: {missing[0]!r})")
    if missing:
        warnings.warn(f"{metric}: {len(missing)} of {len(references)} questions have no "
                      f"prediction and score 0 (first: {missing[0]!r})", stacklevel=3)
    return [(predictions.get(qid), _gold_texts(metric, qid, g)) for qid, g in references.items()]


def _qa_scores(metric: str, predictions: Predictions, references: References,
               normalize: Callable[[str], str], strict: bool) -> dict[str, float]:
    em_total = f1_total = 0.0
    pairs = _align(metric, predictions, references, strict)
    for prediction, golds in pairs:
        if prediction is None:
            continue
        pred_norm = normalize(prediction)
        gold_norms = [normalize(g) for g in golds]
        em_total += max(float(pred_norm == g) for g in gold_norms)
        f1_total += max(token_f1(pred_norm.split(), g.split()) for g in gold_norms)
    n = len(pairs)
    return {"exact_match": 100.0 * em_total / n, "f1": 100.0 * f1_total / n}


@register_metric("squad", primary="f1")
def squad(predictions: Predictions, references: References, *,
          strict: bool = False) -> dict[str, float]:
    """SQuAD v1.1 exact match and F1 (XQuAD, TyDiQA-GoldP in XTREME).

    Parameters
    ----------
    predictions : dict id -> str, or list of str
        Predicted answer text per question.
    references : dict id -> golds, or list of golds
        Gold answers per question: a list of texts, one text, or the schema's ``answers``
        dict (its ``"text"`` list is used). Scores are maximised over a question's golds.
    strict : bool
        If True a question without prediction is an error; otherwise (the official
        behaviour) it scores 0 and a warning is issued. Extra predictions are ignored.

    Returns
    -------
    dict
        ``{"exact_match": ..., "f1": ...}`` on the 0-100 scale; primary key ``"f1"``.

    Notes
    -----
    As in v1.1 (unlike v2.0), a prediction and gold that both normalise to the empty
    string give EM 1 but F1 0. The normalisation only knows ASCII punctuation and English
    articles, and tokenises on whitespace: for languages written without spaces (zh, th
    in XQuAD) a whole answer is one token, so F1 is close to EM.
    """
    return _qa_scores("squad", predictions, references, normalize_squad, strict)


@register_metric("mlqa", primary="f1")
def mlqa(predictions: Predictions, references: References, *, language: str,
         strict: bool = False) -> dict[str, float]:
    """MLQA exact match and F1 with the official per-language normalisation.

    Parameters
    ----------
    predictions, references, strict
        As for :func:`squad`.
    language : str
        Language of the context (and answers), one of :data:`MLQA_LANGUAGES`
        (en, es, hi, vi, de, ar, zh).

    Returns
    -------
    dict
        ``{"exact_match": ..., "f1": ...}`` on the 0-100 scale; primary key ``"f1"``.

    Raises
    ------
    UnknownNameError
        If ``language`` is not an MLQA language.
    """
    if language not in MLQA_ARTICLES:
        raise UnknownNameError("MLQA language", language, MLQA_LANGUAGES)
    return _qa_scores("mlqa", predictions, references,
                      lambda text: normalize_mlqa(text, language), strict)
