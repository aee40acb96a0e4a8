"""Probing data sets built from UD CoNLL-U treebanks, so they exist in every UD language.

SentEval-style groups (Conneau et al. 2018) re-derived from dependency annotation:

======================  ==========  ========  =================================================
probe                   group       level     label
======================  ==========  ========  =================================================
upos                    syntactic   token     UPOS tag
deprel                  syntactic   token     universal relation (subtype dropped by default)
tree_depth              syntactic   sentence  nodes on the longest root-to-leaf path (root = 1),
                                              values >= ``depth_cap`` merged into "{cap}+"
bigram_shift            syntactic   sentence  "I": two adjacent non-PUNCT words swapped, "O": not
sentence_length         surface     sentence  SentEval bin of the word count ("5-8", ...);
                                              words incl. punctuation, sentences outside skipped
tense                   semantic    sentence  Tense of the first finite (VerbForm=Fin or none)
                                              word among the root and its aux/cop children,
                                              else the root's Tense ("has seen" -> Pres)
subj_number             semantic    sentence  Number of the root's nsubj (nsubj:* included)
obj_number              semantic    sentence  Number of the root's obj
odd_one_out             semantic    sentence  "C": one NOUN/VERB replaced by another corpus word
                                              of the same UPOS and FEATS (different lower-cased
                                              form, drawn by corpus frequency, case kept), "O"
coordination_inversion  semantic    sentence  "I": the two coordinated clauses swapped, "O": not
======================  ==========  ========  =================================================

Multiword-token lines and empty nodes are skipped; word positions count syntactic words.
Perturbed probes are balanced: eligible sentences are shuffled, the first half perturbed, the
second half kept (no source sentence twice; an odd one out is dropped). A coordination is
invertible when the root has exactly one ``conj`` child, after the root, with its own
subject, whose subtree is contiguous, starts with optional punctuation and a ``cc`` word,
and is followed only by punctuation: ``A [sep cc B] tail`` becomes ``B sep cc A tail``; a
title-case non-PROPN first word of ``A`` is lower-cased and ``B``'s first letter raised.
Random choices use ``np.random.default_rng([seed, crc32(probe name)])``. A probe with fewer
than ``min_examples`` examples or a single class is dropped with its reason.
Custom probes join the suite after the built-in ones: sentence-level ones from
``# probe.<name>.<group> = <label>`` comments, token-level ones from
``probe.<name>.<group>=<label>`` entries of the MISC column
(:mod:`~taskdiff.difficulty.probing.custom`).

References: Conneau et al. (2018), "What you can cram into a single vector", ACL.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import conllu
import numpy as np

from taskdiff.difficulty.probing.custom import (
    custom_builder,
    custom_groups,
    parse_probe_comments,
    parse_token_probes,
    token_rows,
)
from taskdiff.errors import DataError, UnknownNameError

SENTLEN_BINS = ((5, 8), (9, 12), (13, 16), (17, 20), (21, 25), (26, 28))


@dataclass(frozen=True)
class Probe:
    """One probing data set: example ``i`` has label ``labels[i]`` and text
    ``sentences[sentence_index[i]]`` (a word list, perturbed for the perturbation probes);
    token-level probes add its word position ``word_index[i]`` and lower-cased form
    ``word_types[i]`` (for the control task). ``meta[k]`` records sentence ``k``'s source
    sentence and perturbation. ``group`` in syntactic/surface/semantic, ``level`` in
    token/sentence."""

    name: str
    group: str
    level: str
    sentences: list
    labels: np.ndarray
    sentence_index: np.ndarray
    word_index: np.ndarray | None = None
    word_types: np.ndarray | None = None
    meta: list = field(default_factory=list)

    @property
    def classes(self) -> np.ndarray:
        return np.unique(self.labels)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class ProbeSuite:
    """Probes plus the deduplicated sentences to encode once for all of them.

    Feature layout expected by :func:`~taskdiff.difficulty.probing.probe.fit_probe_suite`:
    row ``i`` of a sentence matrix is ``sentences[i]``; row ``word_offsets[i] + j`` of a
    word matrix is word ``j`` of ``sentences[i]``.
    """

    probes: dict
    dropped: dict
    sentences: list
    word_offsets: np.ndarray
    suite_ids: dict

    @classmethod
    def from_probes(cls, probes, dropped=None) -> ProbeSuite:
        index, ids = {}, {}
        for p in probes:
            ids[p.name] = np.array([index.setdefault(tuple(s), len(index)) for s in p.sentences],
                                   dtype=np.int64)
        sentences = [list(s) for s in index]
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in sentences])]).astype(np.int64)
        return cls({p.name: p for p in probes}, dict(dropped or {}), sentences, offsets, ids)

    def sentence_rows(self, name: str) -> np.ndarray:
        """Row of each example of probe ``name`` in a per-sentence feature matrix."""
        return self.suite_ids[name][self.probes[name].sentence_index]

    def word_rows(self, name: str) -> np.ndarray:
        """Row of each example of token-level probe ``name`` in a per-word feature matrix."""
        p = self.probes[name]
        return self.word_offsets[self.sentence_rows(name)] + p.word_index


@dataclass(frozen=True)
class _Sent:
    forms: list
    upos: list
    deprel: list
    head: list  # 0-based head position, -1 for the root, -2 if missing
    feats: list
    custom: dict = field(default_factory=dict)  # custom probe name -> (group, label)
    token_custom: dict = field(default_factory=dict)  # name -> (group, {word position: label})

    def children(self, i: int) -> list:
        return [j for j, h in enumerate(self.head) if h == i]

    @property
    def root(self) -> int | None:
        roots = [j for j, h in enumerate(self.head) if h == -1]
        return roots[0] if len(roots) == 1 and -2 not in self.head else None


def load_sentences(source) -> list:
    """``conllu.TokenList`` sentences from a path or an iterable of TokenLists."""
    if isinstance(source, (str, Path)):
        try:
            with open(source, encoding="utf-8") as fh:
                return list(conllu.parse_incr(fh))
        except (OSError, conllu.exceptions.ParseException) as exc:
            raise DataError(source, "a readable CoNLL-U file", str(exc)) from exc
    return list(source)


def _convert(tokenlist) -> _Sent:
    toks = [t for t in tokenlist if isinstance(t["id"], int)]
    pos = {t["id"]: i for i, t in enumerate(toks)}
    head = [-1 if t["head"] == 0 else pos.get(t["head"], -2) for t in toks]
    meta = getattr(tokenlist, "metadata", None) or {}
    where = f"sentence {meta.get('sent_id', '?')}"
    custom = parse_probe_comments(meta, where)
    token_custom = parse_token_probes([t.get("misc") for t in toks], where)
    return _Sent([t["form"] for t in toks], [t["upos"] for t in toks],
                 [t["deprel"] or "_" for t in toks], head, [t["feats"] or {} for t in toks], custom,
                 token_custom)


def _base(rel: str) -> str:
    return rel.split(":")[0]


def tree_depth(sent: _Sent) -> int | None:
    """Nodes on the longest root-to-leaf path (root = 1); None for a broken tree."""
    if sent.root is None:
        return None
    depth, frontier = 0, [sent.root]
    while frontier and depth <= len(sent.forms):
        depth += 1
        frontier = [c for i in frontier for c in sent.children(i)]
    return depth if not frontier else None  # a frontier left over means a cycle


def _label_tense(s: _Sent, cfg: dict):
    """Tense of the first finite word among root, aux/cop children; else the root's."""
    r = s.root
    if r is None:
        return None
    chain = [r] + [c for c in s.children(r) if _base(s.deprel[c]) in ("aux", "cop")]
    finite = [i for i in chain if s.feats[i].get("VerbForm", "Fin") == "Fin"]
    return next((s.feats[i]["Tense"] for i in finite + [r] if s.feats[i].get("Tense")), None)


def _number(rels: tuple):
    def label(s: _Sent, cfg: dict):
        if s.root is None:
            return None
        deps = [c for c in s.children(s.root) if _base(s.deprel[c]) in rels]
        return s.feats[deps[0]].get("Number") if deps else None
    return label


def _label_depth(s: _Sent, cfg: dict):
    d, cap = tree_depth(s), cfg["depth_cap"]
    return None if d is None else (str(d) if d < cap else f"{cap}+")


def _label_length(s: _Sent, cfg: dict):
    n = len(s.forms)
    return next((f"{lo}-{hi}" for lo, hi in cfg["length_bins"] if lo <= n <= hi), None)


def _sentence_probe(label_fn, sents, cfg, rng):
    out = [(i, s, lab) for i, s in enumerate(sents) if (lab := label_fn(s, cfg)) is not None]
    return dict(sentences=[list(s.forms) for _, s, _ in out], labels=[lab for *_, lab in out],
                sentence_index=list(range(len(out))), meta=[{"source": i} for i, _, _ in out])


def _token_probe(attr: str):
    def build(sents, cfg, rng):
        def word_labels(s: _Sent):
            vals = [(j, v) for j, v in enumerate(getattr(s, attr)) if v not in (None, "_")]
            if attr == "deprel" and not cfg["deprel_subtypes"]:
                vals = [(j, _base(v)) for j, v in vals]
            return vals
        return token_rows(sents, word_labels)
    return build


# ---------------------------------------------------------------- perturbations


def _bigram_plan(s: _Sent, cfg: dict):
    ok = [j for j in range(len(s.forms) - 1) if "PUNCT" not in (s.upos[j], s.upos[j + 1])
          and s.forms[j].lower() != s.forms[j + 1].lower()]
    return ok or None


def _bigram_apply(s: _Sent, plan, cfg, rng):
    j = int(rng.choice(plan))
    words = list(s.forms)
    words[j], words[j + 1] = words[j + 1], words[j]
    return words, {"position": j}


def _somo_plan(s: _Sent, cfg: dict):
    vocab = cfg["vocab"]  # built from these sentences, so it holds the word itself
    ok = [j for j, u in enumerate(s.upos)
          if u in cfg["replace_upos"] and len(vocab[_vocab_key(s, j, cfg)][0]) > 1]
    return ok or None


def _match_case(new: str, old: str) -> str:
    """``new`` (lower case) written with the case pattern of ``old``."""
    if len(old) > 1 and old.isupper():
        return new.upper()
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def _somo_apply(s: _Sent, plan, cfg, rng):
    j = int(rng.choice(plan))
    forms, probs = cfg["vocab"][_vocab_key(s, j, cfg)]
    probs = np.where(np.asarray(forms) == s.forms[j].lower(), 0.0, probs)  # not the word itself
    new = _match_case(forms[rng.choice(len(forms), p=probs / probs.sum())], s.forms[j])
    words = list(s.forms)
    words[j] = new
    return words, {"position": j, "original": s.forms[j], "replacement": new}


def _coord_plan(s: _Sent, cfg: dict):
    r, n = s.root, len(s.forms)
    conjs = [c for c in s.children(r) if _base(s.deprel[c]) == "conj"] if r is not None else []
    if len(conjs) != 1 or conjs[0] < r:
        return None
    c = conjs[0]
    if not any(_base(s.deprel[g]) in ("nsubj", "csubj", "expl") for g in s.children(c)):
        return None
    span, frontier = {c}, [c]
    while frontier:
        frontier = [k for i in frontier for k in s.children(i) if k not in span]
        span.update(frontier)
    lo, hi = min(span), max(span)
    if len(span) != hi - lo + 1 or any(s.upos[k] != "PUNCT" for k in range(hi + 1, n)):
        return None
    cc = lo
    while cc <= hi and s.upos[cc] == "PUNCT":
        cc += 1
    if cc >= hi or _base(s.deprel[cc]) != "cc" or s.head[cc] != c or lo == 0:
        return None
    return (lo, cc, cc + 1, hi + 1)  # A=[0,lo) sep=[lo,cc) cc=[cc,cc+1) B=[cc+1,hi+1)


def _coord_apply(s: _Sent, plan, cfg, rng):
    lo, cc, b0, end = plan
    w = list(s.forms)
    a, b = w[:lo], w[b0:end]
    first = a[0]
    if len(first) > 1 and first.istitle() and s.upos[0] != "PROPN" and b[0][:1].islower():
        a[0] = first[0].lower() + first[1:]
        b[0] = b[0][0].upper() + b[0][1:]
    return b + w[lo:cc] + w[cc:b0] + a + w[end:], {"split": list(plan)}


def _perturbed_probe(plan_fn, apply_fn, mark: str):
    def build(sents, cfg, rng):
        eligible = [(i, p) for i, s in enumerate(sents) if (p := plan_fn(s, cfg)) is not None]
        order = rng.permutation(len(eligible))[: len(eligible) // 2 * 2]
        half = len(order) // 2
        res = dict(sentences=[], labels=[], sentence_index=[], meta=[])
        for rank, e in enumerate(order):
            i, plan = eligible[e]
            if rank < half:
                words, info = apply_fn(sents[i], plan, cfg, rng)
            else:
                words, info = list(sents[i].forms), {}
            res["meta"].append({"source": i, "perturbed": rank < half, **info})
            res["sentence_index"].append(len(res["sentences"]))
            res["sentences"].append(words)
            res["labels"].append(mark if rank < half else "O")
        return res
    return build


PROBES = {
    "upos": ("syntactic", "token", _token_probe("upos")),
    "deprel": ("syntactic", "token", _token_probe("deprel")),
    "tree_depth": ("syntactic", "sentence", lambda *a: _sentence_probe(_label_depth, *a)),
    "bigram_shift": ("syntactic", "sentence", _perturbed_probe(_bigram_plan, _bigram_apply, "I")),
    "sentence_length": ("surface", "sentence", lambda *a: _sentence_probe(_label_length, *a)),
    "tense": ("semantic", "sentence", lambda *a: _sentence_probe(_label_tense, *a)),
    "subj_number": ("semantic", "sentence", lambda *a: _sentence_probe(_number(("nsubj",)), *a)),
    "obj_number": ("semantic", "sentence", lambda *a: _sentence_probe(_number(("obj",)), *a)),
    "odd_one_out": ("semantic", "sentence", _perturbed_probe(_somo_plan, _somo_apply, "C")),
    "coordination_inversion": ("semantic", "sentence",
                               _perturbed_probe(_coord_plan, _coord_apply, "I")),
}


def _vocab_key(s: _Sent, j: int, cfg: dict) -> tuple:
    if not cfg["match_feats"]:
        return s.upos[j], ""
    return s.upos[j], "|".join(f"{k}={v}" for k, v in sorted(s.feats[j].items()))


def _vocabulary(sents, cfg: dict) -> dict:
    """(UPOS, FEATS) -> (lower-cased forms, their corpus frequencies as probabilities)."""
    counts: dict = {}
    for s in sents:
        for j, form in enumerate(s.forms):
            bucket = counts.setdefault(_vocab_key(s, j, cfg), {})
            bucket[form.lower()] = bucket.get(form.lower(), 0) + 1
    out = {}
    for key, bucket in counts.items():
        forms = sorted(bucket)
        freq = np.array([bucket[f] for f in forms], dtype=np.float64)
        out[key] = (forms, freq / freq.sum())
    return out


def build_probe_suite(source, *, seed: int = 0, probes=None, min_examples: int = 20,
                      deprel_subtypes: bool = False, depth_cap: int = 8,
                      length_bins=SENTLEN_BINS, replace_upos=("NOUN", "VERB"),
                      match_feats: bool = True) -> ProbeSuite:
    """Build the probes of :data:`PROBES` and the treebank's custom probes (or the named
    subset) from CoNLL-U sentences.

    Parameters
    ----------
    source : str, Path or iterable of conllu.TokenList
    seed : int
        Seed of every random choice (perturbations); same seed, same suite.
    probes : iterable of str, optional
        Probe names, built-in or custom (``probe.<name>.<group>`` comments or MISC entries); all
        by default, the built-in ones first.
    min_examples : int
        Probes with fewer examples are dropped (reason recorded in ``suite.dropped``).
    deprel_subtypes, depth_cap, length_bins, replace_upos
        Label options, see the module docstring.
    match_feats : bool
        odd_one_out replacements also share the replaced word's FEATS (e.g. a plural noun
        for a plural noun, a past participle for a past participle), so morphology is no cue.

    Returns
    -------
    ProbeSuite
    """
    sents = [_convert(t) for t in load_sentences(source)]
    custom = custom_groups(sents, builtin=PROBES)
    known = {**PROBES, **{n: (g, lvl, custom_builder(n, lvl)) for n, (g, lvl) in custom.items()}}
    names = list(known) if probes is None else list(probes)
    for name in names:
        if name not in known:
            raise UnknownNameError("probe", name, known)
    cfg = dict(deprel_subtypes=deprel_subtypes, depth_cap=depth_cap, length_bins=length_bins,
               replace_upos=tuple(replace_upos), match_feats=match_feats)
    cfg["vocab"] = _vocabulary(sents, cfg)
    built, dropped = [], {}
    for name in names:
        group, level, builder = known[name]
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        res = builder(sents, cfg, rng)
        n, k = len(res["labels"]), len(set(res["labels"]))
        if n < min_examples or k < 2:
            dropped[name] = (f"{n} examples (< min_examples={min_examples})" if n < min_examples
                             else f"a single class {sorted(set(res['labels']))}")
            continue
        arrays = {key: np.asarray(res[key], dtype=np.int64 if "index" in key else None)
                  for key in ("labels", "sentence_index", "word_index", "word_types") if key in res}
        built.append(Probe(name, group, level, res["sentences"], meta=res["meta"], **arrays))
    return ProbeSuite.from_probes(built, dropped)
