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


# ----------------------------------------------------------------------------- token-level
def _tagged(sent_id: str, words: list[tuple[str, str]]) -> str:
    """A flat CoNLL-U sentence whose words carry MISC entries (``misc`` "_" for none)."""
    lines = [f"# sent_id = {sent_id}"]
    for i, (form, misc) in enumerate(words, 1):
        head, rel = ("0", "root") if i == 1 else ("1", "dep")
        lines.append("\t".join([str(i), form, form.lower(), "X", "_", "_", head, rel, "_", misc]))
    return "\n".join(lines) + "\n\n"


TOKEN_TREEBANK = "".join([
    _tagged("a", [("no", "_"), ("dog", "probe.pol.semantic=down|SpaceAfter=No"), ("ran", "probe.pol.semantic=down")]),
    _tagged("b", [("a", "_"), ("Dog", "probe.pol.semantic=up"), ("ran", "probe.pol.semantic=_")]),
    _tagged("c", [("Alice", "_"), ("ran", "_")]),
    _tagged("d", [("some", "SpaceAfter=No"), ("cats", "probe.pol.semantic=up"),
                  ("slept", "probe.pol.semantic=up|probe.num.syntactic=Plur")]),
])


def test_token_level_custom_probes_come_from_the_misc_column(tmp_path):
    path = tmp_path / "tb.conllu"
    path.write_text(TOKEN_TREEBANK, encoding="utf-8")
    suite = build_probe_suite(path, min_examples=1, probes=["pol", "num", "upos"])
    pol = suite.probes["pol"]
    assert (pol.group, pol.level) == ("semantic", "token")
    # sentence c has no entry, the "_" of sentence b's "ran" is no label
    assert list(pol.labels) == ["down", "down", "up", "up", "up"]
    assert list(pol.word_index) == [1, 2, 1, 1, 2]
    assert list(pol.word_types) == ["dog", "ran", "dog", "cats", "slept"]  # lower-cased, for control tasks
    assert [m["source"] for m in pol.meta] == [0, 1, 3]
    rows = suite.word_rows("pol")
    flat = [w for s in suite.sentences for w in s]
    assert [flat[r] for r in rows] == ["dog", "ran", "Dog", "cats", "slept"]
    assert "single class" in suite.dropped["num"]  # one example: dropped like a built-in probe


def test_token_level_probes_are_fitted_on_word_states(tmp_path):
    """A token probe whose label is a direction in the word states is learnt perfectly, and
    it needs the word features (known answer: accuracy 1 on separable data)."""
    from taskdiff.difficulty.probing import fit_probe_suite

    words = []
    for i in range(40):
        lab = "up" if i % 2 else "down"
        words.append(_tagged(str(i), [("w", "_"), (f"x{i}", f"probe.pol.semantic={lab}")]))
    path = tmp_path / "tb.conllu"
    path.write_text("".join(words), encoding="utf-8")
    suite = build_probe_suite(path, probes=["pol"], min_examples=10)
    n_words = int(suite.word_offsets[-1])
    word_feats = np.zeros((n_words, 2))
    rows = suite.word_rows("pol")
    word_feats[rows, 0] = np.where(suite.probes["pol"].labels == "up", 1.0, -1.0)
    word_feats[:, 1] = np.random.default_rng(0).normal(size=n_words)
    sent_feats = np.zeros((len(suite.sentences), 2))
    with pytest.raises(ValueError, match="token-level"):
        fit_probe_suite({0: sent_feats}, suite, mdl=False)
    (res,) = fit_probe_suite({0: sent_feats}, suite, {0: word_feats}, mdl=False, control=False)
    assert (res.level, res.accuracy, res.n_test + res.n_train) == ("token", 1.0, 40)


def test_bad_token_probe_entries_are_data_errors(tmp_path):
    path = tmp_path / "tb.conllu"
    cases = [
        (_tagged("1", [("w", "probe.p.lexical=x")]), r"sentence 1, word 1.*'probe.p.lexical'"),
        (_tagged("1", [("w", "probe.p.semantic=x"), ("v", "probe.p.syntactic=y")]), "one group per probe"),
        (_tagged("1", [("w", "probe.p.semantic=x")]) + _sentence("2", ["probe.p.semantic = y"], [("v", "VERB")]),
         "one level per probe"),
        (_tagged("1", [("w", "probe.upos.syntactic=x")]), "built-in"),
    ]
    for text, message in cases:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DataError, match=message):
            build_probe_suite(path)
