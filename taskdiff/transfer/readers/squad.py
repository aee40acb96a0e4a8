"""``squad_json``: SQuAD v1.1 JSON (``data → paragraphs → qas``) → ``extractive_qa`` rows.

Used for SQuAD, XQuAD, MLQA and TyDiQA-GoldP, which all ship this layout. One row per
question; id = the question's ``id``. Errors name the file, the 1-based *record* (question
number in document order; absent for errors above the question level, or the JSON line for
a syntax error) and the JSON path of the field (``data[0].paragraphs[3].qas[1].answers``).

Options: ``check_answers`` (default true: each answer text must occur at its
``answer_start`` in the context), ``id_prefix``, and ``ids``: ``"file"`` (default; the
question ids, which must be unique) or ``"index"`` (the 0-based question index in document
order, for files whose ids repeat, such as XTREME's TyDiQA-GoldP files where ``"0"`` is the
id of hundreds of questions). SQuAD v2 questions with
``is_impossible`` are read with their (empty) ``answers`` list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from taskdiff.errors import DataError

from ._common import check_unique_id, parse_options, read_text, require_rows, type_name
from ._registry import register_reader
from ._rows import validate_row


class SquadOptions(BaseModel):
    """Options of ``squad_json``."""

    model_config = ConfigDict(extra="forbid")
    check_answers: bool = True
    id_prefix: str = ""
    ids: Literal["file", "index"] = "file"


_JSON_NAMES = {str: "string", int: "integer", list: "list", dict: "object"}


def _get(obj: Any, key: str, kind: type | tuple[type, ...], path: Path, record: int | None, where: str) -> Any:
    """``obj[key]`` checked to be of ``kind``; DataError naming the JSON path otherwise."""
    field = f"{where}.{key}" if where else key
    if not isinstance(obj, dict):
        raise DataError(path, "a JSON object", type_name(obj), line=record, field=where or "(document)")
    if key not in obj:
        raise DataError(path, f"a key {key!r}", "none", line=record, field=field)
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) or not isinstance(value, kinds):
        expected = " or ".join(f"a JSON {_JSON_NAMES[k]}" for k in kinds)
        raise DataError(path, expected, type_name(value), line=record, field=field)
    return value


def _answers(qa: dict, path: Path, record: int, where: str) -> dict[str, list]:
    texts, starts = [], []
    for k, answer in enumerate(_get(qa, "answers", list, path, record, where)):
        at = f"{where}.answers[{k}]"
        texts.append(_get(answer, "text", str, path, record, at))
        starts.append(_get(answer, "answer_start", int, path, record, at))
    return {"text": texts, "answer_start": starts}


def _qa_row(qa: Any, context: str, path: Path, record: int, where: str, opts: SquadOptions) -> dict:
    qid = _get(qa, "id", (str, int), path, record, where) if opts.ids == "file" else record - 1
    row = {
        "id": opts.id_prefix + str(qid),
        "context": context,
        "question": _get(qa, "question", str, path, record, where),
        "answers": _answers(qa, path, record, where),
    }
    try:
        return validate_row(row, "extractive_qa", path, record, check_answers=opts.check_answers)
    except DataError as exc:  # name the JSON path of the question, not the canonical column
        raise DataError(path, exc.expected, exc.found, line=record, field=f"{where}.{exc.field}") from None


def _parse(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, "a SQuAD JSON document", f"invalid JSON ({exc.msg} at column {exc.colno})",
                        line=exc.lineno) from None
    except RecursionError:
        raise DataError(path, "a SQuAD JSON document", "JSON nested too deeply") from None


@register_reader("squad_json")
def read_squad_json(path: Path, **options: Any) -> list[dict[str, Any]]:
    """Read a SQuAD-format JSON file into ``extractive_qa`` rows.

    Raises
    ------
    DataError
        Invalid JSON (with its line), a missing or mistyped key (with the JSON path), an
        answer not found at its ``answer_start``, a duplicate question id, undecodable
        bytes, or no questions.
    ConfigError
        Invalid options.
    """
    opts = parse_options(SquadOptions, options, "squad_json")
    path = Path(path)
    text = read_text(path)
    if not text.strip():
        raise DataError(path, "at least one example", "an empty file")
    doc = _parse(text, path)
    rows: list[dict[str, Any]] = []
    seen: dict[str, int | None] = {}
    for a, article in enumerate(_get(doc, "data", list, path, None, "")):
        for p, paragraph in enumerate(_get(article, "paragraphs", list, path, None, f"data[{a}]")):
            where = f"data[{a}].paragraphs[{p}]"
            context = _get(paragraph, "context", str, path, None, where)
            for q, qa in enumerate(_get(paragraph, "qas", list, path, None, where)):
                record = len(rows) + 1
                row = _qa_row(qa, context, path, record, f"{where}.qas[{q}]", opts)
                check_unique_id(seen, row["id"], path, record, hint="option ids='index' numbers questions")
                rows.append(row)
    return require_rows(rows, path, "no questions")
