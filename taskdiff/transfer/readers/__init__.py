"""Data readers: files → canonical rows (:mod:`taskdiff.transfer.schema`).

A reader is a pure function ``reader(path: Path, **options) -> list[dict]`` registered under
a name with :func:`register_reader` and looked up with :func:`get_reader`. Every reader
returns rows in exactly the schema of its format and raises
:class:`~taskdiff.errors.DataError` (file, 1-based line or record, field, expected, found)
for malformed input, :class:`~taskdiff.errors.ConfigError` for invalid options.

Built-in readers
----------------
``jsonl``, ``csv``, ``tsv``
    Generic record readers configured by ``format``, ``columns``, ``label_map``/``maps``,
    ``drop``, ``labels``, ``id_prefix`` (+ ``header``, ``quoting`` for csv/tsv).
``conllu``, ``token_tsv``
    Tagging rows from CoNLL-U (``tag_field``) or XTREME's ``token<TAB>tag`` files.
``squad_json``
    SQuAD v1.1 JSON → extractive_qa (SQuAD, XQuAD, MLQA, TyDiQA-GoldP).
``bucc``, ``tatoeba``
    Bitext retrieval rows.

Released-file layouts (which file holds which split) are data: :data:`XTREME_LAYOUTS` with
:func:`read_xtreme` / :func:`xtreme_files`, and :data:`INTERMEDIATE_LAYOUTS` with
:func:`read_intermediate` / :func:`intermediate_files`. See ``docs/readers.md``.
"""

from __future__ import annotations

from ._registry import READERS, Reader, get_reader, read, register_reader
from . import ccgbank, conll, delimited, jsonl, retrieval, squad  # noqa: F401  (register the readers)
from .conll import read_conllu, read_conllu_sentences, read_token_tsv
from .delimited import read_csv, read_tsv
from .intermediate import INTERMEDIATE_LAYOUTS, intermediate_files, intermediate_layout, read_intermediate
from .jsonl import read_jsonl
from .layouts import Layout
from .retrieval import read_bucc, read_tatoeba
from .squad import read_squad_json
from .xtreme import XTREME_LAYOUTS, read_xtreme, xtreme_files, xtreme_layout
from taskdiff.transfer.readers.layouts import lookup

LAYOUTS: dict[str, Layout] = {**XTREME_LAYOUTS, **INTERMEDIATE_LAYOUTS}
"""Every built-in layout by name (XTREME tasks and intermediate data sets)."""


def get_layout(name: str) -> Layout:
    """The built-in layout ``name``; :class:`~taskdiff.errors.UnknownNameError` if unknown."""

    return lookup(LAYOUTS, "data layout", name)


__all__ = [
    "READERS", "Reader", "register_reader", "get_reader", "read",
    "read_jsonl", "read_csv", "read_tsv", "read_conllu", "read_conllu_sentences", "read_token_tsv",
    "read_squad_json", "read_bucc", "read_tatoeba",
    "Layout", "LAYOUTS", "get_layout",
    "XTREME_LAYOUTS", "read_xtreme", "xtreme_files", "xtreme_layout",
    "INTERMEDIATE_LAYOUTS", "read_intermediate", "intermediate_files", "intermediate_layout",
]
