"""The probing treebank of a testbed world: its sentences and the probes read off their meanings.

The built-in probes of :func:`~taskdiff.difficulty.probing.build_probe_suite` are derived
from dependency annotation, as on a UD treebank; in this world some of them do not mean
what their SentEval group says (``tense``, ``subj_number`` and ``obj_number`` are
morphosyntax here: the agreement task is about them) and the syntactic ones are at ceiling
(``upos``, ``deprel``). The world therefore writes probes of its own, computed exactly from
each sentence's meaning and written as ``# probe.<name>.<group> = <label>`` comments (the
generic custom-probe format), so that the probing measure reads them like any other probe:

=====================  ==========  =============================================================
probe                  group       label (only sentences where it is defined)
=====================  ==========  =============================================================
``subj_category``      semantic    taxonomy category (``animal`` / ``human``) of the subject of
                                   the first clause, when its object belongs to the *other*
                                   category (a name counts as ``human``): both categories occur,
                                   so only who-does-what-to-whom tells the label
``subj_monotonicity``  semantic    monotonicity of the subject's quantifier in its restrictor
                                   (``up``: a, some; ``down``: every, all, no), when the object's
                                   quantifier has the other direction: the entailment task's
                                   logic, bound to the subject role
``rel_attachment``     syntactic   whether the one relative clause of a one-clause sentence
                                   modifies the subject or the object (``subj`` / ``obj``)
=====================  ==========  =============================================================

:func:`probe_meanings` samples the treebank's meanings with the world's preferences, more
coordinations (the coordination-inversion probe) and, in half of the transitive main
clauses, an animate object drawn at random (as the paraphrase task does for its argument
swaps), so that the role probes have enough examples.
"""

from __future__ import annotations

from dataclasses import replace

from taskdiff.testbed import grammar as G

#: Custom probes of the testbed treebank: name -> group.
TESTBED_PROBES = {"subj_category": "semantic", "subj_monotonicity": "semantic", "rel_attachment": "syntactic"}
#: Built-in probes whose SentEval group ("semantic") is not what they are in this world: number
#: and tense are read off agreement and inflection morphology, which the agreement task is
#: about (its "bad" sentences flip the main verb's number), i.e. morphosyntax.
WORLD_GROUPS = {"tense": "syntactic", "subj_number": "syntactic", "obj_number": "syntactic"}
#: ``(margin, ceiling)`` of the probing measure's ``headroom`` rule in the testbed: on the demo
#: encoder ``upos`` (1.00), ``deprel``, ``subj_number`` and ``rel_attachment`` (0.95-0.98) can
#: only fall and ``coordination_inversion`` / ``odd_one_out`` are at chance (0.50-0.60).
HEADROOM = (0.10, 0.95)
UPWARD, DOWNWARD = ("a", "some"), ("every", "all", "no")


def probing_params() -> dict:
    """Probing settings for comparing syntactic and semantic intermediate tasks in the testbed.

    The world's groups (:data:`WORLD_GROUPS`), the :data:`HEADROOM` rule, and the top layer
    only (``layers=[-1]``, ``layer_aggregate="last"``): fine-tuning changes the upper layers
    most (Merchant et al. 2020), and the frozen word embeddings of layer 0 cannot change, so
    a mean over layers dilutes task-specific changes. Fixed before the seeds 3-4 check of
    ``docs/testbed.md`` ("Probing treebank").
    """
    return {"groups": dict(WORLD_GROUPS), "headroom": list(HEADROOM), "layers": [-1], "layer_aggregate": "last"}


def _category(np_: G.NP) -> str | None:
    if np_.is_name:
        return "human"
    return G.NOUNS.get(np_.head, np_.head if np_.head in G.CATEGORIES else None)


def _direction(np_: G.NP) -> str | None:
    return "up" if np_.det in UPWARD else "down" if np_.det in DOWNWARD else None


def probe_labels(sentence: G.Sentence) -> dict[str, str]:
    """``{probe name: label}`` of the testbed probes defined for ``sentence`` (see the module)."""
    out = {}
    first = sentence.clauses[0]
    subj, obj = first.subj, first.obj
    if obj is not None:
        cs, co = _category(subj), _category(obj)
        if {cs, co} == {"animal", "human"}:
            out["subj_category"] = cs
        ds, do = _direction(subj), _direction(obj)
        if ds is not None and do is not None and ds != do:
            out["subj_monotonicity"] = ds
    if len(sentence.clauses) == 1 and first.depth() == 1:
        rs, ro = subj.rel is not None, obj is not None and obj.rel is not None
        if rs != ro:
            out["rel_attachment"] = "subj" if rs else "obj"
    return out


def probe_comments(sentence: G.Sentence) -> list[str]:
    """The ``probe.<name>.<group> = <label>`` comment lines (without ``# ``) of a sentence."""
    return [f"probe.{n}.{TESTBED_PROBES[n]} = {lab}" for n, lab in probe_labels(sentence).items()]


def probe_meanings(rng, sampler: G.SamplerConfig, n: int, p_coordination: float = 0.3,
                   p_animate_object: float = 0.5) -> list[G.Sentence]:
    """``n`` treebank meanings (see the module docstring)."""
    cfg = replace(sampler, p_coordination=p_coordination)
    out = []
    for _ in range(n):
        s = G.sample_sentence(rng, cfg)
        first = s.clauses[0]
        if first.obj is not None and p_animate_object > 0 and rng.random() < p_animate_object:
            obj = G.sample_np(rng, cfg, animate=True, depth_left=max(0, cfg.max_depth - 1 - first.subj.depth()))
            s = replace(s, clauses=(replace(first, obj=obj),) + s.clauses[1:])
        out.append(s)
    return out
