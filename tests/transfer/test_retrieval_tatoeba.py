"""Tatoeba layouts (issue 14, item 1): LASER's line-parallel files read, xtreme's sorted ones refused.

The planted encoder embeds a sentence as the bag of its words over one shared vocabulary;
each pair shares exactly one word (its "name") and the two languages share no other word, so
a translation is the only candidate with a positive cosine: accuracy 100 on a line-parallel
pair, near chance when the pairing is broken.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from taskdiff.errors import DataError
from taskdiff.transfer.data import load_role
from taskdiff.transfer.readers import get_reader, read_xtreme, xtreme_files
from taskdiff.transfer.readers.xtreme import TATOEBA_LANG3
from taskdiff.transfer.retrieval_eval import _tatoeba
from taskdiff.transfer.tasks import get_task

N = 40


def _pairs(n: int = N, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    names = [f"nm{rng.randrange(10**6):06d}x{i}" for i in range(n)]
    german = [f"das Ding {w} ist da" for w in names]
    english = [f"the thing {w} is here" for w in names]
    order = list(range(n))
    rng.shuffle(order)  # neither side sorted
    return [german[i] for i in order], [english[i] for i in order]


class SharedVocabEncoder:
    """Bag of words over a vocabulary that grows across calls (both sides in one space)."""

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def __call__(self, texts):
        for text in texts:
            for w in text.split():
                self.vocab.setdefault(w, len(self.vocab))
        dim = 4096
        if len(self.vocab) > dim:
            raise AssertionError("test vocabulary too large")
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in text.split():
                out[i, self.vocab[w]] += 1
        return out


def write_laser(root: Path, l3: str = "deu", seed: int = 0) -> tuple[list[str], list[str]]:
    other, english = _pairs(seed=seed)
    folder = root / "laser" / "tatoeba" / "v1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"tatoeba.{l3}-eng.{l3}").write_text("".join(t + "\n" for t in other), encoding="utf-8")
    (folder / f"tatoeba.{l3}-eng.eng").write_text("".join(t + "\n" for t in english), encoding="utf-8")
    return other, english


def write_xtreme_sorted(root: Path, lang: str = "de", seed: int = 0) -> None:
    """xtreme's utils_preprocess.tatoeba_preprocess: copy the other side, sort the English side."""
    other, english = _pairs(seed=seed)
    folder = root / "xtreme" / "tatoeba"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{lang}-en.{lang}").write_text("".join(t + "\n" for t in other), encoding="utf-8")
    (folder / f"{lang}-en.en").write_text("".join(t + "\n" for t in sorted(english)), encoding="utf-8")


def test_planted_encoder_scores_100_on_laser_files(tmp_path):
    write_laser(tmp_path)
    rows = read_xtreme("tatoeba", tmp_path, "de", "test")
    assert rows[0]["id"] == "deu-0" and rows[0]["gold"] == "en-0"
    assert _tatoeba(rows, SharedVocabEncoder())["accuracy"] == 100.0
    # the same encoder on a broken pairing (targets rotated by one) is at chance: 0 of 40
    tgt = [r for r in rows if r["side"] == "target"]
    rotated = [dict(r, text=tgt[(i + 1) % len(tgt)]["text"]) for i, r in enumerate(tgt)]
    broken = [r for r in rows if r["side"] == "source"] + rotated
    assert _tatoeba(broken, SharedVocabEncoder())["accuracy"] == 0.0


def test_xtreme_sorted_layout_is_refused(tmp_path):
    write_xtreme_sorted(tmp_path)
    path = tmp_path / "xtreme" / "tatoeba" / "de-en.de"
    with pytest.raises(DataError, match=r"laser/tatoeba/v1") as info:
        get_reader("tatoeba")(path)
    assert info.value.path.endswith("de-en.en") and "sorted" in str(info.value)
    with pytest.raises(DataError, match="gold order lives in LASER"):
        read_xtreme("tatoeba", tmp_path, "de", "test")  # no LASER file: xtreme's, refused


def test_line_parallel_xtreme_layout_still_reads(tmp_path):
    other, english = _pairs()
    folder = tmp_path / "xtreme" / "tatoeba"
    folder.mkdir(parents=True)
    (folder / "de-en.de").write_text("".join(t + "\n" for t in other), encoding="utf-8")
    (folder / "de-en.en").write_text("".join(t + "\n" for t in english), encoding="utf-8")
    rows = read_xtreme("tatoeba", tmp_path, "de", "test")
    assert rows[0]["id"] == "de-0" and _tatoeba(rows, SharedVocabEncoder())["accuracy"] == 100.0


def test_short_sorted_pair_is_not_taken_for_the_sorted_layout(tmp_path):
    (tmp_path / "de-en.de").write_text("b\na\nc\n", encoding="utf-8")  # 3 < 4 lines
    (tmp_path / "de-en.en").write_text("A\nB\nC\n", encoding="utf-8")
    assert len(get_reader("tatoeba")(tmp_path / "de-en.de")) == 6


def test_builtin_task_prefers_laser_files_under_the_data_dir(tmp_path):
    write_laser(tmp_path)
    write_xtreme_sorted(tmp_path)  # present too (as in ../shared/data): not read
    task = get_task("tatoeba")
    data = load_role(task, "evaluation", "de", tmp_path)
    assert {r["id"] for r in data.rows if r["side"] == "source"} == {f"deu-{i}" for i in range(N)}
    assert _tatoeba(data.rows, SharedVocabEncoder())["accuracy"] == 100.0
    only_laser = tmp_path / "only"
    write_laser(only_laser, "cmn")  # no xtreme/ folder at all; cmn -> zh as xtreme maps it
    rows = load_role(task, "evaluation", "zh", only_laser).rows
    assert rows[0]["id"] == "cmn-0" and len(rows) == 2 * N


def test_three_letter_codes_are_xtremes_mapping(tmp_path):
    # utils_preprocess.py lang3_dict (xtreme commit 838c13b), inverted; a few spot checks
    assert (TATOEBA_LANG3["zh"], TATOEBA_LANG3["fa"], TATOEBA_LANG3["sw"], TATOEBA_LANG3["de"]) == (
        "cmn", "pes", "swh", "deu")
    assert len(TATOEBA_LANG3) == 41 and len(set(TATOEBA_LANG3.values())) == 41
    assert set(get_task("tatoeba").languages) <= set(TATOEBA_LANG3)
    for l3 in ("spa", "swh", "xyz"):  # xyz: not a mapped code, not part of the layout
        write_laser(tmp_path, l3)
    assert sorted(lang for _, lang in xtreme_files("tatoeba", tmp_path)) == ["es", "sw"]


# --------------------------------------------------------------------------- real slice

def char_ngrams(texts: list[str], n: int = 3, dim: int = 2**16) -> np.ndarray:
    """Planted 'encoder' for the real slice: hashed character trigrams (names, numbers and
    cognates are shared by a sentence and its translation). zlib.crc32: stable across runs."""
    import zlib

    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        t = " " + " ".join(text.lower().split()) + " "
        for j in range(len(t) - n + 1):
            out[i, zlib.crc32(t[j:j + n].encode("utf-8")) % dim] += 1
    return out


@pytest.mark.slow
def test_real_laser_slice_planted_encoder_far_above_chance(shared_data):
    """On the real LASER files (1,000 pairs, chance 0.1 %) trigram overlap is far above chance.

    Measured 2026-12-05 (this 2-core machine): de 16.4, es 17.6, fr 17.0, nl 27.6, i.e. more
    than 100 times chance; the bound is 10 (100 x chance). xtreme's files, whose English side
    is sorted, would put any encoder at chance if read as parallel; they are refused instead.
    """
    task = get_task("tatoeba")
    for lang in ("de", "es", "fr", "nl"):
        rows = load_role(task, "evaluation", lang, shared_data).rows
        assert rows[0]["id"].startswith(TATOEBA_LANG3[lang])
        assert _tatoeba(rows, char_ngrams)["accuracy"] > 10.0, lang
    refused = 0
    for (split, lang), path in sorted(xtreme_files("tatoeba", shared_data).items()):
        xtreme_path = shared_data / "xtreme" / "tatoeba" / f"{lang}-en.{lang}"
        with pytest.raises(DataError, match="laser/tatoeba/v1"):
            get_reader("tatoeba")(xtreme_path)
        refused += 1
        assert "laser/tatoeba/v1" in str(path)
    assert refused == 41
