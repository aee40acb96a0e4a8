"""Testbed tasks: generated from meanings, labels exact, written in real file layouts.

Intermediate tasks are in the base language only; target tasks exist in every language
with the same item ids (exact translations: the same meanings realised in each language).

===============  ==================  =========================================================
kind             format              label
===============  ==================  =========================================================
``pos``          tagging             the realiser's UPOS tag of every word (CoNLL-U)
``agree``        classification      ``good``; ``bad`` when the main verb's number agreement is
                                     flipped (present tense, where the base language marks it)
``depth``        classification      deepest relative-clause nesting, ``0`` ... ``3``
``entail``       pair_classification entailment / neutral / contradiction of two quantified
                                     statements, by monotonicity and quantifier logic
``para``         pair_classification ``1`` paraphrase (every/all, a/some, clause order), ``0``
                                     same words, other meaning (arguments swapped, word changed)
``qa``           extractive_qa       a wh-question about one clause of a short passage; the
                                     answer is the questioned NP's span (SQuAD JSON)
``mc``           multiple_choice     the same questions, 4 NP choices from the passage
``retrieval``    retrieval           Tatoeba layout: base sentence <-> its translation
===============  ==================  =========================================================

Knobs of every task (:class:`TaskSpec`): ``size`` (training examples), ``label_noise`` (a
fraction of labels replaced by a random *other* label: a tag per word for tagging, the
answer moved to another NP of the passage for QA, another choice for multiple choice) and
``ambiguity`` (a fraction of examples whose decisive word is replaced by the language's
placeholder word, so the label is no longer determined by the input). Noise and ambiguity
apply to every split of the task (the data set *is* noisy: its held-out data too), and a
variant of a task (same ``kind`` and ``seed``) has exactly the same items as the clean task,
so a noise ladder compares like with like. Every record keeps its clean label in
``clean_label`` (JSONL) for analysis; the readers ignore it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from taskdiff.io import format_conllu
from taskdiff.testbed import grammar as G
from taskdiff.testbed.corpus import question_of
from taskdiff.testbed.languages import Lexicon, Realized, Realizer, finish

Kind = Literal["pos", "agree", "depth", "entail", "para", "qa", "mc", "retrieval"]
SPLITS = ("train", "validation", "test")
#: Formats, metrics and labels of each kind.
KINDS = {
    "pos": ("tagging", "pos", list(G.UPOS)),
    "agree": ("classification", "accuracy", ["bad", "good"]),
    "depth": ("classification", "accuracy", ["0", "1", "2", "3"]),
    "entail": ("pair_classification", "accuracy", list(G.NLI_LABELS)),
    "para": ("pair_classification", "accuracy", ["0", "1"]),
    "qa": ("extractive_qa", "squad", None),
    "mc": ("multiple_choice", "accuracy", None),
    "retrieval": ("retrieval", "tatoeba", None),
}
#: Which kinds are syntactic and which semantic (used by the docs and the probing test).
SYNTACTIC = ("pos", "agree", "depth")
SEMANTIC = ("entail", "para", "qa", "mc")


class TaskSpec(BaseModel):
    """One generated task: what it is, its size, its noise and ambiguity."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    role: Literal["intermediate", "target"] = "intermediate"
    size: int = Field(800, ge=4, description="training examples (base language)")
    n_validation: int = Field(150, ge=2)
    n_test: int = Field(200, ge=2, description="evaluation examples (per language for targets)")
    label_noise: float = Field(0.0, ge=0, le=1)
    ambiguity: float = Field(0.0, ge=0, le=1)
    seed: str = Field("", description="items seed; default: the kind (variants share items)")

    @property
    def item_seed(self) -> str:
        return self.seed or f"{self.role}-{self.kind}"

    @property
    def format(self) -> str:
        return KINDS[self.kind][0]


# ----------------------------------------------------------------------------- helpers
def _np_for_entail(rng) -> G.NP:
    det = G.choice(rng, ("every", "all", "some", "no"))
    head = G.choice(rng, G.ANIMATE)
    plural = det == "all" or (det in ("some", "no") and rng.random() < 0.4)
    adjs = (G.choice(rng, G.ADJECTIVES),) if rng.random() < 0.4 else ()
    return G.NP(head=head, det=det, plural=plural, adjs=adjs)


def _alter_restrictor(np_: G.NP, rng) -> G.NP:
    u = rng.random()
    cat = G.NOUNS.get(np_.head)
    if u < 0.35 and cat is not None:
        return replace(np_, head=cat)                       # generalise (dog -> animal)
    if u < 0.35 and cat is None and G.hyponyms(np_.head):
        return replace(np_, head=G.choice(rng, G.hyponyms(np_.head)))  # specialise
    if u < 0.6:
        if np_.adjs:
            return replace(np_, adjs=())                    # drop the adjective
        return replace(np_, adjs=(G.choice(rng, G.ADJECTIVES),))
    others = [n for n in G.ANIMATE if n != np_.head and not G.noun_subsumes(n, np_.head)
              and not G.noun_subsumes(np_.head, n)]
    return replace(np_, head=G.choice(rng, others))        # unrelated noun


def _alter_verb(verb: str, rng) -> str:
    u = rng.random()
    if u < 0.4 and G.INTRANSITIVE.get(verb):
        return G.INTRANSITIVE[verb]
    if u < 0.4 and verb == "move":
        return G.choice(rng, [v for v, h in G.INTRANSITIVE.items() if h == "move"])
    return G.choice(rng, [v for v in G.INTRANSITIVE if v != verb and not G.verb_leq(v, verb)
                          and not G.verb_leq(verb, v)])


def entail_item(rng, base: G.SamplerConfig) -> tuple[G.Clause, G.Clause, str, str]:
    """(premise, hypothesis, label, what changed: "q", "r", "v" or "rv")."""
    tense = "past" if rng.random() < 0.3 else "pres"
    subj = _np_for_entail(rng)
    premise = G.Clause(G._pick(rng, base, "intransitive", subj.head, tuple(G.INTRANSITIVE)), subj, None, tense)
    u = rng.random()
    if u < 0.4:
        q2 = G.choice(rng, [q for q in ("every", "all", "some", "no") if (subj.det, q) in G.QUANTIFIER_RELATIONS])
        hyp = replace(premise, subj=G.relabel_quantifier(subj, q2))
        return premise, hyp, G.QUANTIFIER_RELATIONS[(subj.det, q2)], "q"
    changed = "r" if u < 0.65 else "v" if u < 0.85 else "rv"
    hyp = premise
    if "r" in changed:
        hyp = replace(hyp, subj=_alter_restrictor(subj, rng))
    if "v" in changed:
        hyp = replace(hyp, verb=_alter_verb(premise.verb, rng))
    return premise, hyp, G.monotone_relation(premise, hyp), changed


def para_item(rng, base: G.SamplerConfig) -> tuple[G.Sentence, G.Sentence, str, str]:
    """(sentence 1, sentence 2, "1"/"0", decisive NP path) with high word overlap either way."""
    cfg = replace(base, p_rel=0.0, p_name=0.3, p_coordination=0.0)
    positive = rng.random() < 0.5
    if positive:
        u = rng.random()
        if u < 0.6:  # every <-> all, a <-> some (singular): same meaning
            subj = replace(G.sample_np(rng, cfg, animate=True, depth_left=0), number=None)
            if subj.is_name:
                subj = G.NP(head=G.choice(rng, G.ANIMATE))
            q1, q2 = G.choice(rng, (("every", "all"), ("all", "every"), ("a", "some"), ("some", "a")))
            c = G.sample_clause(rng, cfg, subject=subj.head)
            c1 = replace(c, subj=G.relabel_quantifier(subj, q1))
            c2 = replace(c, subj=replace(G.relabel_quantifier(subj, q2), plural=q2 == "all"))
            return G.Sentence((c1,)), G.Sentence((c2,)), "1", "s#d"
        a, b = G.sample_clause(rng, cfg), G.sample_clause(rng, cfg)
        return G.Sentence((a, b)), G.Sentence((b, a)), "1", "c0.v#v"
    c = G.sample_clause(rng, replace(cfg, p_transitive=1.0))
    if rng.random() < 0.5:  # swap the arguments (both made animate so that it is meaningful)
        obj = c.obj if (c.obj.is_name or c.obj.head in G.ANIMATE) else G.NP(head=G.choice(rng, G.ANIMATE))
        c1 = replace(c, obj=obj)
        c2 = replace(c, subj=obj, obj=c.subj)
        if c1.subj == c1.obj:
            c2 = replace(c2, subj=G.NP(head="Alice" if c1.obj.head != "Alice" else "Bob", det="name"))
        return G.Sentence((c1,)), G.Sentence((c2,)), "0", "o#h"
    verb = G.choice(rng, [v for v in G.TRANSITIVE if v != c.verb])
    return G.Sentence((c,)), G.Sentence((replace(c, verb=verb),)), "0", "v#v"


def qa_item(rng, base: G.SamplerConfig, n_clauses: int | None = None) -> tuple[list[G.Clause], int, str]:
    """A passage (clauses with distinct verbs), the questioned clause and argument ("s"/"o")."""
    cfg = replace(base, p_rel=0.0, p_transitive=1.0, p_name=0.5)
    n = n_clauses or int(rng.integers(3, 5))
    verbs = rng.permutation(len(G.TRANSITIVE))[:n]
    clauses = []
    for v in verbs:
        c = G.sample_clause(rng, cfg)
        subj = c.subj if c.subj.det in ("name", "the", "a", "num") else replace(c.subj, det="the")
        obj = c.obj if c.obj.det in ("name", "the", "a", "num") else replace(c.obj, det="the")
        clauses.append(replace(c, verb=G.TRANSITIVE[int(v)], subj=subj, obj=obj))
    return clauses, int(rng.integers(n)), "o" if rng.random() < 0.5 else "s"


# ----------------------------------------------------------------------------- items
class Item(dict):
    """A generated example before realisation: meanings, label, decisive path."""


def make_items(spec: TaskSpec, seed: int, split: str, n: int, sampler: G.SamplerConfig | None = None) -> list[Item]:
    """The items (meanings + exact labels) of one split of a task (``sampler``: the world's)."""
    rng = G.rng_for(seed, "items", spec.item_seed, split)
    base = sampler or G.SamplerConfig()
    items: list[Item] = []
    if spec.kind == "entail":  # balanced labels: rejection sampling
        per = {l: 0 for l in G.NLI_LABELS}
        quota = {l: (n + i) // 3 for i, l in enumerate(G.NLI_LABELS)}
        while len(items) < n:
            p, h, label, changed = entail_item(rng, base)
            if per[label] < quota[label]:
                per[label] += 1
                key = {"q": "s#d", "r": "s#h", "v": "v#v", "rv": "v#v"}[changed]
                items.append(Item(a=p, b=h, label=label, decisive=key))
        order = rng.permutation(n)
        return [items[i] for i in order]
    for _ in range(n):
        if spec.kind == "pos":
            items.append(Item(a=G.sample_sentence(rng, base), decisive="random"))
        elif spec.kind == "agree":
            c = G.sample_clause(rng, replace(base, p_past=0.0, p_coordination=0.0), tense="pres")
            items.append(Item(a=c, label="bad" if rng.random() < 0.5 else "good", decisive="s#h"))
        elif spec.kind == "depth":
            d = int(rng.integers(0, 4))
            items.append(Item(a=G.clause_with_depth(rng, d, base), label=str(d), decisive="that"))
        elif spec.kind == "para":
            a, b, label, key = para_item(rng, base)
            items.append(Item(a=a, b=b, label=label, decisive=key))
        elif spec.kind in ("qa", "mc"):
            clauses, k, arg = qa_item(rng, base)
            items.append(Item(passage=clauses, k=k, arg=arg, decisive="qv"))
        elif spec.kind == "retrieval":
            items.append(Item(a=G.sample_sentence(rng, base)))
    return items


# ----------------------------------------------------------------------------- realisation
def _flip_agreement(r: Realized, lex: Lexicon, clause: G.Clause) -> Realized:
    """The sentence with its main verb inflected for the other number."""
    tokens = list(r.tokens)
    for i, t in enumerate(tokens):
        if t.deprel == "root":
            plural = not (clause.subj is not None and clause.subj.plural)
            form = lex.verb(clause.verb, lex.stems[clause.verb], clause.tense, plural)
            tokens[i] = replace(t, form=form)
            for u in tokens:  # heads pointed at the old token object
                if u.head is t:
                    u.head = tokens[i]
    return finish(tokens)


def _hide_keys(item: Item) -> set[str]:
    key = item.get("decisive")
    return {key} if key and key not in ("random", "that", "qv") else set()


def realize_item(spec: TaskSpec, item: Item, lex: Lexicon, hide: bool, rng) -> dict:
    """Canonical row fields (without id) of one item in one language."""
    keys = _hide_keys(item) if hide else set()
    if spec.kind == "pos":
        r = Realizer(lex).sentence(item["a"])
        forms = r.forms
        if hide:
            content = [i for i, t in enumerate(r.tokens) if t.upos in ("NOUN", "VERB", "ADJ")]
            if content:
                forms = list(forms)
                forms[G.choice(rng, content)] = lex.placeholder
        return {"tokens": forms, "tags": [t.upos for t in r.tokens], "realized": r}
    if spec.kind == "agree":
        r = Realizer(lex, hide=keys).sentence(item["a"])
        if item["label"] == "bad":
            r = _flip_agreement(r, lex, item["a"])
        return {"text": r.text, "label": item["label"]}
    if spec.kind == "depth":
        r = Realizer(lex).sentence(item["a"])
        forms = r.forms
        if hide:
            rel = [i for i, t in enumerate(r.tokens) if t.concept == "that"]
            if rel:
                forms = list(forms)
                forms[max(rel, key=lambda i: r.tokens[i].depth)] = lex.placeholder
        return {"text": " ".join(forms), "label": item["label"]}
    if spec.kind in ("entail", "para"):
        a = Realizer(lex).sentence(item["a"]).text
        b = Realizer(lex, hide=keys).sentence(item["b"]).text
        if keys and item["decisive"] == "s#d":  # hide the determiner of the hypothesis' subject
            r = Realizer(lex).sentence(item["b"])
            forms = [lex.placeholder if (t.upos == "DET" and t.path == "s") else t.form for t in r.tokens]
            b = " ".join(forms)
        return {"text_a": a, "text_b": b, "label": item["label"]}
    if spec.kind in ("qa", "mc"):
        return _qa_fields(item, lex, hide)
    if spec.kind == "retrieval":
        return {"text": Realizer(lex).sentence(item["a"]).text}
    raise ValueError(spec.kind)  # pragma: no cover


def _qa_fields(item: Item, lex: Lexicon, hide: bool) -> dict:
    realized = [Realizer(lex).sentence(c) for c in item["passage"]]
    context, starts = "", []
    for r in realized:
        starts.append(len(context) + (1 if context else 0))
        context = (context + " " + r.text) if context else r.text
    k, arg = item["k"], item["arg"]
    q = question_of(item["passage"][k], arg, None)
    question = Realizer(lex, hide={"v#v"} if hide else set()).sentence(q, punct="?").text
    spans = []  # (text, start) of every argument NP of the passage, the gold one first
    for i, r in enumerate(realized):
        for a in ("s", "o"):
            text = r.span_text(a)
            start = starts[i] + r.char_start(r.spans[a][0])
            assert context[start:start + len(text)] == text
            spans.append(((i, a), text, start))
    gold = next(s for s in spans if s[0] == (k, arg))
    return {"context": context, "question": question, "gold": (gold[1], gold[2]),
            "others": [(t, s) for key, t, s in spans if key != (k, arg) and t != gold[1]]}


# ----------------------------------------------------------------------------- noise
def apply_noise(spec: TaskSpec, row: dict, labels, rng) -> dict:
    """Replace the label with a random other one (tags per word) with probability ``label_noise``."""
    p = spec.label_noise
    if spec.kind == "pos":
        row["clean_tags"] = list(row["tags"])
        if p > 0:
            row["tags"] = [G.choice(rng, [l for l in labels if l != t]) if rng.random() < p else t for t in row["tags"]]
        return row
    if spec.kind in ("qa", "mc"):
        row["clean_answer"] = row["gold"]
        if p > 0 and rng.random() < p and row["others"]:
            row["gold"] = G.choice(rng, row["others"])
        return row
    if "label" in row:
        row["clean_label"] = row["label"]
        if p > 0 and rng.random() < p:
            row["label"] = G.choice(rng, [l for l in labels if l != row["label"]])
    return row


# ----------------------------------------------------------------------------- writing
def _conllu_words(row: dict) -> list[list[str]]:
    r: Realized = row["realized"]
    misc = row.get("misc") or ["_"] * len(r.tokens)
    words = []
    for i, (t, form, tag) in enumerate(zip(r.tokens, row["tokens"], row["tags"])):
        feats = "|".join(f"{k}={v}" for k, v in sorted(t.feats.items())) or "_"
        deprel = "root" if r.heads[i] < 0 else t.deprel
        words.append([str(i + 1), form, t.concept or form, tag, "_", feats, str(r.heads[i] + 1), deprel, "_", misc[i]])
    return words


def _conllu(rows: list[dict]) -> str:
    return format_conllu(([f"sent_id = {row['id']}", f"text = {' '.join(row['tokens'])}", *row.get("comments", ())],
                          _conllu_words(row)) for row in rows)


def _squad(rows: list[dict]) -> str:
    data = [{"title": row["id"], "paragraphs": [{"context": row["context"], "qas": [{
        "id": row["id"], "question": row["question"],
        "answers": [{"text": row["gold"][0], "answer_start": row["gold"][1]}]}]}]} for row in rows]
    return json.dumps({"version": "1.1", "data": data}, ensure_ascii=False) + "\n"


def _jsonl(rows: list[dict], fields: tuple[str, ...]) -> str:
    return "".join(json.dumps({k: r[k] for k in fields if k in r}, ensure_ascii=False) + "\n" for r in rows)


FILES = {
    # kind -> (reader, split -> file pattern, reader options)
    "pos": ("conllu", "{lang}-ud-{split}.conllu", {"tag_field": "upos"}),
    "agree": ("jsonl", "{split}.{lang}.jsonl", {"columns": {"id": "id", "text": "sentence", "label": "label"}}),
    "depth": ("jsonl", "{split}.{lang}.jsonl", {"columns": {"id": "id", "text": "sentence", "label": "label"}}),
    "entail": ("jsonl", "{split}.{lang}.jsonl",
               {"columns": {"id": "id", "text_a": "premise", "text_b": "hypothesis", "label": "label"}}),
    "para": ("jsonl", "{split}.{lang}.jsonl",
             {"columns": {"id": "id", "text_a": "sentence1", "text_b": "sentence2", "label": "label"}}),
    "qa": ("squad_json", "{split}-{lang}.json", {}),
    "mc": ("jsonl", "{split}.{lang}.jsonl",
           {"columns": {"id": "id", "context": "context", "question": "question", "choices": "choices",
                        "label": "label"}}),
    "retrieval": ("tatoeba", "{lang}-en.{lang}", {}),
}
_SPLIT_FILE = {"train": "train", "validation": "dev", "test": "test"}


def write_split(spec: TaskSpec, rows: list[dict], folder: Path, split: str, lang: str) -> Path:
    """Write one split of one language in the task's layout; returns the file."""
    kind = spec.kind
    pattern = FILES[kind][1]
    path = folder / pattern.format(split=_SPLIT_FILE[split], lang=lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "pos":
        text = _conllu(rows)
    elif kind == "qa":
        text = _squad(rows)
    elif kind == "mc":
        text = _jsonl(rows, ("id", "context", "question", "choices", "label", "clean_label"))
    elif kind in ("agree", "depth"):
        text = _jsonl([{"id": r["id"], "sentence": r["text"], "label": r["label"],
                        "clean_label": r["clean_label"]} for r in rows], ("id", "sentence", "label", "clean_label"))
    elif kind == "entail":
        text = _jsonl([{"id": r["id"], "premise": r["text_a"], "hypothesis": r["text_b"], "label": r["label"],
                        "clean_label": r["clean_label"]} for r in rows],
                      ("id", "premise", "hypothesis", "label", "clean_label"))
    elif kind == "para":
        text = _jsonl([{"id": r["id"], "sentence1": r["text_a"], "sentence2": r["text_b"], "label": r["label"],
                        "clean_label": r["clean_label"]} for r in rows],
                      ("id", "sentence1", "sentence2", "label", "clean_label"))
    else:  # pragma: no cover
        raise ValueError(kind)
    path.write_text(text, encoding="utf-8")
    return path


def file_patterns(spec: TaskSpec) -> dict[str, str]:
    """Split -> file pattern (with ``{lang}``) of the task config."""
    if spec.kind == "retrieval":
        return {"test": FILES["retrieval"][1]}
    return {s: FILES[spec.kind][1].replace("{split}", _SPLIT_FILE[s]) for s in SPLITS}


def generate_task(spec: TaskSpec, lexicons: dict[str, Lexicon], base: str, seed: int, folder: Path,
                  sampler: G.SamplerConfig | None = None) -> dict:
    """Generate and write every split (and, for targets, every language) of a task.

    Returns a summary: sizes, label counts, noise actually applied.
    """
    fmt, _, labels = KINDS[spec.kind]
    langs = [base] if spec.role == "intermediate" else sorted(lexicons, key=lambda c: (c != base, c))
    sizes = {"train": spec.size, "validation": spec.n_validation, "test": spec.n_test}
    summary: dict = {"name": spec.name, "kind": spec.kind, "format": fmt, "splits": {}}
    if spec.kind == "retrieval":
        items = make_items(spec, seed, "test", spec.n_test, sampler)
        base_text = [realize_item(spec, it, lexicons[base], False, None)["text"] for it in items]
        for lang in langs:
            if lang == base:
                continue
            other = [realize_item(spec, it, lexicons[lang], False, None)["text"] for it in items]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{lang}-en.{lang}").write_text("".join(t + "\n" for t in other), encoding="utf-8")
            (folder / f"{lang}-en.en").write_text("".join(t + "\n" for t in base_text), encoding="utf-8")
        summary["splits"]["test"] = {"n": len(items)}
        return summary
    for split in SPLITS:
        items = make_items(spec, seed, split, sizes[split], sampler)
        for lang in langs:
            if split != "test" and lang != base:
                continue  # zero-shot: training and selection data only in the base language
            noise_rng = G.rng_for(seed, "noise", spec.name, split)  # the same draws in every language
            hide_rng = G.rng_for(seed, "hide", spec.name, split)
            rows = []
            for i, item in enumerate(items):
                hide = spec.ambiguity > 0 and hide_rng.random() < spec.ambiguity
                row = realize_item(spec, item, lexicons[lang], hide, hide_rng)
                row["id"] = f"{split}-{i}"
                row = apply_noise(spec, row, labels, noise_rng)
                if spec.kind == "mc":
                    row = _choices(row, hide_rng)
                rows.append(row)
            write_split(spec, rows, folder, split, lang)
            if lang == base:
                summary["splits"][split] = _split_summary(spec, rows)
    return summary


def _choices(row: dict, rng, n: int = 4) -> dict:
    """Gold answer text + up to ``n - 1`` distinct distractors from the passage, shuffled."""
    gold = row["gold"][0]
    clean = row["clean_answer"][0]
    pool = sorted({t for t, _ in row["others"]} | {clean} - {gold})
    distract = [pool[i] for i in rng.permutation(len(pool))[: n - 1]]
    while len(distract) < n - 1:
        distract.append(G.choice(rng, G.NAMES))
    choices = [gold] + distract
    order = rng.permutation(n)
    choices = [choices[i] for i in order]
    row["choices"] = choices
    row["label"] = int(list(order).index(0))
    row["clean_label"] = choices.index(clean) if clean in choices else -1
    return row


def _split_summary(spec: TaskSpec, rows: list[dict]) -> dict:
    out: dict = {"n": len(rows)}
    if spec.kind == "pos":
        n_tok = sum(len(r["tags"]) for r in rows)
        flipped = sum(a != b for r in rows for a, b in zip(r["tags"], r["clean_tags"]))
        out.update(tokens=n_tok, noisy_fraction=flipped / max(n_tok, 1))
    elif spec.kind == "qa":
        out["noisy_fraction"] = sum(r["gold"] != r["clean_answer"] for r in rows) / len(rows)
    elif "clean_label" in rows[0]:
        out["noisy_fraction"] = sum(r["label"] != r["clean_label"] for r in rows) / len(rows)
        counts: dict = {}
        for r in rows:
            counts[str(r["label"])] = counts.get(str(r["label"]), 0) + 1
        out["labels"] = dict(sorted(counts.items()))
    return out


def task_config(spec: TaskSpec, languages: list[str], base: str, root: str) -> dict:
    """The task's YAML mapping (``local.root`` relative to the world directory)."""
    fmt, metric, labels = KINDS[spec.kind]
    reader, _, options = FILES[spec.kind]
    cfg: dict = {
        "name": spec.name, "format": fmt, "role": spec.role, "metric": metric,
        "description": (f"testbed {spec.kind} ({'targets in every language' if spec.role == 'target' else 'base language'}"
                        f", {spec.size} training examples, label noise {spec.label_noise:g}, "
                        f"ambiguity {spec.ambiguity:g})"),
        "languages": [base] if spec.role == "intermediate" else list(languages),
        "train_language": base, "eval_split": "test", "max_length": 128 if spec.kind == "qa" else 64,
        "local": {"layout": "files", "root": root, "reader": reader, "files": file_patterns(spec),
                  "options": dict(options)},
        "citation": "taskdiff testbed (synthetic)", "license": "CC0 (generated)",
    }
    if labels is not None:
        cfg["labels"] = labels
    if spec.kind == "retrieval":
        cfg.update(trainable=False, languages=[l for l in languages if l != base], local={**cfg["local"], "options": {}})
    return cfg
