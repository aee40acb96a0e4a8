"""Custom probes read from CoNLL-U sentence comments (``# probe.<name>.<group> = <label>``)."""

from __future__ import annotations

import numpy as np
import pytest

from taskdiff.difficulty.probing import PROBES, build_probe_suite
from taskdiff.difficulty.probing.custom import parse_probe_comments
from taskdiff.errors import DataError, UnknownNameError


def _sentence(sent_id: str, comments: list[str], words: list[tuple[str, str]]) -> str:
    """A flat CoNLL-U sentence: every word depends on the first (the root)."""
    lines = [f"# sent_id = {sent_id}"] + [f"# {c}" for c in comments]
    for i, (form, upos) in enumerate(words, 1):
        head, rel = ("0", "root") if i == 1 else ("1", "dep")
        lines.append("\t".join([str(i), form, form.lower(), upos, "_", "_", head, rel, "_", "_"]))
    return "\n".join(lines) + "\n\n"


TREEBANK = "".join([
    _sentence("a", ["probe.role.semantic = animal", "probe.attach.syntactic = subj"],
              [("barked", "VERB"), ("dog", "NOUN")]),
    _sentence("b", ["probe.role.semantic = human", "probe.attach.syntactic = obj"],
              [("sang", "VERB"), ("farmer", "NOUN")]),
    _sentence("c", ["probe.role.semantic = animal"], [("ran", "VERB"), ("cat", "NOUN")]),
    _sentence("d", ["probe.role.semantic = _", "probe.attach.syntactic = subj"], [("slept", "VERB")]),
    _sentence("e", [], [("waited", "VERB"), ("baker", "NOUN")]),
])


@pytest.fixture()
def treebank(tmp_path):
    path = tmp_path / "tb.conllu"
    path.write_text(TREEBANK, encoding="utf-8")
    return path


def test_custom_probes_join_the_suite_with_their_group_and_labels(treebank):
    suite = build_probe_suite(treebank, min_examples=2)
    assert list(suite.probes)[-2:] == ["role", "attach"]  # after the built-in ones
    role, attach = suite.probes["role"], suite.probes["attach"]
    assert (role.group, role.level, attach.group, attach.level) == ("semantic", "sentence", "syntactic", "sentence")
    # sentence d ("_") and e (no comment) are not examples of role
    assert list(role.labels) == ["animal", "human", "animal"]
    assert role.sentences == [["barked", "dog"], ["sang", "farmer"], ["ran", "cat"]]
    assert [m["source"] for m in role.meta] == [0, 1, 2]
    assert list(attach.labels) == ["subj", "obj", "subj"]
    assert [m["source"] for m in attach.meta] == [0, 1, 3]
    np.testing.assert_array_equal(role.sentence_index, [0, 1, 2])
    rows = suite.sentence_rows("attach")
    assert [suite.sentences[r] for r in rows] == [["barked", "dog"], ["sang", "farmer"], ["slept"]]


def test_custom_probes_are_selected_and_dropped_like_built_in_ones(treebank):
    suite = build_probe_suite(treebank, probes=["attach", "role", "upos"], min_examples=3)
    assert set(suite.probes) == {"attach", "role", "upos"}
    dropped = build_probe_suite(treebank, probes=["role"], min_examples=4).dropped
    assert "3 examples" in dropped["role"]
    with pytest.raises(UnknownNameError):
        build_probe_suite(treebank, probes=["rolle"])


def test_a_single_class_custom_probe_is_dropped(tmp_path):
    path = tmp_path / "tb.conllu"
    path.write_text("".join(_sentence(str(i), ["probe.same.surface = x"], [("w", "VERB")]) for i in range(3)))
    suite = build_probe_suite(path, probes=["same"], min_examples=1)
    assert "single class" in suite.dropped["same"]


def test_bad_probe_comments_are_data_errors(tmp_path):
    assert parse_probe_comments({"sent_id": "1", "text": "x", "probe.a_1.surface": " y "}) == {"a_1": ("surface", "y")}
    for meta in ({"probe.a.lexical": "x"}, {"probe.a": "x"}, {"probe.a-b.semantic": "x"}):
        with pytest.raises(DataError):
            parse_probe_comments(meta)
    path = tmp_path / "tb.conllu"
    path.write_text(_sentence("1", ["probe.p.semantic = x"], [("w", "VERB")])
                    + _sentence("2", ["probe.p.syntactic = y"], [("v", "VERB")]))
    with pytest.raises(DataError, match="one group per probe"):
        build_probe_suite(path)
    builtin = next(iter(PROBES))
    path.write_text(_sentence("1", [f"probe.{builtin}.semantic = x"], [("w", "VERB")]))
    with pytest.raises(DataError, match="built-in"):
        build_probe_suite(path)
