"""One grammar for every testbed language: concepts, meaning representations, sampling, logic.

A sentence's meaning is a :class:`Clause` (a verb with a subject and maybe an object, a
tense) whose arguments are :class:`NP` s (a noun concept or a name, a determiner, a
number, adjectives and maybe a subject-gap relative clause, itself a :class:`Clause`).
Meanings are language-independent; :mod:`taskdiff.testbed.languages` realises them as
word sequences in each language, so the same meaning in two languages is an exact
translation and every label derived from a meaning is exact in every language.

Concepts (identifiers are English words; the base language ``en`` spells them so):

* nouns, each in one category (``animal``, ``human``, ``thing``), and the three category
  nouns themselves (``animal`` is a hypernym of ``dog``): the lexical relations that the
  entailment task's monotonicity reasoning uses;
* adjectives (intersective: a ``big dog`` is a ``dog``);
* intransitive verbs, four of which (run, walk, swim, jump) are hyponyms of ``move``;
* transitive verbs, whose subject is animate;
* anchors shared by every language: names (``Alice`` ...) and the numbers 2-9.

Everything random takes a :class:`numpy.random.Generator`; :func:`rng_for` derives one from
a seed and a purpose string, so every artefact of a world is a pure function of its seed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np

# ----------------------------------------------------------------------------- concepts
CATEGORIES = ("animal", "human", "thing")
NOUNS: dict[str, str] = {
    **{n: "animal" for n in ("dog", "cat", "horse", "bird", "fox", "rabbit", "frog", "goat", "lion", "tiger",
                             "snake", "duck")},
    **{n: "human" for n in ("farmer", "teacher", "doctor", "singer", "baker", "pilot", "sailor", "student")},
    **{n: "thing" for n in ("ball", "book", "apple", "car", "box", "cup", "hat", "key")},
}
#: Every noun concept: the leaves, then the category nouns (hypernyms).
ALL_NOUNS = tuple(NOUNS) + CATEGORIES
ANIMATE = tuple(n for n, c in NOUNS.items() if c != "thing") + ("animal", "human")
ADJECTIVES = ("big", "small", "red", "blue", "green", "old", "young", "happy", "quiet", "brave", "tall", "hungry")
INTRANSITIVE: dict[str, str | None] = {
    "run": "move", "walk": "move", "swim": "move", "jump": "move",
    "sleep": None, "sing": None, "laugh": None, "wait": None, "move": None,
}
TRANSITIVE = ("see", "like", "chase", "help", "follow", "find", "carry", "watch", "push", "hold", "visit", "feed")
NAMES = ("Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack", "Kate", "Leo")
NUMBERS = tuple(str(i) for i in range(2, 10))
#: Determiners of a common-noun NP. ``num`` takes a number anchor; ``all`` is plural ``every``.
DETERMINERS = ("the", "a", "every", "all", "some", "no", "num")
TENSES = ("pres", "past")
#: Function words every language has a form for (besides the determiners).
FUNCTION_WORDS = ("that", "and", "who", "what", "how_many", "the", "a", "every", "all", "some", "no")
#: Parts of speech the realiser emits (a subset of UD's UPOS).
UPOS = ("ADJ", "CCONJ", "DET", "NOUN", "NUM", "PRON", "PROPN", "PUNCT", "VERB")


def rng_for(seed: int, *purpose: object) -> np.random.Generator:
    """A generator determined by ``seed`` and a purpose (strings / ints), stable across runs."""
    key = "/".join(str(p) for p in purpose)
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


def choice(rng: np.random.Generator, seq):
    """A uniformly random element of a sequence (``rng.choice`` would turn strings into numpy)."""
    return seq[int(rng.integers(len(seq)))]


# ----------------------------------------------------------------------------- meanings
@dataclass(frozen=True)
class NP:
    """A noun phrase's meaning.

    ``head`` is a noun concept or a name; ``det`` one of :data:`DETERMINERS` or ``"name"``;
    ``number`` the number anchor when ``det == "num"``; ``rel`` a relative clause whose
    subject is the NP itself (``subj is None``).
    """

    head: str
    det: str = "the"
    plural: bool = False
    number: str | None = None
    adjs: tuple[str, ...] = ()
    rel: "Clause | None" = None

    @property
    def is_name(self) -> bool:
        return self.det == "name"

    def depth(self) -> int:
        """Nesting of relative clauses inside this NP (0 without one)."""
        return 0 if self.rel is None else 1 + self.rel.depth()


@dataclass(frozen=True)
class Clause:
    """A clause's meaning: ``verb(subj, obj)`` at ``tense``; ``subj`` is None in a relative clause."""

    verb: str
    subj: NP | None
    obj: NP | None = None
    tense: str = "pres"

    @property
    def transitive(self) -> bool:
        return self.obj is not None

    def depth(self) -> int:
        """Deepest relative-clause nesting of the clause's arguments."""
        return max([a.depth() for a in (self.subj, self.obj) if a is not None] + [0])

    def nps(self) -> Iterator[NP]:
        """Every NP of the clause, outermost first (relative clauses' NPs included)."""
        for a in (self.subj, self.obj):
            if a is not None:
                yield a
                if a.rel is not None:
                    yield from a.rel.nps()


@dataclass(frozen=True)
class Sentence:
    """One or more clauses coordinated with ``and``."""

    clauses: tuple[Clause, ...]

    def depth(self) -> int:
        return max(c.depth() for c in self.clauses)


# ----------------------------------------------------------------------------- sampling
SUBJECTS = ANIMATE + NAMES
OBJECTS = ALL_NOUNS + NAMES


@dataclass(frozen=True)
class Preferences:
    """Selectional preferences: the world's lexical semantics, shared by every language.

    Each subject (an animate noun or a name) prefers some verbs, each verb some objects,
    each noun some adjectives: Dirichlet draws with a small ``concentration`` make the
    preferences peaked. Without them the nouns of a category would be exchangeable (the same
    contexts), and no amount of text could tell the encoder which word of another language
    translates ``goat`` rather than ``lion``; with them every word has a distributional
    signature, the same in every language, which is what cross-lingual alignment builds on.
    """

    intransitive: dict   # subject -> probabilities over INTRANSITIVE
    transitive: dict     # subject -> probabilities over TRANSITIVE
    objects: dict        # transitive verb -> probabilities over OBJECTS
    adjectives: dict     # noun -> probabilities over ADJECTIVES

    def draw(self, rng: np.random.Generator, table: str, key: str, options):
        p = getattr(self, table)[key]
        return options[int(rng.choice(len(options), p=p))]


def make_preferences(seed: int, concentration: float = 0.3) -> Preferences:
    """Preferences of a world (``concentration`` = inf gives uniform choices)."""
    rng = rng_for(seed, "preferences")

    def table(keys, n):
        if not np.isfinite(concentration):
            return {k: np.full(n, 1.0 / n) for k in keys}
        return {k: rng.dirichlet(np.full(n, concentration)) for k in keys}

    return Preferences(intransitive=table(SUBJECTS, len(INTRANSITIVE)), transitive=table(SUBJECTS, len(TRANSITIVE)),
                       objects=table(TRANSITIVE, len(OBJECTS)), adjectives=table(ALL_NOUNS, len(ADJECTIVES)))


@dataclass(frozen=True)
class SamplerConfig:
    """Probabilities of the random meaning generator (and the world's preferences)."""

    p_transitive: float = 0.6
    p_name: float = 0.25
    p_adj: float = 0.35
    p_second_adj: float = 0.15
    p_rel: float = 0.2
    max_depth: int = 3
    p_past: float = 0.4
    p_coordination: float = 0.1
    prefs: Preferences | None = None


def _pick(rng, cfg: SamplerConfig, table: str, key: str, options):
    if cfg.prefs is None or key not in getattr(cfg.prefs, table):
        return choice(rng, options)
    return cfg.prefs.draw(rng, table, key, options)


def sample_np(rng: np.random.Generator, cfg: SamplerConfig, *, animate: bool, depth_left: int,
              allow_quantifier: bool = True, head: str | None = None) -> NP:
    """A random NP (with ``head`` given: that noun or name); animate NPs can head relative clauses."""
    if head in NAMES or (head is None and animate and rng.random() < cfg.p_name):
        return NP(head=head or choice(rng, NAMES), det="name")
    head = head or choice(rng, ANIMATE if animate else ALL_NOUNS)
    dets = DETERMINERS if allow_quantifier else ("the", "a", "num")
    det = choice(rng, dets)
    plural = det in ("all", "num") or (det in ("the", "some", "no") and rng.random() < 0.4)
    number = choice(rng, NUMBERS) if det == "num" else None
    adjs: tuple[str, ...] = ()
    if rng.random() < cfg.p_adj:
        adjs = (_pick(rng, cfg, "adjectives", head, ADJECTIVES),)
        if rng.random() < cfg.p_second_adj:
            second = _pick(rng, cfg, "adjectives", head, ADJECTIVES)
            if second != adjs[0]:
                adjs = adjs + (second,)
    rel = None
    if head in ANIMATE and depth_left > 0 and rng.random() < cfg.p_rel:
        rel = sample_clause(rng, cfg, depth_left=depth_left - 1, relative=True, subject=head)
    return NP(head=head, det=det, plural=plural, number=number, adjs=adjs, rel=rel)


def sample_clause(rng: np.random.Generator, cfg: SamplerConfig, *, depth_left: int | None = None,
                  relative: bool = False, tense: str | None = None, subject: str | None = None) -> Clause:
    """A random clause; a relative clause has no subject (the gap; ``subject`` is its head noun)."""
    depth_left = cfg.max_depth if depth_left is None else depth_left
    tense = tense or ("past" if rng.random() < cfg.p_past else "pres")
    subj = None if relative else sample_np(rng, cfg, animate=True, depth_left=depth_left, head=subject)
    who = subject if relative else subj.head
    if rng.random() < cfg.p_transitive:
        verb = _pick(rng, cfg, "transitive", who, TRANSITIVE)
        obj_head = _pick(rng, cfg, "objects", verb, OBJECTS)
        obj = sample_np(rng, cfg, animate=obj_head in SUBJECTS, depth_left=depth_left, head=obj_head)
        return Clause(verb, subj, obj, tense)
    return Clause(_pick(rng, cfg, "intransitive", who, tuple(INTRANSITIVE)), subj, None, tense)


def sample_sentence(rng: np.random.Generator, cfg: SamplerConfig = SamplerConfig()) -> Sentence:
    """A random sentence (sometimes two coordinated clauses)."""
    first = sample_clause(rng, cfg)
    if rng.random() < cfg.p_coordination:
        return Sentence((first, sample_clause(rng, cfg, depth_left=1)))
    return Sentence((first,))


def clause_with_depth(rng: np.random.Generator, depth: int, cfg: SamplerConfig = SamplerConfig()) -> Clause:
    """A clause whose deepest relative-clause nesting is exactly ``depth``."""
    flat = replace(cfg, p_rel=0.0)

    def nested(d: int, head: str | None = None) -> NP:
        base = sample_np(rng, flat, animate=True, depth_left=0, head=head)
        if base.is_name:
            base = sample_np(rng, flat, animate=True, depth_left=0, head=choice(rng, ANIMATE))
        if d == 0:
            return base
        verb = _pick(rng, cfg, "transitive", base.head, TRANSITIVE)
        inner = [h for h in ANIMATE]
        obj_head = _pick(rng, cfg, "objects", verb, OBJECTS)
        obj = nested(d - 1, obj_head if obj_head in inner else choice(rng, inner))
        return replace(base, rel=Clause(verb, None, obj, "past" if rng.random() < cfg.p_past else "pres"))

    clause = sample_clause(rng, flat)
    if depth == 0:
        return clause
    if clause.obj is not None and rng.random() < 0.5:
        return replace(clause, obj=nested(depth, clause.obj.head if clause.obj.head in ANIMATE else None))
    return replace(clause, subj=nested(depth, clause.subj.head if clause.subj.head in ANIMATE else None))


# ----------------------------------------------------------------------------- semantics
#: Monotonicity of a quantifier in its restrictor and its scope: +1 upward, -1 downward.
MONOTONICITY = {"every": (-1, +1), "all": (-1, +1), "some": (+1, +1), "a": (+1, +1), "no": (-1, -1)}
#: Quantifier pairs (premise, hypothesis) with the same restrictor and scope: their relation.
QUANTIFIER_RELATIONS = {
    ("every", "some"): "entailment", ("all", "some"): "entailment",
    ("some", "every"): "neutral", ("some", "all"): "neutral",
    ("every", "no"): "contradiction", ("all", "no"): "contradiction",
    ("no", "every"): "contradiction", ("no", "all"): "contradiction",
    ("some", "no"): "contradiction", ("no", "some"): "contradiction",
    ("every", "all"): "entailment", ("all", "every"): "entailment",
}
NLI_LABELS = ("entailment", "neutral", "contradiction")


def noun_subsumes(general: str, specific: str) -> bool:
    """Whether every ``specific`` is a ``general`` (a noun is its own hyponym)."""
    return general == specific or NOUNS.get(specific) == general


def restrictor_leq(a: NP, b: NP) -> bool:
    """Whether the set denoted by ``a`` (noun + adjectives) is a subset of ``b``'s."""
    return noun_subsumes(b.head, a.head) and set(b.adjs) <= set(a.adjs)


def verb_leq(a: str, b: str) -> bool:
    """Whether doing ``a`` is doing ``b`` (``run`` -> ``move``)."""
    return a == b or INTRANSITIVE.get(a) == b


def monotone_relation(premise: Clause, hypothesis: Clause) -> str:
    """The NLI label of two quantified intransitive clauses with the *same* quantifier.

    Entailment when the restrictor and the scope each change in the direction the
    quantifier's monotonicity allows (e.g. ``every`` is downward in its restrictor:
    every animal runs |= every dog runs), neutral otherwise. Assumes non-empty
    restrictors, as NLI data sets do.
    """
    q = premise.subj.det
    r_mono, s_mono = MONOTONICITY[q]
    pr, hr = premise.subj, hypothesis.subj
    r_ok = restrictor_leq(pr, hr) if r_mono > 0 else restrictor_leq(hr, pr)
    s_ok = verb_leq(premise.verb, hypothesis.verb) if s_mono > 0 else verb_leq(hypothesis.verb, premise.verb)
    return "entailment" if r_ok and s_ok else "neutral"


def hyponyms(noun: str) -> tuple[str, ...]:
    """Nouns below ``noun`` in the taxonomy (empty for a leaf)."""
    return tuple(n for n, c in NOUNS.items() if c == noun)


def relabel_quantifier(np_: NP, det: str) -> NP:
    """``np_`` with determiner ``det`` (``all`` forces the plural, ``every`` the singular)."""
    plural = True if det == "all" else False if det in ("every", "a") else np_.plural
    return replace(np_, det=det, plural=plural, number=None)
