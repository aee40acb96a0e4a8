"""Project-made miniature data in exactly the real file layouts (see ``docs/readers.md``).

:func:`make_fixture_data_dir` writes a data root with ``xtreme/`` and ``intermediate/``
folders whose file names, formats and quirks (headerless CRLF TSVs, SNLI's ``-`` labels,
line-parallel Tatoeba, BUCC ids) match the public releases, filled with synthetic
sentences from a tiny grammar so that tests and demos run offline in well under a second.

* Sentences are ``subject verb object [in place] .`` clauses with full UD annotation (UPOS,
  XPOS, heads, deprels, ``Number``/``Tense``/``VerbForm`` features), so probing suites can
  be built from the CoNLL-U files.
* Every label has a learnable signal: NLI contradiction = negation, entailment = a subset
  of the premise, neutral = a different object; PAWS-X non-paraphrase = subject and object
  swapped; multiple-choice answers share the key noun of the context; QA answers are the
  subject or object phrase the question asks about (real substrings, exact ``answer_start``).
* "Translations" are token-wise pseudo-words from a per-language hash lexicon (names and
  punctuation kept), so the same id means the same item in every language; non-English
  words include accented letters to exercise UTF-8 handling.

Everything is a pure function of ``seed`` and the sizes: the same arguments give the same
bytes. The grammar is written here rather than taken from a corpus so the fixtures carry no
licence and no download.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from taskdiff.io import format_conllu

SUBJECTS = ("man", "woman", "child", "teacher", "farmer", "doctor", "girl", "boy")
OBJECTS = ("book", "apple", "ball", "letter", "cup", "door", "box", "song")
ADJS = ("big", "small", "red", "old", "new", "happy")
PLACES = ("park", "garden", "house", "school", "market", "kitchen", "library", "station")
VERBS = {"see": ("sees", "saw"), "take": ("takes", "took"), "find": ("finds", "found"),
         "carry": ("carries", "carried"), "open": ("opens", "opened"), "like": ("likes", "liked"),
         "watch": ("watches", "watched"), "hold": ("holds", "held"), "drop": ("drops", "dropped"),
         "break": ("breaks", "broke"), "use": ("uses", "used"), "want": ("wants", "wanted")}
PLURALS = {"man": "men", "woman": "women", "child": "children", "box": "boxes"}
TRANSITIVE = ("see", "take", "find", "carry", "open", "like", "watch", "hold")
HOME = dict(zip(OBJECTS, ("library", "kitchen", "park", "station", "kitchen", "house", "market", "school")))
PERSONS = (("Anna",), ("Omar",), ("Lena", "Berg"), ("Yuki", "Kato"), ("Sara", "Costa"), ("Juma", "Ndovu"))
ORGS = (("Acme", "Bank"), ("Delta", "Press"), ("Nova", "Motors"))
LOCATIONS = (("Berlin",), ("Nairobi",), ("Lima",), ("Madrid",), ("Osaka",))
NAMES = frozenset(w for group in PERSONS + ORGS + LOCATIONS for w in group)
_LANG = re.compile(r"[A-Za-z]{2,3}")


@dataclass(frozen=True)
class NP:
    """A noun phrase: ``the [adj] noun`` or a proper name (``ent`` = PER/ORG/LOC)."""

    noun: str = ""
    plural: bool = False
    adj: str | None = None
    name: tuple[str, ...] = ()
    ent: str | None = None

    def words(self) -> list[str]:
        """The phrase's word forms."""
        if self.name:
            return list(self.name)
        noun = PLURALS.get(self.noun, self.noun + "s") if self.plural else self.noun
        return ["the"] + ([self.adj] if self.adj else []) + [noun]


@dataclass(frozen=True)
class Clause:
    """``subj verb [obj] [in place] .`` (past or present, optionally negated)."""

    subj: NP
    verb: str
    obj: NP | None = None
    place: NP | None = None
    past: bool = True
    negated: bool = False


# --------------------------------------------------------------------------------- rendering
def _np_tokens(np: NP, start: int, head: int, deprel: str) -> list[dict[str, Any]]:
    if np.name:
        return [{"form": w, "upos": "PROPN", "xpos": "NNP", "feats": "Number=Sing",
                 "head": head if i == 0 else start, "deprel": deprel if i == 0 else "flat",
                 "bio": f"{'B' if i == 0 else 'I'}-{np.ent}" if np.ent else "O"}
                for i, w in enumerate(np.name)]
    words = np.words()
    noun_at = start + len(words) - 1
    number = "Plur" if np.plural else "Sing"
    out = [{"form": "the", "upos": "DET", "xpos": "DT", "feats": "Definite=Def|PronType=Art", "head": noun_at,
            "deprel": "det"}]
    if np.adj:
        out.append({"form": np.adj, "upos": "ADJ", "xpos": "JJ", "feats": "Degree=Pos", "head": noun_at,
                    "deprel": "amod"})
    out.append({"form": words[-1], "lemma": np.noun, "upos": "NOUN", "xpos": "NNS" if np.plural else "NN",
                "feats": f"Number={number}", "head": head, "deprel": deprel})
    return out


def _verb_tokens(c: Clause, start: int, root: int) -> list[dict[str, Any]]:
    number = "Plur" if c.subj.plural else "Sing"
    tense = "Past" if c.past else "Pres"
    fin = f"Mood=Ind|Number={number}|Person=3|Tense={tense}|VerbForm=Fin"
    third, past = VERBS[c.verb]
    xpos = "VBD" if c.past else ("VBP" if c.subj.plural else "VBZ")
    if not c.negated:
        form = past if c.past else (c.verb if c.subj.plural else third)
        return [{"form": form, "lemma": c.verb, "upos": "VERB", "xpos": xpos, "feats": fin,
                 "head": 0, "deprel": "root"}]
    aux = "did" if c.past else ("do" if c.subj.plural else "does")
    return [{"form": aux, "lemma": "do", "upos": "AUX", "xpos": xpos, "feats": fin,
             "head": root, "deprel": "aux"},
            {"form": "not", "upos": "PART", "xpos": "RB", "feats": "_", "head": root, "deprel": "advmod"},
            {"form": c.verb, "upos": "VERB", "xpos": "VB", "feats": "VerbForm=Inf", "head": 0, "deprel": "root"}]


def render(c: Clause) -> list[dict[str, Any]]:
    """UD tokens of a clause (1-based ``head``; ``bio`` = PAN-X tag)."""
    root = len(c.subj.words()) + (3 if c.negated else 1)
    toks = _np_tokens(c.subj, 1, root, "nsubj")
    toks += _verb_tokens(c, len(toks) + 1, root)
    if c.obj is not None:
        toks += _np_tokens(c.obj, len(toks) + 1, root, "obj")
    if c.place is not None:
        case_at = len(toks) + 1
        toks.append({"form": "in", "upos": "ADP", "xpos": "IN", "feats": "_", "head": case_at + len(c.place.words()),
                     "deprel": "case"})
        toks += _np_tokens(c.place, case_at + 1, root, "obl")
    toks.append({"form": ".", "upos": "PUNCT", "xpos": ".", "feats": "_", "head": root, "deprel": "punct"})
    for tok in toks:
        tok.setdefault("lemma", tok["form"] if tok["upos"] == "PROPN" else tok["form"].lower())
        tok.setdefault("bio", "O")
    return toks


def words(c: Clause) -> list[str]:
    """The clause's word forms."""
    return [t["form"] for t in render(c)]


@lru_cache(maxsize=None)
def _pseudo(word: str, lang: str) -> str:
    digest = hashlib.sha256(f"{lang}\0{word}".encode()).digest()
    cons, vowels = "bdfgklmnprstvz", "aeiou" if digest[9] % 3 else "aeiouäéüñó"
    return "".join(cons[digest[1 + 2 * i] % len(cons)] + vowels[digest[2 + 2 * i] % len(vowels)]
                   for i in range(2 + digest[0] % 2))


def tr(tokens: Sequence[str], lang: str) -> list[str]:
    """Token-wise pseudo-translation into ``lang`` (names and punctuation kept)."""
    if lang == "en":
        return list(tokens)
    return [t if t in NAMES or not t.isalpha() else _pseudo(t, lang) for t in tokens]


def text(tokens: Sequence[str], lang: str = "en") -> str:
    """Translated tokens joined by spaces."""
    return " ".join(tr(tokens, lang))


# --------------------------------------------------------------------------------- sampling
def _np(rng: random.Random, nouns: Sequence[str], adj: float = 0.4) -> NP:
    return NP(rng.choice(nouns), plural=rng.random() < 0.3, adj=rng.choice(ADJS) if rng.random() < adj else None)


def clause(rng: random.Random, *, place: float = 0.4, negated: bool = False) -> Clause:
    """A random transitive clause (a place with probability ``place``)."""
    pl = NP(rng.choice(PLACES)) if rng.random() < place else None
    return Clause(_np(rng, SUBJECTS), rng.choice(TRANSITIVE), _np(rng, OBJECTS), pl, rng.random() < 0.6, negated)


def _entity_clause(rng: random.Random) -> Clause:
    subj = NP(name=rng.choice(PERSONS), ent="PER") if rng.random() < 0.7 else _np(rng, SUBJECTS)
    obj = NP(name=rng.choice(ORGS), ent="ORG") if rng.random() < 0.5 else _np(rng, OBJECTS)
    place = NP(name=rng.choice(LOCATIONS), ent="LOC") if rng.random() < 0.6 else NP(rng.choice(PLACES))
    return Clause(subj, rng.choice(TRANSITIVE), obj, place, rng.random() < 0.5)


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _balanced(rng: random.Random, n: int, labels: Sequence[Any]) -> list[Any]:
    out = [labels[i % len(labels)] for i in range(n)]
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------------- items
def nli_items(rng: random.Random, n: int) -> list[tuple[list[str], list[str], str]]:
    """(premise, hypothesis, label): entailment drops words, contradiction negates, neutral swaps the object."""
    out = []
    for label in _balanced(rng, n, ("entailment", "neutral", "contradiction")):
        c = clause(rng, place=0.7)
        if label == "entailment":
            h = replace(c, place=None, obj=replace(c.obj, adj=None))
        elif label == "contradiction":
            h = replace(c, negated=True, place=None)
        else:
            other = rng.choice([o for o in OBJECTS if o != c.obj.noun])
            h = replace(c, obj=NP(other, adj=rng.choice(ADJS)), place=NP(rng.choice(PLACES)))
        out.append((words(c), words(h), label))
    return out


def paws_items(rng: random.Random, n: int) -> list[tuple[list[str], list[str], str]]:
    """(sentence1, sentence2, "1"/"0"): paraphrase fronts the place; non-paraphrase swaps the roles."""
    out = []
    for label in _balanced(rng, n, ("1", "0")):
        c = clause(rng, place=1.0)
        c = replace(c, obj=_np(rng, [s for s in SUBJECTS if s != c.subj.noun]))
        if label == "1":
            s2 = ["in", *c.place.words(), ","] + words(replace(c, place=None))
        else:
            s2 = words(replace(c, subj=c.obj, obj=c.subj))
        out.append((words(c), s2, label))
    return out


def _qa_paragraph(rng: random.Random) -> tuple[list[Clause], list[tuple[list[str], int, str]]]:
    subjects, objects = rng.sample(SUBJECTS, 3), rng.sample(OBJECTS, 3)
    clauses = [Clause(_np(rng, [s]), rng.choice(TRANSITIVE), _np(rng, [o])) for s, o in zip(subjects, objects)]
    k, j = rng.sample(range(3), 2)
    ask_subj = ["who", VERBS[clauses[k].verb][1], *clauses[k].obj.words(), "?"]
    ask_obj = ["what", "did", *clauses[j].subj.words(), clauses[j].verb, "?"]
    return clauses, [(ask_subj, k, "subj"), (ask_obj, j, "obj")]


def squad_doc(rng: random.Random, n: int, lang: str, ids: Sequence[str]) -> dict[str, Any]:
    """A SQuAD v1.1 document with ``n`` questions (two per three-clause paragraph)."""
    paragraphs, count = [], 0
    while count < n:
        clauses, questions = _qa_paragraph(rng)
        ctx_tokens, spans = [], []
        for c in clauses:
            base, obj_at = len(ctx_tokens), len(ctx_tokens) + len(c.subj.words()) + 1
            spans.append({"subj": (base, obj_at - 1), "obj": (obj_at, obj_at + len(c.obj.words()))})
            ctx_tokens += words(c)
        tokens = tr(ctx_tokens, lang)
        starts = [sum(len(t) + 1 for t in tokens[:i]) for i in range(len(tokens))]
        qas = []
        for question, k, role in questions[: n - count]:
            a, b = spans[k][role]
            qas.append({"answers": [{"answer_start": starts[a], "text": " ".join(tokens[a:b])}],
                        "id": ids[count], "question": text(question, lang)})
            count += 1
        paragraphs.append({"context": " ".join(tokens), "qas": qas})
    articles = [{"title": f"fixture_{i // 4}", "paragraphs": paragraphs[i:i + 4]}
                for i in range(0, len(paragraphs), 4)]
    return {"data": articles, "version": "1.1"}


def copa_items(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """XCOPA records (English words): the right alternative shares the premise's object noun."""
    out = []
    for idx, question in enumerate(_balanced(rng, n, ("cause", "effect"))):
        subj, (obj, other) = _np(rng, SUBJECTS, adj=0.0), rng.sample(OBJECTS, 2)
        verb = rng.choice(("drop", "take", "open", "find", "hold"))
        cause = [words(Clause(subj, verb, NP(o))) for o in (obj, other)]
        effect = [words(Clause(NP(o, adj=rng.choice(ADJS)), "break")) for o in (obj, other)]
        premise, (right, wrong) = (cause[0], effect) if question == "effect" else (effect[0], cause)
        label = rng.randrange(2)
        choices = [right, wrong] if label == 0 else [wrong, right]
        out.append({"premise": premise, "choice1": choices[0], "choice2": choices[1], "question": question,
                    "label": label, "idx": idx})
    return out


def ud_sentences(rng: random.Random, n: int) -> list[list[dict[str, Any]]]:
    """Rendered UD sentences: plain, negated, with a place, or with named entities."""
    out = []
    for _ in range(n):
        r = rng.random()
        c = _entity_clause(rng) if r < 0.2 else clause(rng, negated=r > 0.8)
        out.append(render(c))
    return out


def _choices(rng: random.Random, right: Any, wrong: Sequence[Any], n: int) -> tuple[list[Any], int]:
    options = rng.sample([w for w in wrong if w != right], n - 1)
    label = rng.randrange(n)
    options.insert(label, right)
    return options, label


def _hexid(*parts: object, length: int = 32) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:length]


# --------------------------------------------------------------------------------- file text
def _jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _lines(rows: Iterable[Sequence[str]], eol: str = "\n") -> str:
    return "".join("\t".join(row) + eol for row in rows)


def _token_tsv(sentences: Iterable[Sequence[tuple[str, str]]]) -> str:
    return "\n".join("".join(f"{tok}\t{tag}\n" for tok, tag in s) for s in sentences)


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def conllu_text(sentences: Sequence[list[dict[str, Any]]], prefix: str) -> str:
    """CoNLL-U for rendered sentences (``sent_id = {prefix}-{i:04d}``, ``text`` comments)."""
    return format_conllu(
        ([f"sent_id = {prefix}-{i:04d}", f"text = {' '.join(t['form'] for t in toks)}"],
         [[str(k), t["form"], t["lemma"], t["upos"], t["xpos"], t["feats"], str(t["head"]), t["deprel"],
           f"{t['head']}:{t['deprel']}", "_"] for k, t in enumerate(toks, start=1)])
        for i, toks in enumerate(sentences))


def _write(root: Path, relative: str, content: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8"))


# --------------------------------------------------------------------------------- writers
def _write_xtreme_text(root: Path, rng_of, langs: Sequence[str], n_train: int, n_eval: int) -> None:
    """xnli, pawsx (headerless CRLF TSV like the release), udpos, panx."""
    for task, items in (("xnli", nli_items), ("pawsx", paws_items)):
        rows = items(rng_of(task), n_eval)
        for lang in langs:
            content = _lines(((text(a, lang), text(b, lang), y) for a, b, y in rows), "\r\n")
            _write(root, f"xtreme/{task}/dev-{lang}.tsv", content)
    pos_train, pos_dev = ud_sentences(rng_of("udpos", "train"), n_train), ud_sentences(rng_of("udpos", "dev"), n_eval)
    ner = {split: [render(_entity_clause(rng_of("panx", split))) for _ in range(n)]
           for split, n in (("train", n_train), ("dev", n_eval))}
    for task, train, dev, tag in (("udpos", pos_train, pos_dev, "upos"), ("panx", ner["train"], ner["dev"], "bio")):
        _write(root, f"xtreme/{task}/train-en.tsv", _token_tsv([(t["form"], t[tag]) for t in s] for s in train))
        for lang in langs:
            sents = [zip(tr([t["form"] for t in s], lang), [t[tag] for t in s]) for s in dev]
            _write(root, f"xtreme/{task}/dev-{lang}.tsv", _token_tsv(sents))


def _write_xtreme_qa(root: Path, rng_of, langs: Sequence[str], n_train: int, n_eval: int) -> None:
    """xquad and mlqa (parallel: same ids in every language), tydiqa (per-language content, repeated ids)."""
    for lang in langs:
        ids = [_hexid("xquad", i, length=24) for i in range(n_eval)]
        doc = squad_doc(rng_of("xquad"), n_eval, lang, ids)
        _write(root, f"xtreme/xquad/xquad.{lang}.json", json.dumps(doc, ensure_ascii=False))
        for split in ("dev", "test"):
            ids = [_hexid("mlqa", split, i, length=40) for i in range(n_eval)]
            doc = squad_doc(rng_of("mlqa", split), n_eval, lang, ids)
            _write(root, f"xtreme/mlqa/MLQA_V1/{split}/{split}-context-{lang}-question-{lang}.json",
                   json.dumps(doc, ensure_ascii=False))
        for split in ("train", "dev"):
            n = n_train if (split, lang) == ("train", "en") else n_eval
            doc = squad_doc(rng_of("tydiqa", split, lang), n, lang, [str(i % 5) for i in range(n)])
            _write(root, f"xtreme/tydiqa/tydiqa-goldp-v1.1-{split}/tydiqa.goldp.{lang}.{split}.json",
                   json.dumps(doc, ensure_ascii=False))


def _write_xtreme_retrieval(root: Path, rng_of, langs: Sequence[str], n_eval: int) -> None:
    """bucc2018 (dev: half the sources have their translation among the English sentences) and tatoeba."""
    for lang in (lang for lang in langs if lang != "en"):
        rng = rng_of("bucc2018", lang)
        sources = [words(clause(rng)) for _ in range(n_eval)]
        aligned = sorted(rng.sample(range(n_eval), n_eval // 2))
        targets = [(i, sources[i]) for i in aligned]
        targets += [(None, words(clause(rng))) for _ in range(n_eval - len(aligned))]
        rng.shuffle(targets)
        src_id = [f"{lang}-{i + 1:09d}" for i in range(n_eval)]
        tgt_id = [f"en-{j + 1:09d}" for j in range(len(targets))]
        gold = sorted((src_id[i], tgt_id[j]) for j, (i, _) in enumerate(targets) if i is not None)
        base = f"xtreme/bucc2018/{lang}-en.dev"
        _write(root, f"{base}.{lang}", _lines((src_id[i], text(s, lang)) for i, s in enumerate(sources)))
        _write(root, f"{base}.en", _lines((tgt_id[j], text(s)) for j, (_, s) in enumerate(targets)))
        _write(root, f"{base}.gold", _lines(gold))
        pairs = [words(clause(rng_of("tatoeba", lang))) for _ in range(n_eval)]
        _write(root, f"xtreme/tatoeba/{lang}-en.{lang}", "".join(text(p, lang) + "\n" for p in pairs))
        _write(root, f"xtreme/tatoeba/{lang}-en.en", "".join(text(p) + "\n" for p in pairs))


def _write_xcopa(root: Path, rng_of, langs: Sequence[str], n_train: int, n_eval: int) -> None:
    def as_text(records: list[dict[str, Any]], lang: str) -> str:
        fields = ("premise", "choice1", "choice2")
        return _jsonl({**r, **{f: text(r[f], lang) for f in fields}} for r in records)

    _write(root, "xtreme/xcopa/train-en.jsonl", as_text(copa_items(rng_of("xcopa", "train"), n_train), "en"))
    for split in ("val", "test"):
        records = copa_items(rng_of("xcopa", split), n_eval)
        for lang in langs:
            _write(root, f"xtreme/xcopa/{split}-{lang}.jsonl", as_text(records, lang))


def _snli(rng: random.Random, n: int) -> str:
    items = nli_items(rng, n)
    for at in sorted(rng.sample(range(n + 1), max(1, n // 16)), reverse=True):
        items.insert(at, (*nli_items(rng, 1)[0][:2], "-"))
    records = [{"annotator_labels": [y] if y != "-" else ["neutral", "entailment"],
                "captionID": f"{100000 + i}.jpg#0", "gold_label": y,
                "pairID": f"{100000 + i}.jpg#0r1{y[0] if y != '-' else 'x'}",
                "sentence1": text(a), "sentence2": text(b)} for i, (a, b, y) in enumerate(items)]
    return _jsonl(records)


def _cosmos(rng: random.Random, n: int, split: str) -> str:
    rows = []
    for i in range(n):
        c1 = clause(rng, place=0.0)
        c2 = clause(rng, place=0.5)
        question = ["what", "did", *c1.subj.words(), c1.verb, "?"]
        wrong = [["the", o] for o in OBJECTS if o not in (c1.obj.noun, c2.obj.noun)]
        choices, label = _choices(rng, c1.obj.words(), wrong, 4)
        rows.append([f"fixture_{split}_{i}", text(words(c1) + words(c2)), text(question), *map(text, choices), label])
    return _csv(["id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label"], rows)


def _csqa(rng: random.Random, n: int, split: str) -> str:
    records = []
    for i in range(n):
        subj, obj = _np(rng, SUBJECTS, adj=0.0), rng.choice(OBJECTS)
        choices, label = _choices(rng, HOME[obj], PLACES, 5)
        question = text(["where", "would", *subj.words(), "find", "the", obj, "?"])
        records.append({"id": _hexid("csqa", split, i), "question": question,
                        "question_concept": obj, "choices": {"label": list("ABCDE"), "text": choices},
                        "answerKey": "ABCDE"[label]})
    return _jsonl(records)


def _siqa(rng: random.Random, n: int) -> str:
    records = []
    for _ in range(n):
        name, obj, verb = rng.choice(PERSONS)[0], rng.choice(OBJECTS), rng.choice(("take", "find", "hold"))
        wrong = [["use", "the", o] for o in OBJECTS]
        choices, label = _choices(rng, ["use", "the", obj], wrong, 3)
        records.append({"context": text(words(Clause(NP(name=(name,)), verb, NP(obj)))),
                        "question": text(["what", "will", name, "want", "to", "do", "next", "?"]),
                        **{f"answer{k}": text(c) for k, c in zip("ABC", choices)}, "correct": "ABC"[label]})
    return _jsonl(records)


def _write_intermediate(root: Path, rng_of, n_train: int, n_eval: int) -> None:
    sizes = {"train": n_train, "dev": n_eval, "test": n_eval}
    for split, n in sizes.items():
        _write(root, f"intermediate/snli/snli_1.0_{split}.jsonl", _snli(rng_of("snli", split), n))
        sentences = ud_sentences(rng_of("ewt", split), n)
        _write(root, f"intermediate/ud_english_ewt/en_ewt-ud-{split}.conllu",
               conllu_text(sentences, f"fixture-{split}"))
    for split, name in (("train", "train"), ("dev", "valid")):
        _write(root, f"intermediate/cosmosqa/{name}.csv", _cosmos(rng_of("cosmosqa", split), sizes[split], split))
        _write(root, f"intermediate/commonsenseqa/{split}_rand_split.jsonl",
               _csqa(rng_of("csqa", split), sizes[split], split))
    for split, name in (("train", "trn"), ("dev", "dev"), ("test", "tst")):
        _write(root, f"intermediate/siqa/socialIQa_v1.4_{name}.jsonl", _siqa(rng_of("siqa", split), sizes[split]))


def make_fixture_data_dir(root: Path, *, seed: int = 0, n_train: int = 64, n_eval: int = 24,
                          languages: Sequence[str] = ("en", "de", "es", "sw")) -> Path:
    """Write a miniature data root in the real layouts and return ``root``.

    Parameters
    ----------
    root : Path
        Folder to write into (created if needed); it receives ``xtreme/`` and ``intermediate/``.
    seed : int
        Same seed and sizes → byte-identical files.
    n_train : int
        Examples (sentences, questions) in each English training file.
    n_eval : int
        Examples in each evaluation file, per language (at least 2).
    languages : sequence of str
        Language codes of the evaluation files; English is always written.

    Returns
    -------
    Path
        ``root``. Files (``{l}`` over ``languages`` ∪ {en}, ``{x}`` over the non-English ones):
        ``xtreme/xnli/dev-{l}.tsv``, ``xtreme/pawsx/dev-{l}.tsv``,
        ``xtreme/{udpos,panx}/{train-en,dev-{l}}.tsv``, ``xtreme/xquad/xquad.{l}.json``,
        ``xtreme/mlqa/MLQA_V1/{dev,test}/{dev,test}-context-{l}-question-{l}.json``,
        ``xtreme/tydiqa/tydiqa-goldp-v1.1-{train,dev}/tydiqa.goldp.{l}.{train,dev}.json``
        (English train: ``n_train`` questions), ``xtreme/bucc2018/{x}-en.dev.{x,en,gold}``
        (``n_eval`` sentences a side, ``n_eval // 2`` gold pairs),
        ``xtreme/tatoeba/{x}-en.{x,en}``, ``xtreme/xcopa/{train-en,val-{l},test-{l}}.jsonl``;
        ``intermediate/snli/snli_1.0_{train,dev,test}.jsonl`` (plus ``n // 16`` rows labelled
        "-"), ``intermediate/cosmosqa/{train,valid}.csv``,
        ``intermediate/commonsenseqa/{train,dev}_rand_split.jsonl``,
        ``intermediate/siqa/socialIQa_v1.4_{trn,dev,tst}.jsonl``,
        ``intermediate/ud_english_ewt/en_ewt-ud-{train,dev,test}.conllu``.

    Raises
    ------
    ValueError
        For sizes below 1 (``n_eval`` below 2) or a malformed language code.
    """
    if n_train < 1 or n_eval < 2:
        raise ValueError(f"need n_train >= 1 and n_eval >= 2, got {n_train} and {n_eval}")
    bad = [lang for lang in languages if not isinstance(lang, str) or not _LANG.fullmatch(lang)]
    if bad:
        raise ValueError(f"language codes must be 2-3 letters, got {bad}")
    langs = ["en"] + sorted(set(languages) - {"en"})
    root = Path(root)

    def rng_of(*parts: object) -> random.Random:
        return _rng(seed, *parts)

    _write_xtreme_text(root, rng_of, langs, n_train, n_eval)
    _write_xtreme_qa(root, rng_of, langs, n_train, n_eval)
    _write_xtreme_retrieval(root, rng_of, langs, n_eval)
    _write_xcopa(root, rng_of, langs, n_train, n_eval)
    _write_intermediate(root, rng_of, n_train, n_eval)
    return root
