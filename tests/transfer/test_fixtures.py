"""The project-made fixture data: real layouts, expected counts, determinism, speed."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from taskdiff.testing import make_fixture_data_dir
from taskdiff.transfer.readers import (
    INTERMEDIATE_LAYOUTS, XTREME_LAYOUTS, intermediate_files, read_conllu_sentences, read_intermediate, read_xtreme,
    xtreme_files,
)
from taskdiff.transfer.formats import format_names, get_format

FORMATS = {name: get_format(name).columns for name in format_names()}

N_TRAIN, N_EVAL = 20, 8
LANGS = ("en", "de", "sw")
OTHERS = ("de", "sw")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), seed=3, n_train=N_TRAIN, n_eval=N_EVAL, languages=LANGS)


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def expected_xtreme() -> dict[str, dict[tuple[str, str], int]]:
    """(split, language) → number of rows, per XTREME task."""
    every = {lang: N_EVAL for lang in LANGS}
    return {
        "xnli": {("validation", lang): n for lang, n in every.items()},
        "pawsx": {("validation", lang): n for lang, n in every.items()},
        "udpos": {("train", "en"): N_TRAIN, **{("validation", lang): n for lang, n in every.items()}},
        "panx": {("train", "en"): N_TRAIN, **{("validation", lang): n for lang, n in every.items()}},
        "xquad": {(split, lang): N_EVAL for split in ("validation", "test") for lang in LANGS},
        "mlqa": {(split, lang): N_EVAL for split in ("validation", "test") for lang in LANGS},
        "tydiqa": {**{("train", lang): N_TRAIN if lang == "en" else N_EVAL for lang in LANGS},
                   **{(split, lang): N_EVAL for split in ("validation", "test") for lang in LANGS}},
        "bucc2018": {("validation", lang): 2 * N_EVAL for lang in OTHERS},
        "tatoeba": {("test", lang): 2 * N_EVAL for lang in OTHERS},
        "xcopa": {("train", "en"): N_TRAIN, **{(split, lang): N_EVAL for split in ("validation", "test") for lang in LANGS}},
    }


EXPECTED_INTERMEDIATE = {
    "snli": {"train": N_TRAIN, "validation": N_EVAL, "test": N_EVAL},
    "cosmosqa": {"train": N_TRAIN, "validation": N_EVAL},
    "commonsenseqa": {"train": N_TRAIN, "validation": N_EVAL},
    "siqa": {"train": N_TRAIN, "validation": N_EVAL, "test": N_EVAL},
    "ud_english_ewt": {"train": N_TRAIN, "validation": N_EVAL, "test": N_EVAL},
}


def format_of(rows: list[dict]) -> str:
    return next(fmt for fmt, cols in FORMATS.items() if tuple(rows[0]) == cols)


@pytest.mark.parametrize("task", sorted(XTREME_LAYOUTS))
def test_every_xtreme_file_reads_with_the_expected_counts(root, task):
    expected = expected_xtreme()[task]
    assert {key: None for key in xtreme_files(task, root)} == {key: None for key in expected}
    for (split, lang), n in expected.items():
        rows = read_xtreme(task, root, lang, split)
        assert len(rows) == n, (task, split, lang)
        assert len({format_of(rows)}) == 1


@pytest.mark.parametrize("name", sorted(EXPECTED_INTERMEDIATE))
def test_every_intermediate_file_reads_with_the_expected_counts(root, name):
    assert {split for split, _ in intermediate_files(name, root)} == set(EXPECTED_INTERMEDIATE[name])
    for split, n in EXPECTED_INTERMEDIATE[name].items():
        assert len(read_intermediate(name, root, split)) == n


def test_snli_fixture_has_rows_to_drop(root):
    raw = (root / "intermediate/snli/snli_1.0_train.jsonl").read_text().splitlines()
    assert len(raw) == N_TRAIN + max(1, N_TRAIN // 16)


def test_translations_share_ids_and_labels_across_languages(root):
    for task, split in (("xnli", "validation"), ("pawsx", "validation"), ("xcopa", "test"), ("xquad", "test")):
        by_lang = {lang: read_xtreme(task, root, lang, split) for lang in LANGS}
        keys = {lang: [(r["id"], r.get("label")) for r in rows] for lang, rows in by_lang.items()}
        assert keys["de"] == keys["en"] == keys["sw"], task
        assert by_lang["de"][0] != by_lang["en"][0]  # the text is "translated"
    en, de = (read_xtreme("udpos", root, lang, "validation") for lang in ("en", "de"))
    assert [r["tags"] for r in en] == [r["tags"] for r in de]


def test_labels_are_balanced_and_learnable(root):
    rows = read_intermediate("snli", root, "train")
    assert {r["label"] for r in rows} == {"entailment", "neutral", "contradiction"}
    negated = [r for r in rows if " not " in r["text_b"]]
    assert negated and all(r["label"] == "contradiction" for r in negated)
    mc = read_intermediate("cosmosqa", root, "train")
    assert all(r["choices"][r["label"]] in r["context"] for r in mc)


def test_bucc_gold_pairs_are_translations(root):
    rows = read_xtreme("bucc2018", root, "de", "validation")
    gold = [r for r in rows if r["side"] == "source" and r["gold"]]
    assert len(gold) == N_EVAL // 2
    assert len({r["gold"] for r in gold}) == len(gold)


def test_conllu_fixture_supports_probing(root):
    sentences = read_conllu_sentences(root / "intermediate/ud_english_ewt/en_ewt-ud-train.conllu")
    assert len(sentences) == N_TRAIN
    feats = [t["feats"] or {} for s in sentences for t in s]
    assert any("Tense" in f for f in feats) and any(f.get("Number") == "Plur" for f in feats)
    for sentence in sentences:
        assert sum(t["head"] == 0 for t in sentence) == 1
        assert {t["deprel"] for t in sentence} >= {"root", "nsubj", "punct"}
        sentence.to_tree()


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    start = time.perf_counter()
    a = digest(make_fixture_data_dir(tmp_path / "a", seed=1))
    elapsed = time.perf_counter() - start
    b = digest(make_fixture_data_dir(tmp_path / "b", seed=1))
    c = digest(make_fixture_data_dir(tmp_path / "c", seed=2))
    assert a == b and a != c and a.keys() == c.keys()
    assert elapsed < 2.0  # well under 1 s when the machine is not shared


def test_bad_arguments_raise_value_error(tmp_path):
    with pytest.raises(ValueError):
        make_fixture_data_dir(tmp_path, n_eval=1)
    with pytest.raises(ValueError):
        make_fixture_data_dir(tmp_path, languages=("en", "../x"))
