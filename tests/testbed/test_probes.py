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
