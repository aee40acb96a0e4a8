"""Testbed languages: a lexicon, a morphology and a word order per language, and the realiser.

Every language realises the meanings of :mod:`taskdiff.testbed.grammar`; languages differ
only where their :class:`LanguageSpec` says so:

* **lexicon**: each language has its own word forms, drawn from its own syllable inventory
  (the base language ``en`` uses English spellings); only the *anchors* (names, numbers)
  are spelt the same everywhere, and only when ``share_anchors`` is on;
* **word order**: ``SVO``, ``SOV`` or ``VSO``; adjectives before or after the noun; relative
  clauses before or after it;
* **morphology**: subject-verb number agreement on or off, accusative case marking on or
  off (a suffix on the object's head noun or name), plural and tense suffixes.

:func:`realize` turns a :class:`~taskdiff.testbed.grammar.Sentence` (or a clause) into
annotated :class:`Token` s: form, UPOS, head, dependency relation, features, the concept it
spells, and the NP it belongs to (for QA answer spans). With a ``switch`` map, content
words take another language's stem with the host's inflection: the code-switching of the
pretraining corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskdiff.testbed import grammar as G

WordOrder = Literal["SVO", "SOV", "VSO"]


class LanguageSpec(BaseModel):
    """How one testbed language differs from the others (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[a-z]{2,3}$")
    word_order: WordOrder = "SVO"
    adj_position: Literal["pre", "post"] = "pre"
    rel_position: Literal["pre", "post"] = "post"
    agreement: bool = True
    case_marking: bool = False
    share_anchors: bool = True
    english_forms: bool = False
    cognates: float = Field(0.0, ge=0, le=1, description="fraction of concepts and function words spelt as in "
                            "the base language (cognates / loans): lexical overlap beyond the anchors")
    description: str = ""


#: The default languages: the base (``en``, English spellings) and three others, from distant
#: (``xa``: every structural difference, few cognates) to close (``xc``: the base's word order,
#: no agreement, many cognates).
DEFAULT_LANGUAGES = (
    LanguageSpec(code="en", word_order="SVO", adj_position="pre", rel_position="post", agreement=True,
                 case_marking=False, english_forms=True, description="base: English-like SVO, agreement"),
    LanguageSpec(code="xa", word_order="SOV", adj_position="post", rel_position="pre", agreement=True,
                 case_marking=True, cognates=0.2,
                 description="distant: SOV, postnominal adjectives, prenominal relatives, case, 20% cognates"),
    LanguageSpec(code="xb", word_order="VSO", adj_position="post", rel_position="post", agreement=False,
                 case_marking=True, cognates=0.3,
                 description="VSO, postnominal adjectives, case, no agreement, 30% cognates"),
    LanguageSpec(code="xc", word_order="SVO", adj_position="pre", rel_position="post", agreement=False,
                 case_marking=False, cognates=0.4,
                 description="close relative: SVO like the base, no agreement, 40% cognates"),
)

# ----------------------------------------------------------------------------- lexicons
_EN_PAST = {"see": "saw", "find": "found", "hold": "held", "run": "ran", "swim": "swam", "sing": "sang",
            "sleep": "slept", "feed": "fed"}
_EN_FUNCTION = {"the": "the", "a": "a", "every": "every", "all": "all", "some": "some", "no": "no",
                "that": "that", "and": "and", "who": "who", "what": "what", "how_many": "how many"}
_CONSONANTS = "ptkbdgmnlrsvzfhjw"
_VOWELS = "aeiou"


def _en_plural(stem: str) -> str:
    return stem + ("es" if stem.endswith(("s", "x", "ch", "sh")) else "s")


def _en_third(stem: str) -> str:
    if stem.endswith("y") and stem[-2:-1] not in _VOWELS:
        return stem[:-1] + "ies"
    return _en_plural(stem)


def _en_past(stem: str) -> str:
    if stem.endswith("e"):
        return stem + "d"
    if stem.endswith("y") and stem[-2:-1] not in _VOWELS:
        return stem[:-1] + "ied"
    return stem + "ed"


@dataclass
class Lexicon:
    """Word forms of one language: stems per concept, function words and affixes."""

    spec: LanguageSpec
    stems: dict[str, str]
    function: dict[str, str]
    affixes: dict[str, str]
    placeholder: str = "wug"
    english_stems: frozenset = field(default_factory=frozenset)

    @property
    def code(self) -> str:
        return self.spec.code

    def words(self) -> set[str]:
        """Every word-initial vocabulary piece: stems, function words, the placeholder, and
        (base language) the inflected forms."""
        out = set(self.stems.values()) | {w for f in self.function.values() for w in f.split()} | {self.placeholder}
        if self.spec.english_forms:  # inflected forms too: other languages' stems must not be their prefixes
            out |= {self.noun(self.stems[c], True, None) for c in G.ALL_NOUNS}
            out |= {self.verb(v, self.stems[v], t, p) for v in list(G.INTRANSITIVE) + list(G.TRANSITIVE)
                    for t in G.TENSES for p in (False, True)}
        return out

    # ------------------------------------------------------------------ inflection
    def noun(self, stem: str, plural: bool, case: str | None) -> str:
        """A noun form: plural and (with case marking) the accusative suffix."""
        if self.spec.english_forms:
            form = _en_plural(stem) if plural else stem
        else:
            form = stem + (self.affixes["pl"] if plural else "")
        if case == "acc" and self.spec.case_marking:
            form += self.affixes["acc"]
        return form

    def name(self, name: str, case: str | None) -> str:
        form = name if self.spec.share_anchors else self.stems[name]
        return form + (self.affixes["acc"] if case == "acc" and self.spec.case_marking else "")

    def number(self, digit: str) -> str:
        return digit if self.spec.share_anchors else self.stems[digit]

    def verb(self, concept: str, stem: str, tense: str, plural: bool) -> str:
        """A verb form: tense, and subject number when the language has agreement."""
        if self.spec.english_forms:  # English rules (irregular pasts for English stems only)
            if tense == "past":
                return _EN_PAST.get(concept, _en_past(stem)) if stem == concept else _en_past(stem)
            return _en_third(stem) if (self.spec.agreement and not plural) else stem
        form = stem + self.affixes[tense]
        if self.spec.agreement:
            form += self.affixes["pl_agr" if plural else "sg_agr"]
        return form


def _syllable(rng, consonants: str, vowels: str, closed: bool) -> str:
    s = G.choice(rng, consonants) + G.choice(rng, vowels)
    return s + G.choice(rng, consonants) if closed else s


def make_lexicon(spec: LanguageSpec, seed: int, taken: set[str] | None = None, base: "Lexicon | None" = None) -> Lexicon:
    """The lexicon of ``spec`` for a world seed; forms in ``taken`` (other languages') are avoided.

    With ``spec.cognates`` > 0 and a ``base`` lexicon, that fraction of the concepts and
    function words keeps the base language's spelling (drawn independently of the rest).
    """
    taken = set() if taken is None else set(taken)
    concepts = list(G.ALL_NOUNS) + list(G.ADJECTIVES) + list(G.INTRANSITIVE) + list(G.TRANSITIVE)
    anchors = list(G.NAMES) + list(G.NUMBERS)
    if spec.english_forms:
        stems = {c: c for c in concepts}
        function = dict(_EN_FUNCTION)
        affixes = {"acc": "em", "pl": "s", "pres": "", "past": "ed", "sg_agr": "s", "pl_agr": ""}
        if not spec.share_anchors:
            rng = G.rng_for(seed, "lexicon", spec.code, "anchors")
            for a in anchors:
                stems[a] = _fresh(rng, "ptkbdgmnlrsvz", "aeiou", 2, taken | set(stems.values()))
        return Lexicon(spec, stems, function, affixes, english_stems=frozenset(concepts))
    rng = G.rng_for(seed, "lexicon", spec.code)
    cognate_rng = G.rng_for(seed, "cognates", spec.code)
    k = int(rng.integers(8, 12))
    consonants = "".join(sorted(rng.choice(list(_CONSONANTS), size=k, replace=False)))
    vowels = "".join(sorted(rng.choice(list(_VOWELS), size=int(rng.integers(3, 6)), replace=False)))
    used = set(taken)
    affixes = {}
    for name in ("acc", "pl", "past", "sg_agr", "pl_agr"):
        while True:
            a = (G.choice(rng, vowels) + G.choice(rng, consonants)) if name != "pl" else _syllable(rng, consonants, vowels, False)
            if a not in affixes.values():
                affixes[name] = a
                break
    affixes["pres"] = ""
    stems: dict[str, str] = {}
    for c in concepts:
        stems[c] = _fresh(rng, consonants, vowels, int(rng.integers(2, 4)), used)
        if base is not None and cognate_rng.random() < spec.cognates:
            stems[c] = base.stems[c]
        used.add(stems[c])
    if not spec.share_anchors:
        for a in anchors:
            stems[a] = _fresh(rng, consonants, vowels, 2, used).capitalize() if a in G.NAMES else \
                _fresh(rng, consonants, vowels, 2, used)
            used.add(stems[a].lower())
    function = {}
    for f in G.FUNCTION_WORDS:
        function[f] = _fresh(rng, consonants, vowels, 1, used, closed=bool(rng.random() < 0.5))
        if base is not None and cognate_rng.random() < spec.cognates:
            function[f] = base.function[f]
        used.add(function[f])
    return Lexicon(spec, stems, function, affixes, placeholder=_fresh(rng, consonants, vowels, 2, used))


def _fresh(rng, consonants: str, vowels: str, n_syllables: int, used: set[str], closed: bool | None = None) -> str:
    """A new word of ``n_syllables`` (more if the space is crowded) not in ``used``."""
    for attempt in range(200):
        n = n_syllables + attempt // 50
        word = "".join(_syllable(rng, consonants, vowels, closed if closed is not None and i == n - 1
                                 else bool(rng.random() < 0.3)) for i in range(n))
        if word in used or word in G.NAMES or word.isdigit():
            continue
        # prefix-free word-initial pieces: WordPiece's longest match then always finds the stem
        if any(w.startswith(word) or word.startswith(w) for w in used):
            continue
        return word
    raise RuntimeError("could not find a fresh word form")  # pragma: no cover


def make_lexicons(specs, seed: int) -> dict[str, Lexicon]:
    """Lexicons of several languages (the first is the base) with pairwise disjoint forms, except
    the anchors and each language's cognates (base-language forms)."""
    out: dict[str, Lexicon] = {}
    taken: set[str] = set()
    for spec in specs:
        lex = make_lexicon(spec, seed, taken, base=next(iter(out.values()), None))
        taken |= {w.lower() for w in lex.words()}
        out[spec.code] = lex
    return out


# ----------------------------------------------------------------------------- realisation
@dataclass(eq=False)
class Token:
    """One realised word with its annotation (``head`` is another Token, None for the root)."""

    form: str
    upos: str
    deprel: str = "dep"
    head: "Token | None" = None
    feats: dict = field(default_factory=dict)
    concept: str | None = None
    path: str = ""          # the NP (or clause) it belongs to: "s", "o", "s.r.o", ...
    depth: int = 0          # relative-clause nesting of its constituent


@dataclass
class Realized:
    """A realised sentence: tokens (heads as indices, -1 for the root) and NP spans."""

    tokens: list[Token]
    heads: list[int]
    spans: dict[str, tuple[int, int]]   # NP path -> [start, end) token indices

    @property
    def forms(self) -> list[str]:
        return [t.form for t in self.tokens]

    @property
    def text(self) -> str:
        return " ".join(self.forms)

    def span_text(self, path: str) -> str:
        a, b = self.spans[path]
        return " ".join(self.forms[a:b])

    def char_start(self, index: int) -> int:
        """Character offset of token ``index`` in :attr:`text`."""
        return sum(len(f) + 1 for f in self.forms[:index])


class Realizer:
    """Realises meanings in one language; ``switch(concept) -> Lexicon | None`` borrows stems."""

    def __init__(self, lexicon: Lexicon, switch: Callable[[str], Lexicon | None] | None = None,
                 hide: frozenset | set = frozenset()):
        self.lex = lexicon
        self.spec = lexicon.spec
        self.switch = switch
        self.hide = frozenset(hide)

    def _stem(self, concept: str) -> str:
        if self.switch is not None:
            other = self.switch(concept)
            if other is not None and concept in other.stems:
                return other.stems[concept]
        return self.lex.stems[concept]

    def _function(self, name: str) -> str:
        """A function word; code-switching borrows function words too (quantifiers matter)."""
        if self.switch is not None:
            other = self.switch("fn:" + name)
            if other is not None:
                return other.function[name]
        return self.lex.function[name]

    def _hidden(self, form: str, path: str) -> str:
        return self.lex.placeholder if path in self.hide else form

    # ------------------------------------------------------------------ NPs
    def np(self, np_: G.NP, case: str | None, path: str, depth: int) -> tuple[list[Token], Token]:
        lex = self.lex
        if np_.det in ("who", "what"):  # a wh-word standing for the whole NP (questions)
            acc = case == "acc" and self.spec.case_marking
            head = Token(self._function(np_.det) + (lex.affixes["acc"] if acc else ""), "PRON",
                         feats={"PronType": "Int", **({"Case": "Acc"} if acc else {})}, concept=np_.det,
                         path=path, depth=depth)
            return [head], head
        if np_.is_name:
            head = Token(self._hidden(lex.name(np_.head, case), path + "#h"), "PROPN",
                         feats={"Number": "Sing", **({"Case": case.capitalize()} if case and self.spec.case_marking else {})},
                         concept=np_.head, path=path, depth=depth)
            return [head], head
        number = "Plur" if np_.plural else "Sing"
        feats = {"Number": number}
        if case and self.spec.case_marking:
            feats["Case"] = case.capitalize()
        head = Token(self._hidden(lex.noun(self._stem(np_.head), np_.plural, case), path + "#h"), "NOUN",
                     feats=feats, concept=np_.head, path=path, depth=depth)
        pre: list[Token] = []
        if np_.det == "how_many":
            for w in self._function("how_many").split():
                pre.append(Token(w, "DET", "det", head, feats={"PronType": "Int"}, concept="how_many", path=path,
                                 depth=depth))
        elif np_.det == "num":
            pre.append(Token(lex.number(np_.number), "NUM", "nummod", head, concept=np_.number, path=path, depth=depth))
        else:
            for w in self._function(np_.det).split():
                pre.append(Token(w, "DET", "det", head, concept=np_.det, path=path, depth=depth))
        adjs = [Token(self._hidden(self._stem(a), path + f"#a{i}"), "ADJ", "amod", head, concept=a, path=path, depth=depth)
                for i, a in enumerate(np_.adjs)]
        core = pre + (adjs + [head] if self.spec.adj_position == "pre" else [head] + adjs)
        if np_.rel is None:
            return core, head
        rel = self.relative(np_.rel, head, np_.plural, path + ".r", depth + 1)
        return (rel + core if self.spec.rel_position == "pre" else core + rel), head

    def relative(self, clause: G.Clause, noun: Token, plural: bool, path: str, depth: int) -> list[Token]:
        verb = self._verb(clause, plural, path, depth)
        verb.head, verb.deprel = noun, "acl:relcl"
        pron = Token(self._function("that"), "PRON", "nsubj", verb, concept="that", path=path, depth=depth)
        vp = [verb]
        if clause.obj is not None:
            obj, obj_head = self.np(clause.obj, "acc", path + ".o", depth)
            obj_head.head, obj_head.deprel = verb, "obj"
            vp = obj + [verb] if self.spec.word_order == "SOV" else [verb] + obj
        return vp + [pron] if self.spec.rel_position == "pre" else [pron] + vp

    def _verb(self, clause: G.Clause, plural: bool, path: str, depth: int) -> Token:
        feats = {"Tense": clause.tense.capitalize(), "VerbForm": "Fin"}
        if self.spec.agreement:
            feats["Number"] = "Plur" if plural else "Sing"
        form = self.lex.verb(clause.verb, self._stem(clause.verb), clause.tense, plural)
        return Token(self._hidden(form, path + "#v"), "VERB", "root", None, feats, clause.verb, path, depth)

    # ------------------------------------------------------------------ clauses
    def clause(self, clause: G.Clause, path: str = "") -> tuple[list[Token], Token]:
        """Tokens of a main clause (no final punctuation) and its verb."""
        subj_plural = clause.subj is not None and clause.subj.plural
        verb = self._verb(clause, subj_plural, path + "v", 0)
        subj, s_head = self.np(clause.subj, "nom", path + "s", 0)
        s_head.head, s_head.deprel = verb, "nsubj"
        parts = {"S": subj, "V": [verb], "O": []}
        if clause.obj is not None:
            obj, o_head = self.np(clause.obj, "acc", path + "o", 0)
            o_head.head, o_head.deprel = verb, "obj"
            parts["O"] = obj
        order = self.spec.word_order
        return [t for slot in order for t in parts[slot]], verb

    def sentence(self, sentence: G.Sentence | G.Clause, punct: str = ".") -> Realized:
        """Realise a sentence (clauses joined by the language's ``and``) with final punctuation."""
        clauses = sentence.clauses if isinstance(sentence, G.Sentence) else (sentence,)
        tokens: list[Token] = []
        root = None
        for i, c in enumerate(clauses):
            prefix = "" if len(clauses) == 1 else f"c{i}."
            part, verb = self.clause(c, prefix)
            if root is None:
                root = verb
            else:
                verb.head, verb.deprel = root, "conj"
                cc = Token(self._function("and"), "CCONJ", "cc", verb, concept="and", path=prefix)
                tokens.append(cc)
            tokens.extend(part)
        tokens.append(Token(punct, "PUNCT", "punct", root, path=""))
        return finish(tokens)


def finish(tokens: list[Token]) -> Realized:
    """Resolve head references to indices and collect the token span of every NP path."""
    index = {id(t): i for i, t in enumerate(tokens)}
    heads = [index[id(t.head)] if t.head is not None else -1 for t in tokens]
    spans: dict[str, tuple[int, int]] = {}
    for i, t in enumerate(tokens):
        parts = t.path.split(".") if t.path else []
        for k in range(1, len(parts) + 1):
            if parts[k - 1] in ("s", "o"):  # every enclosing NP ("s.r.o" is inside "s")
                p = ".".join(parts[:k])
                a, b = spans.get(p, (i, i + 1))
                spans[p] = (min(a, i), max(b, i + 1))
    return Realized(tokens, heads, spans)


def realize(meaning, lexicon: Lexicon, punct: str = ".", switch=None, hide=frozenset()) -> Realized:
    """Realise a sentence or clause in ``lexicon``'s language (see :class:`Realizer`)."""
    return Realizer(lexicon, switch, hide).sentence(meaning, punct)
