"""English intermediate-task data sets in their released file layouts, under ``<data root>/intermediate/``.

File patterns (relative to ``intermediate/<name>/``; train / validation / test):

``snli``            ``snli_1.0_{train,dev,test}.jsonl``: pairID, sentence1, sentence2,
                    gold_label; rows with gold_label "-" (no consensus) are dropped.
``mnli``            ``multinli_1.0_{train,dev_matched}.jsonl`` (the MultiNLI 1.0 release): pairID,
                    sentence1, sentence2, gold_label; "-" dropped.
``qqp``             GLUE ``{train,dev}.tsv``: header, id, question1, question2, is_duplicate ("0"/"1").
``sst2``            GLUE ``{train,dev}.tsv``: header, sentence, label ("0"/"1") → classification.
``squad``           ``{train,dev}-v1.1.json`` → extractive_qa.
``hellaswag``       ``hellaswag_{train,val}.jsonl``: ind (id), ctx (context), activity_label
                    (question), endings, label.
``anli_r1`` .. ``anli_r3``  ``anli_v1.0/R{n}/{train,dev,test}.jsonl``: uid, context, hypothesis,
                    label e/n/c.
``cosmosqa``        ``{train,valid,test}.csv``: id, context, question, answer0..answer3, label
                    (the released test.csv has no labels and fails to read).
``commonsenseqa``   ``{train,dev,test}_rand_split.jsonl`` in the HF-flattened form: id, question,
                    choices {label, text}, answerKey A-E (context = "").
``siqa``            ``socialIQa_v1.4_{trn,dev,tst}.jsonl``: context, question, answerA-C,
                    correct A/B/C; id = line index.
``ud_english_ewt``  ``en_ewt-ud-{train,dev,test}.conllu`` → tagging (UPOS); probing code reads
                    the same files with :func:`~taskdiff.transfer.readers.read_conllu_sentences`.

All are English only (``language`` must be ``en``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .layouts import Layout, lookup
from .xtreme import NLI_LABELS, UPOS_TAGS

_ABC = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}


def _splits(pattern: str, train: str = "train", validation: str = "dev", test: str | None = "test") -> dict[str, str]:
    names = {"train": train, "validation": validation, "test": test}
    return {split: pattern.format(split=name) for split, name in names.items() if name is not None}


def _nli(id_field: str, a: str, b: str, label: str, label_map: dict | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"format": "pair_classification", "labels": list(NLI_LABELS),
                               "columns": {"id": id_field, "text_a": a, "text_b": b, "label": label}}
    return options | ({"label_map": label_map} if label_map else {})


def _anli(n: int) -> Layout:
    options = _nli("uid", "context", "hypothesis", "label",
                   {"e": "entailment", "n": "neutral", "c": "contradiction"})
    return Layout(f"anli_r{n}", "intermediate/anli", _splits(f"anli_v1.0/R{n}/{{split}}.jsonl"), "jsonl", options)


def _layouts() -> dict[str, Layout]:
    binary = ["0", "1"]
    layouts = [
        Layout("snli", "intermediate/snli", _splits("snli_1.0_{split}.jsonl"), "jsonl",
               _nli("pairID", "sentence1", "sentence2", "gold_label") | {"drop": {"gold_label": ["-"]}}),
        Layout("mnli", "intermediate/mnli", _splits("multinli_1.0_{split}.jsonl", validation="dev_matched",
                                                    test=None), "jsonl",
               _nli("pairID", "sentence1", "sentence2", "gold_label") | {"drop": {"gold_label": ["-"]}}),
        Layout("qqp", "intermediate/qqp", _splits("{split}.tsv", test=None), "tsv", {
            "format": "pair_classification", "labels": binary,
            "columns": {"id": "id", "text_a": "question1", "text_b": "question2", "label": "is_duplicate"}}),
        Layout("sst2", "intermediate/sst2", _splits("{split}.tsv", test=None), "tsv", {
            "format": "classification", "labels": binary, "columns": {"text": "sentence", "label": "label"}}),
        Layout("squad", "intermediate/squad", _splits("{split}-v1.1.json", test=None), "squad_json"),
        Layout("hellaswag", "intermediate/hellaswag", _splits("hellaswag_{split}.jsonl", validation="val",
                                                              test=None), "jsonl", {
            "format": "multiple_choice",
            "columns": {"id": "ind", "context": "ctx", "question": "activity_label", "choices": "endings",
                        "label": "label"}}),
        _anli(1), _anli(2), _anli(3),
        Layout("cosmosqa", "intermediate/cosmosqa", _splits("{split}.csv", validation="valid"), "csv", {
            "format": "multiple_choice",
            "columns": {"id": "id", "context": "context", "question": "question",
                        "choices": ["answer0", "answer1", "answer2", "answer3"], "label": "label"}}),
        Layout("commonsenseqa", "intermediate/commonsenseqa", _splits("{split}_rand_split.jsonl"), "jsonl", {
            "format": "multiple_choice", "label_map": _ABC,
            "columns": {"id": "id", "question": "question", "choices": "choices.text", "label": "answerKey"}}),
        Layout("siqa", "intermediate/siqa", _splits("socialIQa_v1.4_{split}.jsonl", train="trn", test="tst"),
               "jsonl", {
                   "format": "multiple_choice", "label_map": {k: _ABC[k] for k in "ABC"},
                   "columns": {"context": "context", "question": "question",
                               "choices": ["answerA", "answerB", "answerC"], "label": "correct"}}),
        Layout("ud_english_ewt", "intermediate/ud_english_ewt", _splits("en_ewt-ud-{split}.conllu"), "conllu",
               {"tag_field": "upos", "labels": list(UPOS_TAGS)}),
    ]
    return {layout.name: layout for layout in layouts}


INTERMEDIATE_LAYOUTS: dict[str, Layout] = _layouts()
"""Intermediate data set name → :class:`Layout` (folders under ``<data root>/intermediate``)."""


def intermediate_layout(name: str) -> Layout:
    """The layout of intermediate data set ``name``; UnknownNameError if unknown."""
    return lookup(INTERMEDIATE_LAYOUTS, "intermediate data set", name)


def read_intermediate(name: str, root: str | Path, split: str) -> list[dict[str, Any]]:
    """Read one split of an English intermediate data set into canonical rows.

    Parameters
    ----------
    name : str
        A key of :data:`INTERMEDIATE_LAYOUTS`.
    root : Path
        The data root, the folder that holds ``intermediate/``.
    split : str
        ``train``, ``validation`` or ``test``.

    Raises
    ------
    UnknownNameError, ConfigError, DataError
        As :func:`~taskdiff.transfer.readers.xtreme.read_xtreme`.
    """
    return intermediate_layout(name).read(root, split)


def intermediate_files(name: str, root: str | Path) -> dict[tuple[str, str], Path]:
    """``(split, "en") → path`` of every file of ``name`` present under ``root/intermediate``."""
    return intermediate_layout(name).available(root)
