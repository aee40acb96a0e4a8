"""XTREME's processed ``download/`` folder, under ``<data root>/xtreme/``.

File patterns (``{l}`` = language code; split names are canonical: ``validation`` is the
file named ``dev``/``val``):

``xnli``      ``train-{l}.tsv``, ``dev-{l}.tsv``, ``test-{l}.tsv``: tsv without header, premise,
              hypothesis, label → pair_classification (entailment/neutral/contradiction;
              MNLI's "contradictory" is mapped to contradiction).
``pawsx``     the same names and columns (the dev files have no header either); labels "0"/"1".
``udpos``     ``train-{l}.tsv``, ``dev-{l}.tsv``, ``test-{l}.tsv``: token_tsv → tagging (17 UPOS tags).
``panx``      the same names: token_tsv → tagging (IOB2 O, B-/I-PER, ORG, LOC).
``xquad``     ``xquad.{l}.json`` for both validation and test: squad_json → extractive_qa.
``mlqa``      ``MLQA_V1/dev/dev-context-{l}-question-{l}.json`` (validation),
              ``MLQA_V1/test/test-context-{l}-question-{l}.json`` (test): squad_json.
``tydiqa``    ``tydiqa-goldp-v1.1-train/tydiqa.goldp.{l}.train.json`` (train),
              ``tydiqa-goldp-v1.1-dev/tydiqa.goldp.{l}.dev.json`` (validation and test: the
              GoldP dev set is XTREME's test set): squad_json with ids = the 0-based
              question index (the files' own ids repeat).
``bucc2018``  ``{l}-en.dev.{l}`` (validation), ``{l}-en.test.{l}`` (test), each with its
              ``.en`` and ``.gold`` siblings: bucc → retrieval.
``tatoeba``   test only, tatoeba → retrieval; from the first of two layouts that has the file:
              LASER's line-parallel ``<data root>/laser/tatoeba/v1/tatoeba.{l3}-eng.{l3}``
              with ``tatoeba.{l3}-eng.eng`` (``{l3}`` from :data:`TATOEBA_LANG3`, xtreme's
              own mapping), else ``xtreme/tatoeba/{l}-en.{l}`` with ``{l}-en.en``. xtreme's
              ``download/tatoeba`` files have the English side sorted (gold order hidden);
              the reader refuses them and says where the gold order lives.
``xcopa``     ``train-{l}.jsonl``, ``val-{l}.jsonl``, ``test-{l}.jsonl``: jsonl → multiple_choice,
              context = premise, question = "What was the cause?" / "What happened as a
              result?" from cause/effect, choices = [choice1, choice2], id = idx.

Ids of the translated sets (xnli, pawsx: the 0-based line index; udpos, panx: the sentence
index; xquad, mlqa: the question id; xcopa: ``idx``) are the same for the same item in
every language. XTREME hides test labels of udpos and panx: reading those test files raises
a :class:`~taskdiff.errors.DataError` naming the first line without a tag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .layouts import FirstOf, Layout, lookup

NLI_LABELS = ("entailment", "neutral", "contradiction")
PAWSX_LABELS = ("0", "1")
UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
             "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")
PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
XCOPA_QUESTIONS = {"cause": "What was the cause?", "effect": "What happened as a result?"}

TATOEBA_LANG3 = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa",
    "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin",
    "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
    "ko": "kor", "ml": "mal", "mr": "mar", "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh",
    "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "ur": "urd", "vi": "vie",
    "zh": "cmn", "az": "aze", "lt": "lit", "pl": "pol", "uk": "ukr", "ro": "ron",
}
"""Language → LASER's Tatoeba file code: the inverse of ``lang3_dict`` in xtreme's
``utils_preprocess.py`` (``tatoeba_preprocess``, google-research/xtreme commit 838c13b), which
copies ``tatoeba.{l3}-eng.{l3}`` to ``download/tatoeba/{l}-en.{l}``. Note ``fa`` = ``pes``
(Iranian Persian), ``sw`` = ``swh``, ``zh`` = ``cmn`` (Mandarin)."""

_THREE_SPLITS = {"train": "train-{lang}.tsv", "validation": "dev-{lang}.tsv", "test": "test-{lang}.tsv"}
_PAIR_COLUMNS = {"text_a": 0, "text_b": 1, "label": 2}
_TYDI_DEV = "tydiqa-goldp-v1.1-dev/tydiqa.goldp.{lang}.dev.json"


def _layouts() -> dict[str, Layout | FirstOf]:
    nli_map = {**{label: label for label in NLI_LABELS}, "contradictory": "contradiction"}
    return {
        "xnli": Layout("xnli", "xtreme/xnli", _THREE_SPLITS, "tsv", {
            "format": "pair_classification", "header": False, "columns": _PAIR_COLUMNS,
            "label_map": nli_map, "labels": list(NLI_LABELS)}),
        "pawsx": Layout("pawsx", "xtreme/pawsx", _THREE_SPLITS, "tsv", {
            "format": "pair_classification", "header": False, "columns": _PAIR_COLUMNS,
            "labels": list(PAWSX_LABELS)}),
        "udpos": Layout("udpos", "xtreme/udpos", _THREE_SPLITS, "token_tsv", {"labels": list(UPOS_TAGS)}),
        "panx": Layout("panx", "xtreme/panx", _THREE_SPLITS, "token_tsv", {"labels": list(PANX_TAGS)}),
        "xquad": Layout("xquad", "xtreme/xquad",
                        {"validation": "xquad.{lang}.json", "test": "xquad.{lang}.json"}, "squad_json"),
        "mlqa": Layout("mlqa", "xtreme/mlqa", {
            "validation": "MLQA_V1/dev/dev-context-{lang}-question-{lang}.json",
            "test": "MLQA_V1/test/test-context-{lang}-question-{lang}.json"}, "squad_json"),
        "tydiqa": Layout("tydiqa", "xtreme/tydiqa", {
            "train": "tydiqa-goldp-v1.1-train/tydiqa.goldp.{lang}.train.json",
            "validation": _TYDI_DEV, "test": _TYDI_DEV}, "squad_json", {"ids": "index"}),
        "bucc2018": Layout("bucc2018", "xtreme/bucc2018",
                           {"validation": "{lang}-en.dev.{lang}", "test": "{lang}-en.test.{lang}"}, "bucc"),
        "tatoeba": FirstOf("tatoeba", (
            Layout("tatoeba", "laser/tatoeba/v1", {"test": "tatoeba.{lang}-eng.{lang}"}, "tatoeba",
                   codes=TATOEBA_LANG3),
            Layout("tatoeba", "xtreme/tatoeba", {"test": "{lang}-en.{lang}"}, "tatoeba"))),
        "xcopa": Layout("xcopa", "xtreme/xcopa", {
            "train": "train-{lang}.jsonl", "validation": "val-{lang}.jsonl", "test": "test-{lang}.jsonl"},
            "jsonl", {
                "format": "multiple_choice",
                "columns": {"id": "idx", "context": "premise", "question": "question",
                            "choices": ["choice1", "choice2"], "label": "label"},
                "maps": {"question": XCOPA_QUESTIONS}}),
    }


XTREME_LAYOUTS: dict[str, Layout | FirstOf] = _layouts()
"""XTREME task name → :class:`Layout` (folders under ``<data root>/xtreme``)."""


def xtreme_layout(task: str) -> Layout | FirstOf:
    """The layout of XTREME ``task``; :class:`~taskdiff.errors.UnknownNameError` if unknown."""
    return lookup(XTREME_LAYOUTS, "xtreme task", task)


def read_xtreme(task: str, root: str | Path, language: str, split: str) -> list[dict[str, Any]]:
    """Read one XTREME file into canonical rows.

    Parameters
    ----------
    task : str
        A key of :data:`XTREME_LAYOUTS` (``xnli``, ``pawsx``, ``udpos``, ``panx``, ``xquad``,
        ``mlqa``, ``tydiqa``, ``bucc2018``, ``tatoeba``, ``xcopa``).
    root : Path
        The data root, the folder that holds ``xtreme/``.
    language : str
        Language code (``de``); for bucc2018 and tatoeba the non-English side.
    split : str
        ``train``, ``validation`` or ``test``.

    Raises
    ------
    UnknownNameError
        Unknown task.
    ConfigError
        A split the task does not have, or a malformed language code.
    DataError
        A missing or malformed file.
    """
    return xtreme_layout(task).read(root, split, language)


def xtreme_files(task: str, root: str | Path) -> dict[tuple[str, str], Path]:
    """``(split, language) → path`` of every file of ``task`` present under ``root/xtreme``."""
    return xtreme_layout(task).available(root)
