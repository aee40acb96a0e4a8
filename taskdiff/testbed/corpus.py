"""The multilingual pretraining corpus: monolingual text in every language, a little code-switching.

Each language gets its own independently sampled sentences (the corpus is *not* parallel:
nothing tells the encoder which sentence translates which). What can align the languages:

* the shared grammar (the same distribution of meanings and of constructions);
* the anchors (names, numbers), spelt the same in every language with ``share_anchors``;
* code-switching: a fraction ``code_switch`` of the sentences borrow, for each content word
  with probability ``switch_words``, the stem of another language (inflected by the host),
  as bilingual speakers do; this is the main alignment signal and the knob to turn it off.

Lines are single sentences, short passages of 2-4 sentences (the length of the QA
contexts), and in-situ wh-questions (the form of the QA questions).
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from taskdiff.testbed import grammar as G
from taskdiff.testbed.languages import Lexicon, realize


class CorpusConfig(BaseModel):
    """Size and mixture of the pretraining corpus."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sentences_per_language: int = Field(12000, ge=10)
    code_switch: float = Field(0.3, ge=0, le=1, description="fraction of sentences with borrowed stems")
    switch_words: float = Field(0.5, ge=0, le=1, description="in such a sentence, fraction of content words borrowed")
    p_passage: float = Field(0.1, ge=0, le=1)
    p_question: float = Field(0.1, ge=0, le=1)
    dictionary: float = Field(0.0, ge=0, le=1, description="fraction of lines that are glossaries: pairs of "
                              "translation-equivalent words (stems, function words) of two languages")
    parallel: float = Field(0.0, ge=0, le=1, description="fraction of lines that are a sentence followed by "
                            "its translation into another language (XLM's translation language modelling)")


def question_of(clause: G.Clause, target: str, rng) -> G.Clause:
    """``clause`` with its subject (``"s"``) or object (``"o"``) replaced by a wh-word."""
    arg = clause.subj if target == "s" else clause.obj
    if arg.det == "num":
        wh = G.NP(head=arg.head, det="how_many", plural=True, adjs=arg.adjs)
    else:
        wh = G.NP(head="", det="who" if (arg.is_name or arg.head in G.ANIMATE) else "what")
    return replace(clause, subj=wh) if target == "s" else replace(clause, obj=wh)


def glossary_line(rng, host: Lexicon, others: list[Lexicon], n: int = 4) -> str:
    """``n`` entries ``host_word other_word`` (same concept), separated by commas."""
    entries = []
    for _ in range(n):
        other = G.choice(rng, others)
        if rng.random() < 0.25:
            key = G.choice(rng, tuple(host.function))
            a, b = host.function[key], other.function[key]
        else:
            key = G.choice(rng, tuple(k for k in host.stems if k not in G.NAMES + G.NUMBERS))
            a, b = host.stems[key], other.stems[key]
        entries.append(f"{a} {b}" if rng.random() < 0.5 else f"{b} {a}")
    return " , ".join(entries) + " ."


def corpus_lines(lexicons: dict[str, Lexicon], cfg: CorpusConfig, seed: int,
                 sampler: G.SamplerConfig | None = None) -> list[str]:
    """The pretraining lines of every language (shuffled together, deterministic for ``seed``).

    ``sampler`` carries the world's preferences (default: uniform choices).
    """
    codes = sorted(lexicons)
    lines: list[str] = []
    sampler = sampler or G.SamplerConfig()
    for code in codes:
        rng = G.rng_for(seed, "corpus", code)
        others = [lexicons[c] for c in codes if c != code]
        for _ in range(cfg.sentences_per_language):
            switch = None
            if others and rng.random() < cfg.code_switch:
                rs = G.rng_for(seed, "switch", code, int(rng.integers(1 << 30)))
                borrowed: dict[str, Lexicon | None] = {}

                def switch(concept, rs=rs, borrowed=borrowed):
                    if concept not in borrowed:
                        borrowed[concept] = G.choice(rs, others) if rs.random() < cfg.switch_words else None
                    return borrowed[concept]
            u = rng.random()
            if others and rng.random() < cfg.dictionary:
                text = glossary_line(rng, lexicons[code], others)
            elif others and rng.random() < cfg.parallel:
                meaning = G.sample_sentence(rng, sampler)
                other = G.choice(rng, others)
                pair = [realize(meaning, lexicons[code]).text, realize(meaning, other).text]
                text = " ".join(pair if rng.random() < 0.5 else pair[::-1])
            elif u < cfg.p_passage:
                n = int(rng.integers(2, 5))
                text = " ".join(realize(G.Sentence((G.sample_clause(rng, replace(sampler, p_rel=0.05)),)),
                                        lexicons[code], switch=switch).text for _ in range(n))
            elif u < cfg.p_passage + cfg.p_question:
                clause = G.sample_clause(rng, replace(sampler, p_rel=0.05))
                target = "o" if clause.obj is not None and rng.random() < 0.5 else "s"
                text = realize(question_of(clause, target, rng), lexicons[code], punct="?", switch=switch).text
            else:
                text = realize(G.sample_sentence(rng, sampler), lexicons[code], switch=switch).text
            lines.append(text)
    order = G.rng_for(seed, "corpus-order").permutation(len(lines))
    return [lines[i] for i in order]
