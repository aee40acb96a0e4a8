"""Retrieval conventions (issue 14, item 2): XTREME's layer numbering and pooling, BUCC de-duplication.

Reference: google-research/xtreme (commit 838c13b) third_party/evaluate_retrieval.py
(``all_layer_outputs[-num_layers:]`` then ``[specific_layer]``), scripts/run_tatoeba.sh
(mean pooling, layer 7 of 12 / 13 of 24), scripts/run_bucc2018.sh (``--pool_type cls``,
layer 7), third_party/utils_retrieve.py (``text_load_unify``, ``unique_embeddings``,
``read_sent2id``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from taskdiff.transfer.metrics import mine_pairs, mine_unique, repeated_sentences, retrieval_setup
from taskdiff.transfer.retrieval_eval import RETRIEVAL_CONVENTION, _bucc, retrieval_run_key

approx = pytest.approx


# --------------------------------------------------------------------------- layer and pooling

def test_defaults_are_xtremes_per_task():
    bucc, tatoeba = retrieval_setup(12, task="bucc"), retrieval_setup(12, task="tatoeba")
    assert (bucc["hidden_states_index"], bucc["xtreme_layer"], bucc["pooling"]) == (8, 7, "cls")
    assert (tatoeba["hidden_states_index"], tatoeba["xtreme_layer"], tatoeba["pooling"]) == (8, 7, "mean")
    large = retrieval_setup(24)
    assert (large["hidden_states_index"], large["xtreme_layer"]) == (14, 13)
    assert bucc["convention"] == tatoeba["convention"] == large["convention"] == "xtreme"
    # the other choices stay available, and are recorded as such
    mean_bucc = retrieval_setup(12, layer=7, pooling="mean", task="bucc")
    assert mean_bucc["hidden_states_index"] == 7 and mean_bucc["xtreme_layer"] == 6
    assert mean_bucc["convention"] == "custom" and not mean_bucc["pooling_is_default"]
    assert retrieval_setup(12, layer=0)["xtreme_layer"] is None  # the embedding output
    assert retrieval_setup(4)["convention"] == "xtreme-scaled"


def test_layer_index_equals_xtremes_slice_of_the_model_outputs():
    """hidden_states[index] is exactly XTREME's all_layer_outputs[-num_layers:][specific_layer]."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    for depth, specific_layer in ((12, 7), (24, 13)):
        cfg = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=depth, num_attention_heads=2,
                         intermediate_size=16, max_position_embeddings=16)
        model = BertModel(cfg).eval()
        with torch.no_grad():
            hidden = model(torch.tensor([[1, 5, 7, 2]]), output_hidden_states=True).hidden_states
        assert len(hidden) == depth + 1  # embedding output first
        xtreme = hidden[-depth:][specific_layer]  # evaluate_retrieval.py, --num_layers depth
        ours = hidden[retrieval_setup(depth)["hidden_states_index"]]
        assert torch.equal(ours, xtreme)
        assert not torch.equal(hidden[specific_layer], xtreme)  # the off-by-one this fixes


def test_retrieval_run_key_carries_the_convention():
    assert retrieval_run_key(None, None) == {"layer": None, "pooling": None, "convention": RETRIEVAL_CONVENTION}
    assert retrieval_run_key(None, None) != {"layer": None, "pooling": "mean"}  # the old key


# --------------------------------------------------------------------------- BUCC de-duplication

def test_repeated_sentences_after_strip():
    assert repeated_sentences(["a", "b ", "b", "c", "a", "a"]) == {"a", "b"}


def test_mine_unique_drops_pairs_with_a_repeated_sentence_known_answer():
    """Sources zh-0 "a", zh-1 "b", zh-2 "a" (repeated); targets en-0 "A", en-1 "B".

    Embeddings a = A = e1, b = B = e2; k = 4 is clipped to the 2 distinct sentences a side.
    Cosines: identity; every forward/backward mean = (1 + 0) / 2 = 0.5, so margin(x, y) =
    cos / 0.5: (a, A) and (b, B) score 2.0, the others 0. The reference mines the distinct
    sentences {a, b} x {A, B} and then drops (a, A), since "a" has no single id: one pair left.
    """
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    cands, counts = mine_unique(["zh-0", "zh-1", "zh-2"], ["a", "b", "a"], np.array([e1, e2, e1]),
                                ["en-0", "en-1"], ["A", "B"], np.array([e1, e2]))
    assert cands == [("zh-1", "en-1", approx(2.0))]
    assert counts == {"source_repeated": 1, "target_repeated": 0, "source_distinct": 2,
                      "target_distinct": 2, "candidates_dropped": 1}


def test_repeated_sentence_is_mined_before_it_is_dropped():
    """The exact rule: a repeated sentence still takes part in mining, then its pairs go.

    Sources "a" (twice: zh-0, zh-2) = (1, 0) and "b" (zh-1) = (0.6, 0.8); one target "B" =
    (1, 0). Greedy one-to-one mining gives B to "a" (cosine 1 > 0.6), then the pair is dropped
    because "a" repeats: no candidate at all. Removing "a" before mining would instead pair
    "b" with "B"; the reference (mine_bitext on unified text, then read_sent2id) does not.
    """
    src = np.array([[1.0, 0.0], [0.6, 0.8], [1.0, 0.0]])
    cands, counts = mine_unique(["zh-0", "zh-1", "zh-2"], ["a", "b", "a"], src,
                                ["en-0"], ["B"], np.array([[1.0, 0.0]]))
    assert cands == [] and counts["candidates_dropped"] == 1
    removed_first = mine_pairs(["zh-1"], src[[1]], ["en-0"], np.array([[1.0, 0.0]]))
    assert [(s, t) for s, t, _ in removed_first] == [("zh-1", "en-0")]


def test_bucc_counts_repeats_over_the_whole_file_and_records_them():
    """Carved halves: a sentence repeated across the tuning and the evaluated half is still dropped."""
    def row(i, side, text, gold=""):
        return {"id": i, "text": text, "side": side, "gold": gold}

    vec = {"dup": [1, 0, 0, 0], "p": [0, 1, 0, 0], "q": [0, 0, 1, 0], "P": [0, 1, 0, 0], "Q": [0, 0, 1, 0],
           "D": [1, 0, 0, 0], "z": [0, 0, 0, 1], "Z": [0, 0, 0, 1]}
    targets = [row("en-0", "target", "P", "zh-1"), row("en-1", "target", "Q", "zh-2"),
               row("en-2", "target", "D", "zh-0"), row("en-3", "target", "Z", "zh-4")]
    tune = [row("zh-1", "source", "p", "en-0"), row("zh-0", "source", "dup", "en-2")] + targets
    evaluated = [row("zh-2", "source", "q", "en-1"), row("zh-3", "source", "dup"),
                 row("zh-4", "source", "z", "en-3")] + targets
    scores, dedup = _bucc(tune, evaluated, lambda texts: np.array([vec[t] for t in texts], dtype=float))
    assert dedup["source_repeated"] == 1 and dedup["target_repeated"] == 0
    assert dedup["candidates_dropped"] == 1  # (zh-3 "dup", en-2) in the evaluated half
    assert scores["precision"] == approx(100.0) and scores["recall"] == approx(100.0)


@pytest.mark.slow
def test_real_bucc_dev_slice_has_the_reference_repeats(shared_data):
    """The zh-en dev slice: 9 Chinese and 14 English sentences occur twice (none in a gold pair)."""
    from taskdiff.transfer.readers import read_xtreme

    rows = read_xtreme("bucc2018", Path(shared_data), "zh", "validation")
    src = [r["text"] for r in rows if r["side"] == "source"]
    tgt = [r["text"] for r in rows if r["side"] == "target"]
    assert (len(repeated_sentences(src)), len(repeated_sentences(tgt))) == (9, 14)
