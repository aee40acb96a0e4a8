"""The testbed's own probes: labels read off hand-built meanings, and their comments in the treebank."""

from __future__ import annotations

from taskdiff.testbed import grammar as G
from taskdiff.testbed.probes import TESTBED_PROBES, probe_comments, probe_labels, probe_meanings


def _s(*clauses):
    return G.Sentence(tuple(clauses))


def test_role_probes_need_both_values_in_the_sentence():
    dog, farmer = G.NP("dog", "every"), G.NP("farmer", "some")
    assert probe_labels(_s(G.Clause("chase", dog, farmer))) == {"subj_category": "animal",
                                                                 "subj_monotonicity": "down"}
    assert probe_labels(_s(G.Clause("chase", farmer, dog))) == {"subj_category": "human",
                                                                 "subj_monotonicity": "up"}
    # a name is a human; "the" has no monotonicity label; same category: no role probe
    alice = G.NP("Alice", "name")
    assert probe_labels(_s(G.Clause("see", G.NP("cat", "the"), alice))) == {"subj_category": "animal"}
    assert probe_labels(_s(G.Clause("see", G.NP("cat", "no"), G.NP("lion", "a")))) == {"subj_monotonicity": "down"}
    assert probe_labels(_s(G.Clause("run", dog))) == {}


def test_relative_clause_attachment():
    rel = G.Clause("see", None, G.NP("ball"))
    subj_rel = G.Clause("like", G.NP("dog", rel=rel), G.NP("cup"))
    obj_rel = G.Clause("like", G.NP("dog"), G.NP("cat", rel=rel))
    assert probe_labels(_s(subj_rel))["rel_attachment"] == "subj"
    assert probe_labels(_s(obj_rel))["rel_attachment"] == "obj"
    assert "rel_attachment" not in probe_labels(_s(subj_rel, G.Clause("run", G.NP("cat"))))  # two clauses
    both = G.Clause("like", G.NP("dog", rel=rel), G.NP("cat", rel=rel))
    assert "rel_attachment" not in probe_labels(_s(both))


def test_comments_and_meanings():
    s = _s(G.Clause("chase", G.NP("dog", "every"), G.NP("farmer", "some")))
    assert probe_comments(s) == ["probe.subj_category.semantic = animal", "probe.subj_monotonicity.semantic = down"]
    assert set(TESTBED_PROBES.values()) <= {"syntactic", "semantic", "surface"}
    a = probe_meanings(G.rng_for(0, "t"), G.SamplerConfig(), 50)
    assert a == probe_meanings(G.rng_for(0, "t"), G.SamplerConfig(), 50) and len(a) == 50


# ----------------------------------------------------------------------------- token probes
def test_polarity_composes_the_quantifiers_above_a_word():
    """Known answers (natural logic, surface scope)."""
    from taskdiff.testbed.probes import polarities

    # every dog runs: restrictor of every is downward, its scope upward
    assert polarities(_s(G.Clause("run", G.NP("dog", "every")))) == {"s": -1, "v": 1}
    # no dog chases a cat: "no" is downward in both; the object's "a" is upward
    assert polarities(_s(G.Clause("chase", G.NP("dog", "no"), G.NP("cat", "a")))) == {"s": -1, "v": -1, "o": -1}
    # some farmer sees no dog: the verb is in the scope of "no"
    assert polarities(_s(G.Clause("see", G.NP("farmer", "some"), G.NP("dog", "no")))) == {"s": 1, "v": -1, "o": -1}
    # every dog that chased no cat ran: two downward contexts make an upward one
    rel = G.Clause("chase", None, G.NP("cat", "no"), "past")
    s = _s(G.Clause("run", G.NP("dog", "every", rel=rel), None, "past"))
    assert polarities(s) == {"s": -1, "s.r": 1, "s.r.o": 1, "v": 1}
    # "the" has no monotone restrictor (undefined), but is upward in its scope; names likewise
    assert polarities(_s(G.Clause("see", G.NP("dog", "the"), G.NP("Alice", "name")))) == {"s": None, "v": 1, "o": None}
    # coordinated clauses: each its own context, paths c0. / c1.
    two = polarities(_s(G.Clause("run", G.NP("dog", "no")), G.Clause("sleep", G.NP("cat", "all"))))
    assert two == {"c0.s": -1, "c0.v": -1, "c1.s": -1, "c1.v": 1}


def test_token_labels_on_a_realised_sentence():
    from taskdiff.testbed.languages import DEFAULT_LANGUAGES, make_lexicons, realize
    from taskdiff.testbed.probes import token_probe_labels

    en = make_lexicons(DEFAULT_LANGUAGES, 0)["en"]
    rel = G.Clause("chase", None, G.NP("cat", "no", plural=True), "past")
    s = _s(G.Clause("run", G.NP("dog", "all", plural=True, adjs=("big",), rel=rel), None, "past"))
    r = realize(s, en)
    got = dict(zip(r.forms, token_probe_labels(s, r)))
    assert r.forms == ["all", "big", "dogs", "that", "chased", "no", "cats", "ran", "."]
    assert got["big"] == got["dogs"] == {"polarity": "down"}
    # the relative clause's verb: subject number from its head noun; the main verb from nsubj
    assert got["chased"] == {"polarity": "up", "verb_subj_number": "Plur"}
    assert got["cats"] == {"polarity": "up"} and got["ran"] == {"polarity": "up", "verb_subj_number": "Plur"}
    assert got["all"] == got["that"] == got["no"] == got["."] == {}
    present = _s(G.Clause("run", G.NP("dog", "a")))
    assert "verb_subj_number" not in token_probe_labels(present, realize(present, en))[2]  # shown by the form


def test_balanced_keep_equalises_labels_and_is_seeded():
    from taskdiff.testbed.probes import balanced_keep

    labels = [[{"polarity": "up"}, {"polarity": "up"}, {}], [{"polarity": "down"}, {"polarity": "up"}, {}]]
    keys = [[("s",), ("v",), ("x",)], [("s",), ("v",), ("x",)]]
    keep = balanced_keep(labels, keys, G.rng_for(0, "b"))
    pol = keep["polarity"]
    assert len(pol) == 2 and (1, ("s",)) in pol  # the one "down" word and one of the three "up" ones
    assert keep == balanced_keep(labels, keys, G.rng_for(0, "b"))
    assert keep["verb_subj_number"] == set()
