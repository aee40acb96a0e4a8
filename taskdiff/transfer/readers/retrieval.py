"""Bitext retrieval readers: ``bucc`` (BUCC 2018 mining) and ``tatoeba`` (line-parallel pairs).

Both take the path of the *non-English* file and find their siblings by replacing its last
suffix, and both return ``retrieval`` rows: the source (non-English) side first, then the
target (English) side; ``gold`` is the id of the aligned row on the other side or ``""``.

``bucc``  path ``{l}-en.{split}.{l}``; siblings ``{l}-en.{split}.en`` and ``{l}-en.{split}.gold``.
    Each sentence file has ``id<TAB>sentence`` lines; the gold file ``{l}_id<TAB>en_id``
    lines. Ids are the file's own (``zh-000000057``). Option ``require_gold`` (default true):
    with false a missing gold file gives ``gold = ""`` everywhere (unlabelled test data).
``tatoeba``  path ``{l}-en.{l}`` (sibling ``{l}-en.en``) or LASER's ``tatoeba.{l3}-eng.{l3}``
    (sibling ``tatoeba.{l3}-eng.eng``); line i of one is the translation of line i of the
    other. Ids ``{code}-{i}`` and ``en-{i}`` (0-based i; ``code`` is the file's suffix).
    xtreme's ``download/tatoeba`` is *not* line-parallel: its preprocessing
    (``utils_preprocess.py``, ``tatoeba_preprocess``) sorts the English side alphabetically
    to hide the gold pairing. A pair whose English side (4 lines or more) is sorted while the
    other side is not is that layout and is refused (:class:`~taskdiff.errors.DataError`
    saying that the gold order lives in LASER's ``data/tatoeba/v1`` files, which the data
    directory holds under ``laser/tatoeba/v1/``).

Written with plain line splitting rather than :mod:`csv`: the sentences contain unbalanced
quote characters, and the formats have no quoting at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from taskdiff.errors import DataError

from ._common import check_unique_id, parse_options, read_text, require_rows, split_lines
from ._registry import register_reader
from ._rows import validate_row


class BuccOptions(BaseModel):
    """Options of ``bucc``."""

    model_config = ConfigDict(extra="forbid")
    require_gold: bool = True


class _NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _id_sentences(path: Path) -> list[tuple[int, str, str]]:
    """``(line, id, sentence)`` for every line of an ``id<TAB>sentence`` file."""
    out = []
    for number, line in enumerate(split_lines(read_text(path)), start=1):
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(path, "'id<TAB>sentence'", f"{len(fields)} column(s): {line!r}", line=number)
        out.append((number, fields[0], fields[1]))
    return require_rows(out, path)


def _gold_pairs(path: Path, sources: dict[str, int], targets: dict[str, int]) -> dict[str, str]:
    """Read ``src_id<TAB>en_id`` lines; both ids must exist and be aligned only once."""
    pairs: dict[str, str] = {}
    used: set[str] = set()
    for number, line in enumerate(split_lines(read_text(path)), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise DataError(path, "'source_id<TAB>en_id'", f"{len(fields)} column(s): {line!r}", line=number)
        src, tgt = fields
        for value, known, side in ((src, sources, "source"), (tgt, targets, "target")):
            if value not in known:
                raise DataError(path, f"an id of the {side} file", repr(value), line=number, field=side)
        if src in pairs or tgt in used:
            raise DataError(path, "each id aligned at most once", f"{line!r} repeats an id", line=number)
        pairs[src] = tgt
        used.add(tgt)
    return pairs


def _rows(side: str, items: list[tuple[int, str, str]], gold: dict[str, str], path: Path,
          seen: dict[str, int | None]) -> list[dict[str, Any]]:
    rows = []
    for number, row_id, text in items:
        row = {"id": row_id, "text": text, "side": side, "gold": gold.get(row_id, "")}
        validate_row(row, "retrieval", path, number)
        check_unique_id(seen, row_id, path, number)
        rows.append(row)
    return rows


@register_reader("bucc")
def read_bucc(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read one BUCC 2018 split (the ``{l}-en.{split}.{l}`` file and its siblings).

    Raises
    ------
    DataError
        A line that is not ``id<TAB>sentence``, a gold id absent from its file, an id
        aligned twice, a duplicate id, a missing sibling file, undecodable bytes, or an
        empty file.
    """
    opts = parse_options(BuccOptions, options, "bucc")
    path = Path(path)
    target_path, gold_path = path.with_suffix(".en"), path.with_suffix(".gold")
    sources, targets = _id_sentences(path), _id_sentences(target_path)
    gold: dict[str, str] = {}
    if opts.require_gold or gold_path.exists():
        gold = _gold_pairs(gold_path, {s[1]: s[0] for s in sources}, {t[1]: t[0] for t in targets})
    reverse = {tgt: src for src, tgt in gold.items()}
    seen: dict[str, int | None] = {}
    return _rows("source", sources, gold, path, seen) + _rows("target", targets, reverse, target_path, seen)


def _plain_lines(path: Path) -> list[tuple[int, str]]:
    lines = list(enumerate(split_lines(read_text(path)), start=1))
    for number, line in lines:
        if not line.strip():
            raise DataError(path, "a sentence on every line (line-parallel file)", "an empty line", line=number)
    return require_rows(lines, path)


SORTED_MIN_LINES = 4
"""Fewest lines for which a sorted English side is taken as xtreme's sorted layout (a random
line-parallel pair has a sorted English side with probability 1/n!)."""

LASER_TATOEBA_DIR = "laser/tatoeba/v1"
"""Where the data directory holds LASER's line-parallel Tatoeba files."""


def _tatoeba_target(path: Path) -> Path:
    """The English sibling: ``.eng`` for LASER's ``*-eng.{l3}`` names, ``.en`` otherwise."""
    return path.with_suffix(".eng" if path.stem.endswith("-eng") else ".en")


def _check_not_sorted_layout(path: Path, target_path: Path, sources: list[str],
                             targets: list[str]) -> None:
    """Refuse xtreme's ``download/tatoeba`` layout: English sorted, the other side not."""
    if len(targets) < SORTED_MIN_LINES or targets != sorted(targets) or sources == sorted(sources):
        return
    raise DataError(
        target_path,
        f"line i to be the translation of line i of {path.name} (a line-parallel pair). This is "
        f"xtreme's download/tatoeba layout, whose preprocessing sorts the English side and hides "
        f"the gold pairing; the gold order lives in LASER's files: put facebookresearch/LASER "
        f"data/tatoeba/v1/tatoeba.{{l3}}-eng.{{l3,eng}} under <data dir>/{LASER_TATOEBA_DIR}/",
        "English lines sorted alphabetically while the other side is not")


@register_reader("tatoeba")
def read_tatoeba(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read a line-parallel Tatoeba pair: source line i is aligned with target line i.

    ``path`` is the non-English file: ``{l}-en.{l}`` (English sibling ``{l}-en.en``) or
    LASER's ``tatoeba.{l3}-eng.{l3}`` (English sibling ``tatoeba.{l3}-eng.eng``).

    Raises
    ------
    DataError
        Different line counts, an empty line, undecodable bytes, an empty file, or xtreme's
        sorted layout (the English side sorted while the other side is not; the message says
        where the gold order lives).
    """
    parse_options(_NoOptions, options, "tatoeba")
    path = Path(path)
    lang = path.suffix.lstrip(".")
    if not lang or lang in ("en", "eng"):
        raise DataError(path, "a non-English '{l}-en.{l}' or 'tatoeba.{l3}-eng.{l3}' file",
                        f"suffix {path.suffix!r}")
    target_path = _tatoeba_target(path)
    sources, targets = _plain_lines(path), _plain_lines(target_path)
    if len(sources) != len(targets):
        raise DataError(target_path, f"{len(sources)} lines, one per line of {path.name}",
                        f"{len(targets)} lines")
    _check_not_sorted_layout(path, target_path, [t for _, t in sources], [t for _, t in targets])
    seen: dict[str, int | None] = {}
    src = [(n, f"{lang}-{i}", text) for i, (n, text) in enumerate(sources)]
    tgt = [(n, f"en-{i}", text) for i, (n, text) in enumerate(targets)]
    gold = {s[1]: t[1] for s, t in zip(src, tgt)}
    reverse = {t: s for s, t in gold.items()}
    return _rows("source", src, gold, path, seen) + _rows("target", tgt, reverse, target_path, seen)
