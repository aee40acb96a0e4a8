"""Token-level readers: ``conllu`` (Universal Dependencies) and ``token_tsv`` (XTREME UD-POS, PAN-X).

``conllu``
    Parsed with the `conllu <https://pypi.org/project/conllu/>`_ package. Sentences are split
    on blank lines here first, so that every error names the 1-based line of the offending
    token (the package reports no line numbers). Token lines must have the 10 tab-separated
    CoNLL-U columns (the package would also split on runs of spaces). Multiword-token ranges
    (``3-4``) and empty nodes (``5.1``) are skipped; the id is the ``sent_id`` comment if
    present, else the 0-based sentence index. Option ``tag_field``: ``upos`` (default),
    ``xpos`` or ``deprel``. With ``tag_field: deprel``, ``strip_subtypes: true`` maps a
    language-specific subtype to its universal relation (``nsubj:pass`` -> ``nsubj``,
    ``obl:tmod`` -> ``obl``: the part before the first colon, as UD defines subtypes).
``token_tsv``
    XTREME's processed tagging files: ``token<TAB>tag`` per line, a blank line between
    sentences; id = 0-based sentence index. Written by hand because the format is simpler
    than anything a library parses and we need exact line numbers.

Both accept ``labels`` (allowed tags) and ``id_prefix``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

import conllu
from conllu.exceptions import ParseException
from pydantic import BaseModel, ConfigDict, model_validator

from taskdiff.errors import DataError

from ._common import check_unique_id, parse_options, read_text, require_rows, split_lines
from ._registry import register_reader
from ._rows import validate_row

_N_COLUMNS = 10
Block = list[tuple[int, str]]
"""A sentence: its non-blank lines with their 1-based line numbers."""


class TaggingOptions(BaseModel):
    """Options of ``token_tsv``."""

    model_config = ConfigDict(extra="forbid")
    labels: Optional[list[str]] = None
    id_prefix: str = ""


class ConlluOptions(TaggingOptions):
    """Options of ``conllu``: :class:`TaggingOptions` plus ``tag_field`` and ``strip_subtypes``."""

    tag_field: Literal["upos", "xpos", "deprel"] = "upos"
    strip_subtypes: bool = False

    @model_validator(mode="after")
    def _subtypes_of_deprel(self) -> "ConlluOptions":
        if self.strip_subtypes and self.tag_field != "deprel":
            raise ValueError("strip_subtypes applies to tag_field 'deprel' only")
        return self

    def tag(self, token) -> str:
        """The token's tag (a string: checked by the caller), its subtype removed if asked."""
        value = token[self.tag_field]
        return value.split(":", 1)[0] if self.strip_subtypes else value


def split_blocks(text: str) -> list[Block]:
    """Group the lines of ``text`` into blank-line separated blocks, keeping line numbers."""
    blocks: list[Block] = []
    current: Block = []
    for number, line in enumerate(split_lines(text), start=1):
        if line.strip():
            current.append((number, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _parse_block(path: Path, block: Block) -> tuple[conllu.TokenList, list[int]]:
    """Parse one CoNLL-U sentence; returns the TokenList and each token's line number."""
    token_lines = [(n, line) for n, line in block if not line.lstrip().startswith("#")]
    for number, line in token_lines:
        n_fields = len(line.split("\t"))
        if n_fields != _N_COLUMNS:
            raise DataError(path, f"{_N_COLUMNS} tab-separated CoNLL-U columns", f"{n_fields} columns",
                            line=number)
    try:
        sentence = conllu.parse_token_and_metadata("\n".join(line for _, line in block))
    except (ParseException, ValueError) as exc:
        raise DataError(path, "a valid CoNLL-U line", str(exc), line=_failing_line(block, token_lines)) from None
    return sentence, [n for n, _ in token_lines]


def _failing_line(block: Block, token_lines: Block) -> int:
    """The first token line that the conllu package cannot parse (else the block's first line)."""
    for number, line in token_lines:
        try:
            conllu.parse_token_and_metadata(line)
        except (ParseException, ValueError):
            return number
    return block[0][0]


def read_conllu_sentences(path: str | Path) -> list[conllu.TokenList]:
    """Read a CoNLL-U file into ``conllu.TokenList`` sentences (all tokens, metadata kept).

    For the probing suites, which need heads, deprels and features. Comment-only blocks are
    skipped.

    Raises
    ------
    DataError
        Undecodable bytes, a token line without 10 columns, a line the conllu package cannot
        parse (with its line number), or a file without sentences.
    """
    path = Path(path)
    sentences = []
    for block in split_blocks(read_text(path)):
        sentence, _ = _parse_block(path, block)
        if len(sentence):
            sentences.append(sentence)
    if not sentences:
        raise DataError(path, "at least one sentence", "no CoNLL-U token lines")
    return sentences


def _is_word(token: conllu.Token) -> bool:
    return isinstance(token["id"], int)


@register_reader("conllu")
def read_conllu(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read a CoNLL-U file into ``tagging`` rows (see the module docstring).

    Raises
    ------
    DataError
        As :func:`read_conllu_sentences`, plus a word without a value in ``tag_field``
        (``_``), a label outside ``labels`` or a repeated ``sent_id``.
    ConfigError
        Invalid options.
    """
    opts = parse_options(ConlluOptions, options, "conllu")
    path = Path(path)
    rows: list[dict[str, Any]] = []
    seen: dict[str, int | None] = {}
    for block in split_blocks(read_text(path)):
        sentence, lines = _parse_block(path, block)
        words = [(tok, n) for tok, n in zip(sentence, lines) if _is_word(tok)]
        if not words:
            continue
        for tok, number in words:
            if not isinstance(tok.get(opts.tag_field), str):
                raise DataError(path, f"a {opts.tag_field} value", repr(tok.get(opts.tag_field)),
                                line=number, field=opts.tag_field)
            _check_tag(path, opts.tag(tok), opts.labels, number, opts.tag_field)
        sent_id = sentence.metadata.get("sent_id")
        row_id = opts.id_prefix + (sent_id if isinstance(sent_id, str) and sent_id else str(len(rows)))
        row = {"id": row_id, "tokens": [tok["form"] for tok, _ in words],
               "tags": [opts.tag(tok) for tok, _ in words]}
        validate_row(row, "tagging", path, block[0][0], labels=opts.labels)
        check_unique_id(seen, row_id, path, block[0][0])
        rows.append(row)
    return require_rows(rows, path, "no CoNLL-U sentences")


def _check_tag(path: Path, tag: str, labels: list[str] | None, line: int, field: str) -> None:
    if labels is not None and tag not in labels:
        raise DataError(path, f"one of {labels}", repr(tag), line=line, field=field)


def _tsv_sentence(path: Path, block: Block, labels: list[str] | None) -> tuple[list[str], list[str]]:
    tokens, tags = [], []
    for number, line in block:
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0] or not fields[1]:
            raise DataError(path, "'token<TAB>tag' (XTREME test files hide the tags)",
                            f"{len(fields)} column(s): {line!r}", line=number)
        _check_tag(path, fields[1], labels, number, "tag")
        tokens.append(fields[0])
        tags.append(fields[1])
    return tokens, tags


@register_reader("token_tsv")
def read_token_tsv(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read XTREME's ``token<TAB>tag`` files (UD-POS, PAN-X) into ``tagging`` rows.

    Raises
    ------
    DataError
        A line without exactly two non-empty columns, a tag outside ``labels``,
        undecodable bytes, or an empty file.
    ConfigError
        Invalid options.
    """
    opts = parse_options(TaggingOptions, options, "token_tsv")
    path = Path(path)
    rows = []
    for index, block in enumerate(split_blocks(read_text(path))):
        tokens, tags = _tsv_sentence(path, block, opts.labels)
        row = {"id": f"{opts.id_prefix}{index}", "tokens": tokens, "tags": tags}
        rows.append(validate_row(row, "tagging", path, block[0][0], labels=opts.labels))
    return require_rows(rows, path)
