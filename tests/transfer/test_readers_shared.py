"""Every real file under ../shared/data loads with the counts its README states (slow).

Counts not in the README were measured on the files. SNLI: the README's "1,288 + 1,276" is
``wc -l`` (the last line has no newline); the files hold 1,289 + 1,277 pairs, of which
16 + 23 have gold_label "-" and are dropped, leaving 1,273 + 1,254.
"""

from __future__ import annotations

import pytest

from taskdiff.transfer.readers import (
    read_conllu_sentences, read_intermediate, read_xtreme, xtreme_files,
)

pytestmark = pytest.mark.slow

XNLI_LANGS = "ar bg de el en es fr hi ru sw th tr ur vi zh".split()
PAWSX_LANGS = "de en es fr ja ko zh".split()
XQUAD_LANGS = "ar de el en es hi ro ru th tr vi zh".split()
MLQA_COUNTS = {"ar": 517, "de": 512, "en": 1148, "es": 500, "hi": 507, "vi": 511, "zh": 504}
XCOPA_LANGS = "en et ht id it qu sw ta th tr vi zh".split()


def langs(task, root, split):
    return sorted(lang for (s, lang) in xtreme_files(task, root) if s == split)


def test_xnli_and_pawsx(shared_data):
    assert langs("xnli", shared_data, "validation") == XNLI_LANGS
    assert langs("pawsx", shared_data, "validation") == PAWSX_LANGS
    for lang in XNLI_LANGS:
        rows = read_xtreme("xnli", shared_data, lang, "validation")
        assert len(rows) == 2490
        assert {r["label"] for r in rows} == {"entailment", "neutral", "contradiction"}
    for lang in PAWSX_LANGS:
        assert len(read_xtreme("pawsx", shared_data, lang, "validation")) == 2000


def test_udpos(shared_data):
    assert len(read_xtreme("udpos", shared_data, "en", "train")) == 21253
    dev = langs("udpos", shared_data, "validation")
    assert len(dev) == 34
    for lang in dev:
        assert read_xtreme("udpos", shared_data, lang, "validation")


def test_qa(shared_data):
    assert langs("xquad", shared_data, "test") == XQUAD_LANGS
    ids = None
    for lang in XQUAD_LANGS:
        rows = read_xtreme("xquad", shared_data, lang, "test")
        assert len(rows) == 1190
        ids = ids or [r["id"] for r in rows]
        assert [r["id"] for r in rows] == ids  # translated: same ids in every language
    for lang, n in MLQA_COUNTS.items():
        assert len(read_xtreme("mlqa", shared_data, lang, "validation")) == n
    for lang, n in {"en": 3696, "ko": 1625, "sw": 2755}.items():
        assert len(read_xtreme("tydiqa", shared_data, lang, "train")) == n


def test_retrieval(shared_data):
    rows = read_xtreme("bucc2018", shared_data, "zh", "validation")
    source = [r for r in rows if r["side"] == "source"]
    assert (len(source), len(rows) - len(source)) == (8624, 13589)
    assert sum(bool(r["gold"]) for r in source) == 257
    tatoeba = langs("tatoeba", shared_data, "test")
    assert len(tatoeba) == 41
    sizes = [len(read_xtreme("tatoeba", shared_data, lang, "test")) // 2 for lang in tatoeba]
    assert max(sizes) == 1000 and sum(s == 1000 for s in sizes) == 33  # 8 smaller: jv ka kk ml sw ta te th


def test_xcopa(shared_data):
    assert len(read_xtreme("xcopa", shared_data, "en", "train")) == 400
    for lang in XCOPA_LANGS:
        assert len(read_xtreme("xcopa", shared_data, lang, "validation")) == 100
        assert len(read_xtreme("xcopa", shared_data, lang, "test")) == 500


def test_intermediate(shared_data):
    counts = {("snli", "validation"): 1273, ("snli", "test"): 1254, ("cosmosqa", "validation"): 2985,
              ("commonsenseqa", "validation"): 1221, ("siqa", "validation"): 1954, ("siqa", "test"): 2224,
              ("ud_english_ewt", "validation"): 2001, ("ud_english_ewt", "test"): 2077}
    for (name, split), n in counts.items():
        assert len(read_intermediate(name, shared_data, split)) == n, (name, split)
    ewt = shared_data / "intermediate/ud_english_ewt/en_ewt-ud-dev.conllu"
    assert len(read_conllu_sentences(ewt)) == 2001
