"""Formats own their behaviour: no module outside ``taskdiff/transfer/formats/`` compares a
format's name (issue 16, item 3; docs/tasks.md "How a format supplies its behaviour").

The source of ``taskdiff/`` is parsed with :mod:`ast`; every comparison (``==``, ``!=``,
``in``, ``not in``) against a string literal, or a tuple / list / set of them, that is a
registered format name is a finding. Code asks the format instead (``get_format(name).attr``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import taskdiff
from taskdiff.transfer.formats import TaskFormat, get_format
from taskdiff.transfer.formats.base import _FORMATS

ROOT = Path(taskdiff.__file__).parent
FORMATS_DIR = ROOT / "transfer" / "formats"

#: (path relative to taskdiff/, literal) -> (number of comparisons, why they stay).
ALLOWED = {
    ("testbed/tasks.py", "retrieval"): (5, "the testbed's task family 'retrieval' (TaskSpec.kind), "
                                          "which its KINDS table maps to a format; not a format name"),
    ("testbed/world.py", "retrieval"): (1, "the same testbed task family (TaskSpec.kind)"),
}


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for elt in node.elts for s in _literals(elt)]
    return []


def _format_comparisons(names: set[str]) -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if FORMATS_DIR in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
                continue
            for operand in [node.left, *node.comparators]:
                for literal in set(_literals(operand)) & names:
                    key = (path.relative_to(ROOT).as_posix(), literal)
                    found.setdefault(key, []).append(node.lineno)
    return found


def test_no_module_outside_the_formats_compares_a_format_name():
    names = set(_FORMATS.names())
    assert {"classification", "tagging", "extractive_qa", "regression", "retrieval"} <= names
    found = _format_comparisons(names)
    unexpected = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not unexpected, ("format names compared outside taskdiff/transfer/formats/ (ask the format: "
                            f"get_format(name).<attribute>; see docs/tasks.md): {unexpected}")
    for key, (count, why) in ALLOWED.items():
        assert len(found.get(key, [])) == count, (key, found.get(key), why)


def test_the_scan_finds_a_comparison():
    tree = ast.parse('if task.format in ("tagging", "x") or fmt.name == "regression": pass')
    hits = [s for n in ast.walk(tree) if isinstance(n, ast.Compare)
            for o in [n.left, *n.comparators] for s in _literals(o)]
    assert {"tagging", "regression"} <= set(hits)


def test_every_built_in_format_answers_the_hooks():
    """The hooks the measures, readers and data loading call exist on every built-in format."""
    for name in _FORMATS.names():
        fmt = get_format(name)
        assert isinstance(fmt, TaskFormat) and fmt.display_name()
        for attr in ("needs_labels", "has_label_set", "labels_in_head", "per_position_outputs",
                     "candidate_pool", "split_into_words", "column_defaults", "label_unit"):
            getattr(fmt, attr)
        if fmt.trainable:
            assert fmt.label_unit is not None, name
            assert type(fmt).text_fields is not TaskFormat.text_fields, f"{name} names no text fields"


def test_null_rows_keep_the_gold_and_remove_the_input():
    rows = {
        "classification": {"id": "1", "text": "a b", "label": "x"},
        "pair_classification": {"id": "1", "text_a": "a", "text_b": "b", "label": "x"},
        "tagging": {"id": "1", "tokens": ["a", "b"], "tags": ["N", "V"]},
        "multiple_choice": {"id": "1", "context": "c", "question": "q", "choices": ["a", "b"], "label": 1},
        "extractive_qa": {"id": "1", "context": "one two three", "question": "q",
                          "answers": {"text": ["two"], "answer_start": [4]}},
    }
    null = {name: get_format(name).null_rows([row], tokenizer=None)[0] for name, row in rows.items()}
    assert null["classification"] == {"id": "1", "text": "", "label": "x"}
    assert null["pair_classification"]["text_a"] == null["pair_classification"]["text_b"] == ""
    assert null["tagging"]["tokens"] == ["[UNK]", "[UNK]"] and null["tagging"]["tags"] == ["N", "V"]
    assert null["multiple_choice"]["choices"] == ["", ""] and null["multiple_choice"]["label"] == 1
    qa = null["extractive_qa"]
    assert qa["question"] == "" and qa["context"] == "[UNK] [UNK] [UNK]"
    assert qa["context"][qa["answers"]["answer_start"][0]:].startswith(qa["answers"]["text"][0])
    assert list(rows["tagging"]) == list(null["tagging"])  # column order kept


def test_unit_labels_and_label_ids():
    tag = get_format("tagging")
    rows = [{"tokens": ["a", "b"], "tags": ["N", "V"]}, {"tokens": ["c"], "tags": ["N"]}]
    assert tag.unit_labels(rows) == ["N", "V", "N"] and tag.observed_labels(rows) == ["N", "V"]
    assert tag.label_ids(rows, ["N", "V"]).tolist() == [0, 1, 0]
    mc = get_format("multiple_choice")
    assert mc.label_ids([{"label": 2, "choices": ["a", "b", "c"]}], None).tolist() == [2]
    assert mc.n_classes(None, [{"choices": ["a", "b", "c"]}]) == 3
    assert get_format("extractive_qa").label_ids([{}], None) is None
    assert get_format("extractive_qa").frozen_targets([]) is None
