"""Probing suites built from a hand-written CoNLL-U treebank have the hand-expected labels."""

from __future__ import annotations

from collections import Counter

import conllu
import numpy as np
import pytest

from taskdiff.difficulty.probing import PROBES, build_probe_suite, tree_depth
from taskdiff.difficulty.probing.suites import _convert
from taskdiff.errors import UnknownNameError


def _rows(*lines: str) -> str:
    """CoNLL-U lines from 'ID FORM LEMMA UPOS FEATS HEAD DEPREL' (FEATS '_' for none)."""
    out = []
    for line in lines:
        i, form, lemma, upos, feats, head, rel = line.split()
        out.append("\t".join([i, form, lemma, upos, "_", feats, head, rel, "_", "_"]))
    return "\n".join(out) + "\n\n"


S1 = _rows("1 The the DET Definite=Def 2 det",
           "2 cats cat NOUN Number=Plur 3 nsubj",
           "3 slept sleep VERB Tense=Past 0 root",
           "4 . . PUNCT _ 3 punct")
S2 = _rows("1 She she PRON Number=Sing 3 nsubj",
           "2 has have AUX Tense=Pres 3 aux",
           "3 seen see VERB Tense=Past|VerbForm=Part 0 root",
           "4 the the DET _ 5 det",
           "5 dog dog NOUN Number=Sing 3 obj",
           "6 , , PUNCT _ 10 punct",
           "7 but but CCONJ _ 10 cc",
           "8 the the DET _ 9 det",
           "9 cats cat NOUN Number=Plur 10 nsubj",
           "10 ran run VERB Tense=Past 3 conj",
           "11 away away ADV _ 10 advmod",
           "12 . . PUNCT _ 3 punct")
# multiword token "don't" and an empty node: both skipped
S3 = ("1\tI\tI\tPRON\t_\tNumber=Sing\t4\tnsubj\t_\t_\n"
      "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
      "2\tdo\tdo\tAUX\t_\tTense=Pres\t4\taux\t_\t_\n"
      "3\tn't\tnot\tPART\t_\t_\t4\tadvmod\t_\t_\n"
      "4\tknow\tknow\tVERB\t_\tVerbForm=Inf\t0\troot\t_\t_\n"
      "4.1\tknow\tknow\tVERB\t_\t_\t_\t_\t4:conj\t_\n"
      "5\t.\t.\tPUNCT\t_\t_\t4\tpunct\t_\t_\n\n")
S4 = _rows("1 Dogs dog NOUN Number=Plur 2 nsubj",
           "2 chase chase VERB Tense=Pres 0 root",
           "3 a a DET _ 4 det",
           "4 ball ball NOUN Number=Sing 2 obj",
           "5 . . PUNCT _ 2 punct")
S5 = _rows("1 The the DET _ 2 det",
           "2 ball ball NOUN Number=Sing 4 nsubj:pass",
           "3 was be AUX Tense=Past 4 aux:pass",
           "4 kicked kick VERB Tense=Past 0 root",
           "5 . . PUNCT _ 4 punct")
S6 = _rows("1 He he PRON Number=Sing 2 nsubj",
           "2 saw see VERB Tense=Past 0 root",
           "3 birds bird NOUN Number=Plur 2 obj",
           "4 , , PUNCT _ 8 punct",
           "5 and and CCONJ _ 8 cc",
           "6 the the DET _ 7 det",
           "7 birds bird NOUN Number=Plur 8 nsubj",
           "8 flew fly VERB Tense=Past 2 conj",
           "9 . . PUNCT _ 2 punct")
TEXT = S1 + S2 + S3 + S4 + S5 + S6
# hand-expected inversions of the two coordinations (case moved from A to B)
S2_INVERTED = "The cats ran away , but she has seen the dog .".split()
S6_INVERTED = "The birds flew , and he saw birds .".split()


@pytest.fixture()
def sentences():
    return conllu.parse(TEXT)


def _by_source(probe):
    return {m["source"]: k for k, m in enumerate(probe.meta)}


def test_token_probes_upos_and_deprel(sentences):
    suite = build_probe_suite(sentences, min_examples=1, probes=["upos", "deprel"])
    upos = suite.probes["upos"]
    assert upos.group == "syntactic" and upos.level == "token"
    first = upos.sentence_index == 0
    assert upos.labels[first].tolist() == ["DET", "NOUN", "VERB", "PUNCT"]
    assert upos.word_index[first].tolist() == [0, 1, 2, 3]
    assert upos.word_types[first].tolist() == ["the", "cats", "slept", "."]
    s3 = _by_source(upos)[2]
    assert upos.sentences[s3] == ["I", "do", "n't", "know", "."]  # MWT and empty node skipped
    assert upos.labels[upos.sentence_index == s3].tolist() == ["PRON", "AUX", "PART", "VERB",
                                                                "PUNCT"]
    deprel = suite.probes["deprel"]
    s5 = _by_source(deprel)[4]
    assert deprel.labels[deprel.sentence_index == s5].tolist() == ["det", "nsubj", "aux", "root",
                                                                  "punct"]
    sub = build_probe_suite(sentences, min_examples=1, probes=["deprel"], deprel_subtypes=True)
    assert "nsubj:pass" in sub.probes["deprel"].labels.tolist()


def test_sentence_probes_hand_labels(sentences):
    suite = build_probe_suite(sentences, min_examples=1,
                              probes=["tree_depth", "tense", "subj_number", "obj_number",
                                      "sentence_length"])

    def labels(name):
        p = suite.probes[name]
        return {m["source"]: lab for m, lab in zip(p.meta, p.labels.tolist())}

    # depth: S1 slept > cats > The = 3; S2 seen > ran > cats > the = 4; S3 know > I = 2
    assert labels("tree_depth") == {0: "3", 1: "4", 2: "2", 3: "3", 4: "3", 5: "4"}
    # tense: the finite word among root and aux: S2 "has" (root is a Past participle), S3 "do"
    assert labels("tense") == {0: "Past", 1: "Pres", 2: "Pres", 3: "Pres", 4: "Past", 5: "Past"}
    # subject number, nsubj:pass included (S5)
    assert labels("subj_number") == {0: "Plur", 1: "Sing", 2: "Sing", 3: "Plur", 4: "Sing",
                                     5: "Sing"}
    assert labels("obj_number") == {1: "Sing", 3: "Sing", 5: "Plur"}
    # word counts 4, 12, 5, 5, 5, 9 -> SentEval bins; 4 words is outside them
    assert labels("sentence_length") == {1: "9-12", 2: "5-8", 3: "5-8", 4: "5-8", 5: "9-12"}
    assert suite.probes["sentence_length"].group == "surface"
    assert suite.probes["tense"].group == "semantic"


def test_tree_depth_cap_and_broken_tree(sentences):
    capped = build_probe_suite(sentences, min_examples=1, probes=["tree_depth"], depth_cap=3)
    assert set(capped.probes["tree_depth"].labels.tolist()) == {"2", "3+"}
    broken = conllu.parse(S1.replace("\t3\tpunct", "\t9\tpunct"))  # head outside the sentence
    assert tree_depth(_convert(broken[0])) is None


def test_coordination_inversion_is_the_hand_expected_swap(sentences):
    suite = build_probe_suite(sentences, min_examples=1, probes=["coordination_inversion"])
    probe = suite.probes["coordination_inversion"]
    # exactly S2 and S6 are eligible: one inverted, one kept
    assert sorted(m["source"] for m in probe.meta) == [1, 5]
    assert sorted(probe.labels.tolist()) == ["I", "O"]
    expected = {1: S2_INVERTED, 5: S6_INVERTED}
    original = {1: [t["form"] for t in sentences[1]], 5: [t["form"] for t in sentences[5]]}
    for words, lab, meta in zip(probe.sentences, probe.labels, probe.meta):
        assert words == (expected if lab == "I" else original)[meta["source"]]


def test_coordination_inversion_covers_both_sentences_over_seeds(sentences):
    seen = set()
    for seed in range(20):
        p = build_probe_suite(sentences, seed=seed, min_examples=1,
                              probes=["coordination_inversion"]).probes["coordination_inversion"]
        seen.update(m["source"] for m in p.meta if m["perturbed"])
    assert seen == {1, 5}


def _big_corpus(copies=8):
    return conllu.parse(TEXT * copies)


def test_bigram_shift_swaps_two_adjacent_words_balanced():
    corpus = _big_corpus()
    probe = build_probe_suite(corpus, seed=1, probes=["bigram_shift"]).probes["bigram_shift"]
    counts = Counter(probe.labels.tolist())
    assert counts["I"] == counts["O"] == len(probe) // 2
    sources = [m["source"] for m in probe.meta]
    assert len(set(sources)) == len(sources)  # each source sentence used once
    for words, lab, meta in zip(probe.sentences, probe.labels, probe.meta):
        orig = [t["form"] for t in corpus[meta["source"]]
                if isinstance(t["id"], int)]
        if lab == "O":
            assert words == orig
            continue
        j = meta["position"]
        diff = [k for k in range(len(orig)) if words[k] != orig[k]]
        assert diff == [j, j + 1]
        assert words[j] == orig[j + 1] and words[j + 1] == orig[j]
        assert "." not in (words[j], words[j + 1])  # punctuation is never moved


def test_odd_one_out_replaces_one_word_with_same_upos():
    corpus = _big_corpus()
    upos_of = {}
    for sent in corpus:
        for t in sent:
            upos_of.setdefault(t["form"].lower(), set()).add((t["upos"], str(t["feats"])))
    probe = build_probe_suite(corpus, seed=2, probes=["odd_one_out"]).probes["odd_one_out"]
    counts = Counter(probe.labels.tolist())
    assert counts["C"] == counts["O"] > 0
    capitalised = 0
    for words, lab, meta in zip(probe.sentences, probe.labels, probe.meta):
        orig = [t["form"] for t in corpus[meta["source"]] if isinstance(t["id"], int)]
        diff = [k for k in range(len(orig)) if words[k] != orig[k]]
        if lab == "O":
            assert diff == []
            continue
        j = meta["position"]
        assert diff == [j] and meta["original"] == orig[j] and meta["replacement"] == words[j]
        assert words[j].lower() != orig[j].lower()
        tok = corpus[meta["source"]].filter(id=lambda i: isinstance(i, int))[j]
        assert tok["upos"] in ("NOUN", "VERB")
        assert (tok["upos"], str(tok["feats"])) in upos_of[words[j].lower()]  # same UPOS+FEATS
        assert words[j][0].isupper() == orig[j][0].isupper()  # case pattern kept
        capitalised += orig[j][0].isupper()
    assert capitalised > 0  # the case rule was exercised


def test_deterministic_for_a_seed_and_seed_matters():
    corpus = _big_corpus()
    a = build_probe_suite(corpus, seed=5)
    b = build_probe_suite(corpus, seed=5)
    c = build_probe_suite(corpus, seed=6)
    assert a.sentences == b.sentences
    for name in a.probes:
        assert a.probes[name].sentences == b.probes[name].sentences
        np.testing.assert_array_equal(a.probes[name].labels, b.probes[name].labels)
        assert a.probes[name].meta == b.probes[name].meta
    assert any(a.probes[n].meta != c.probes[n].meta for n in ("bigram_shift", "odd_one_out"))


def test_drops_small_and_single_class_probes(sentences):
    suite = build_probe_suite(sentences, min_examples=4)
    # obj_number has 3 examples, coordination_inversion 2
    assert "examples" in suite.dropped["obj_number"]
    assert "coordination_inversion" in suite.dropped
    single = build_probe_suite(conllu.parse(S4 + S4), min_examples=1, probes=["tense"])
    assert single.dropped == {"tense": "a single class ['Pres']"}
    assert single.probes == {}
    with pytest.raises(UnknownNameError, match="did you mean 'tense'"):
        build_probe_suite(sentences, probes=["tenze"])


def test_suite_rows_index_the_shared_sentences(sentences, tmp_path):
    path = tmp_path / "tiny.conllu"
    path.write_text(TEXT, encoding="utf-8")
    suite = build_probe_suite(path, min_examples=1)
    assert set(suite.probes) | set(suite.dropped) == set(PROBES)
    assert len(suite.sentences) == len({tuple(s) for s in suite.sentences})  # encoded once
    flat_words = [w for s in suite.sentences for w in s]  # a "per-word matrix" of strings
    assert len(flat_words) == suite.word_offsets[-1]
    for name, probe in suite.probes.items():
        rows = suite.sentence_rows(name)
        for k, row in zip(probe.sentence_index, rows):
            assert suite.sentences[row] == probe.sentences[k]
        if probe.level == "token":
            words = [flat_words[r] for r in suite.word_rows(name)]
            assert [w.lower() for w in words] == probe.word_types.tolist()
