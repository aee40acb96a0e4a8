"""Known-answer and invariance tests of the zero-shot evaluation metrics.

Every expected number is computed by hand in the comment next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdiff.errors import UnknownNameError
from taskdiff.transfer.metrics import (
    METRICS, PRIMARY, MetricInputError, accuracy, bucc_f1, bucc_threshold,
    default_retrieval_layer, get_metric, knn_cosine, margin_scores, mine_pairs,
    mixed_segmentation, mlqa, normalize_mlqa, normalize_squad, pool, pos, primary_key,
    retrieval_setup, seqeval_f1, squad, tatoeba_accuracy)
from taskdiff.transfer.metrics.tagging import chunks_seqeval_0012

approx = pytest.approx


# --------------------------------------------------------------------------- registry

def test_registry_names_and_primary_keys():
    assert PRIMARY == {"accuracy": "accuracy", "seqeval_f1": "f1", "pos": "f1", "squad": "f1",
                       "mlqa": "f1", "bucc": "f1", "tatoeba": "accuracy", "tag_accuracy": "accuracy",
                       "pearson": "pearson"}
    assert set(METRICS) == set(PRIMARY)
    assert get_metric("squad") is squad and squad.primary == "f1"
    assert primary_key("tatoeba") == "accuracy"


def test_tag_accuracy_known_answer():
    # 3 tokens, 2 right (N/N, S; N != NP) -> 200/3
    from taskdiff.transfer.metrics import get_metric

    assert get_metric("tag_accuracy")([["N/N", "N"], ["S"]], [["N/N", "NP"], ["S"]])["accuracy"] == pytest.approx(200 / 3)


def test_registry_typo_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'squad'"):
        get_metric("sqad")


def test_primary_key_is_returned_by_every_metric():
    assert PRIMARY["accuracy"] in accuracy(["a"], ["a"])
    assert PRIMARY["pos"] in pos([["NOUN"]], [["NOUN"]])
    assert PRIMARY["squad"] in squad(["x"], [["x"]])


# --------------------------------------------------------------------------- accuracy

def test_accuracy_known_answer():
    # 3 of 4 equal (positions 0, 1, 3) -> 75.0
    assert accuracy(["entailment", "neutral", "neutral", "contradiction"],
                    ["entailment", "neutral", "entailment", "contradiction"]) == {"accuracy": 75.0}
    # multiple choice, int labels: 1 of 3 -> 33.33...
    assert accuracy([0, 2, 1], [0, 1, 2])["accuracy"] == approx(100 / 3)


def test_accuracy_rejects_mismatch_and_empty():
    with pytest.raises(MetricInputError, match="2 predictions and 1 references"):
        accuracy(["a", "b"], ["a"])
    with pytest.raises(MetricInputError):
        accuracy([], [])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=1,
                max_size=30), st.randoms(use_true_random=False))
def test_accuracy_permutation_invariant_and_identity(pairs, rnd):
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    shuffled = pairs[:]
    rnd.shuffle(shuffled)
    assert accuracy([p for p, _ in shuffled], [r for _, r in shuffled]) == accuracy(preds, refs)
    assert accuracy(refs, refs) == {"accuracy": 100.0}


# --------------------------------------------------------------------------- seqeval / POS

def test_seqeval_entity_f1_partial_matches():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "O"]]
    pred = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "I-ORG", "B-PER"]]
    # gold entities: PER[0:2], LOC[3], ORG[0:2]                          -> 3
    # pred entities: PER[0:1] (partial: wrong), LOC[3] ok, ORG[0:2] ok, PER[2] wrong -> 4
    # correct = 2; P = 2/4 = 50, R = 2/3 = 66.67, F1 = 2*.5*(2/3)/(.5+2/3) = 4/7 = 57.14
    out = seqeval_f1(pred, gold)
    assert out["precision"] == approx(50.0)
    assert out["recall"] == approx(200 / 3)
    assert out["f1"] == approx(400 / 7)


def test_seqeval_default_mode_is_lenient_about_leading_I():
    # default (conlleval) mode: I-PER I-PER is one PER entity = gold B-PER I-PER -> 100.
    # (strict IOB2 mode would reject it and give 0.)
    assert seqeval_f1([["I-PER", "I-PER"]], [["B-PER", "I-PER"]])["f1"] == approx(100.0)


def test_seqeval_rejects_ragged_sentences():
    with pytest.raises(MetricInputError, match="sentence 0 has 2 gold tags but 1 predicted"):
        seqeval_f1([["O"]], [["O", "O"]])
    with pytest.raises(MetricInputError, match="string"):
        seqeval_f1(["O"], ["O"])


def test_pos_pitfall_f1_differs_from_token_accuracy():
    # gold DET NOUN NOUN -> chunks {DET[0], NOUN[1:3]} (the two NOUNs merge into one run)
    # pred DET NOUN ADJ  -> chunks {DET[0], NOUN[1], ADJ[2]}
    # correct chunks = 1 (DET); P = 1/3, R = 1/2, F1 = 2*(1/6)/(5/6) = 0.4 -> 40
    # token accuracy = 2/3 = 66.67
    out = pos([["DET", "NOUN", "ADJ"]], [["DET", "NOUN", "NOUN"]])
    assert out["f1"] == approx(40.0)
    assert out["token_accuracy"] == approx(200 / 3)
    # gold NOUN NOUN VERB -> {NOUN[0:2], VERB[2]}; pred NOUN VERB VERB -> {NOUN[0], VERB[1:3]}
    # no chunk matches -> F1 = 0, though 2 of 3 tokens are right (66.67)
    out = pos([["NOUN", "VERB", "VERB"]], [["NOUN", "NOUN", "VERB"]])
    assert out == approx({"f1": 0.0, "token_accuracy": 200 / 3})


def test_pos_f1_is_seqeval_0012_on_x():
    """XTREME's seqeval (0.0.12) closes an X chunk at the sentence end; 1.x gives X the type of O.

    gold [X] [NOUN], pred [X] [VERB]. seqeval 0.0.12 (types tag.split("-")[-1]): gold chunks
    {X[0], NOUN[2]} (index 1 is the O between sentences), pred {X[0], VERB[2]}: 1 of 2 match,
    P = R = 1/2, F1 = 50. seqeval 1.x (types tag[1:] or "_"): X and O share type "_", the X
    chunk never ends, gold {OUN[2]} vs pred {ERB[2]}: F1 = 0. Token accuracy 1/2.
    """
    import warnings

    from seqeval.metrics import f1_score

    gold, pred = [["X"], ["NOUN"]], [["X"], ["VERB"]]
    assert pos(pred, gold) == approx({"f1": 50.0, "token_accuracy": 50.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert f1_score(gold, pred) == 0.0  # the installed 1.x, for contrast
    assert chunks_seqeval_0012(gold) == {("X", 0, 0), ("NOUN", 2, 2)}


def test_seqeval_0012_chunks_equal_installed_seqeval_on_iob2():
    """On IOB2 tags (PAN-X) 0.0.12's chunking equals the installed seqeval's (random cases)."""
    import random

    from seqeval.metrics.sequence_labeling import get_entities

    rng = random.Random(0)
    tags = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    for _ in range(200):
        sents = [[rng.choice(tags) for _ in range(rng.randint(1, 10))] for _ in range(rng.randint(1, 4))]
        assert chunks_seqeval_0012(sents) == set(get_entities(sents))


def test_tagging_provenance_and_pos_run_key():
    from taskdiff.transfer.metrics import SEQEVAL_XTREME, metric_provenance, metric_run_key

    assert SEQEVAL_XTREME == "0.0.12"
    assert "0.0.12" in metric_provenance("pos")["f1"] and "token_accuracy" in metric_provenance("pos")
    assert "1.2.2" in metric_provenance("seqeval_f1")["f1"]
    assert metric_run_key("pos") == {"metric_version": "seqeval-0.0.12"}
    assert metric_run_key("seqeval_f1") == metric_run_key("accuracy") == {}


def test_tagging_identity_gives_100():
    tags = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    assert seqeval_f1(tags, tags) == approx({"precision": 100.0, "recall": 100.0, "f1": 100.0})
    upos = [["DET", "NOUN", "VERB", "PUNCT"]]
    assert pos(upos, upos) == approx({"f1": 100.0, "token_accuracy": 100.0})


# --------------------------------------------------------------------------- SQuAD

def test_squad_normalisation():
    # lower, drop ASCII punctuation, drop a/an/the, collapse whitespace
    assert normalize_squad("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_squad("an apple, a pear") == "apple pear"
    assert normalize_squad("theater") == "theater"  # articles only as whole words


def test_squad_known_answer_multiple_golds():
    preds = {"q1": "The Eiffel Tower!", "q2": "in Paris France", "q3": "1889"}
    refs = {"q1": ["Eiffel Tower"], "q2": ["Paris", "Paris, France"], "q3": ["in 1887"]}
    # q1: "eiffel tower" == "eiffel tower"                           EM 1, F1 1
    # q2: vs "paris": overlap 1, P 1/3, R 1 -> F1 .5;
    #     vs "paris france": overlap 2, P 2/3, R 1 -> F1 .8; max     EM 0, F1 .8
    # q3: "1889" vs "in 1887": no overlap                           EM 0, F1 0
    # EM = 1/3 = 33.33; F1 = (1 + .8 + 0)/3 = 60
    out = squad(preds, refs)
    assert out["exact_match"] == approx(100 / 3)
    assert out["f1"] == approx(60.0)


def test_squad_repeated_tokens_and_empty_answers():
    # "the the cat cat" -> "cat cat" vs "cat": overlap min(2,1)=1, P 1/2, R 1 -> F1 2/3
    assert squad(["the the cat cat"], [["cat"]])["f1"] == approx(200 / 3)
    # v1.1: both normalise to "" -> EM 1 but F1 0
    assert squad(["the"], [["a"]]) == approx({"exact_match": 100.0, "f1": 0.0})


def test_squad_accepts_schema_answers_and_lists():
    refs = {"q": {"text": ["Paris", "paris."], "answer_start": [0, 0]}}
    assert squad({"q": "paris"}, refs) == approx({"exact_match": 100.0, "f1": 100.0})
    assert squad(["Paris"], ["Paris"]) == approx({"exact_match": 100.0, "f1": 100.0})


def test_squad_missing_prediction_scores_zero_or_raises():
    refs = {"q1": ["a b"], "q2": ["c"]}
    with pytest.warns(UserWarning, match="1 of 2 questions have no prediction"):
        out = squad({"q1": "a b", "extra": "zzz"}, refs)
    # q1 perfect, q2 missing -> 0; mean = 50
    assert out == approx({"exact_match": 50.0, "f1": 50.0})
    with pytest.raises(MetricInputError, match="missing"):
        squad({"q1": "a b"}, refs, strict=True)
    with pytest.raises(MetricInputError, match="no gold answer"):
        squad({"q1": "x"}, {"q1": []})
    with pytest.raises(MetricInputError, match="both keyed by id"):
        squad(["x"], {"q1": ["x"]})


def test_squad_permutation_invariant_and_identity():
    golds = {"a": ["one two"], "b": ["three"], "c": ["four five six"]}
    preds = {"a": "one", "b": "three", "c": "five six seven"}
    reordered = {k: preds[k] for k in ("c", "a", "b")}
    assert squad(reordered, {k: golds[k] for k in ("b", "c", "a")}) == approx(squad(preds, golds))
    assert squad({k: v[0] for k, v in golds.items()}, golds) == approx(
        {"exact_match": 100.0, "f1": 100.0})


# --------------------------------------------------------------------------- MLQA

def test_mlqa_zh_mixed_segmentation():
    assert mixed_segmentation("iphone手机") == ["iphone", "手", "机"]
    # "在北京" vs "北京市": characters {在,北,京} vs {北,京,市}: overlap 2, P = R = 2/3 -> F1 66.67
    assert mlqa(["在北京"], [["北京市"]], language="zh") == approx(
        {"exact_match": 0.0, "f1": 200 / 3})
    # the SQuAD script sees one token on each side -> F1 0
    assert squad(["在北京"], [["北京市"]])["f1"] == 0.0
    # "iPhone手机" vs "iPhone 手机": both segment to "iphone 手 机" -> EM 100
    assert mlqa(["iPhone手机"], [["iPhone 手机"]], language="zh")["exact_match"] == 100.0
    # Chinese full stop is Unicode punctuation (Po) -> removed
    assert normalize_mlqa("北京大学。", "zh") == "北 京 大 学"


def test_mlqa_german_and_spanish_articles():
    # de drops "die": "katze" == "katze" -> EM 100
    assert mlqa(["die Katze"], [["Katze"]], language="de")["exact_match"] == 100.0
    # under the English/SQuAD rules "die" stays: P 1/2, R 1 -> F1 2/3, EM 0
    assert squad(["die Katze"], [["Katze"]]) == approx({"exact_match": 0.0, "f1": 200 / 3})
    # es drops "la": "casa blanca" == "casa blanca"
    assert mlqa(["la casa blanca"], [["casa blanca"]], language="es")["exact_match"] == 100.0
    # es does not drop German articles: "der hund" vs "hund": F1 2/3
    assert mlqa(["der Hund"], [["Hund"]], language="es")["f1"] == approx(200 / 3)


def test_mlqa_unicode_punctuation_and_arabic():
    # « » are Unicode punctuation (Pi/Pf): removed by MLQA, kept by SQuAD (ASCII only)
    assert mlqa(["«Hola»"], [["hola"]], language="es")["exact_match"] == 100.0
    assert squad(["«Hola»"], [["hola"]]) == approx({"exact_match": 0.0, "f1": 0.0})
    # the official Arabic rule removes every "ال": "الكتاب" -> "كتاب"
    assert normalize_mlqa("الكتاب", "ar") == "كتاب"


def test_mlqa_unknown_language():
    with pytest.raises(UnknownNameError, match="MLQA language 'fr'"):
        mlqa(["x"], [["x"]], language="fr")


# --------------------------------------------------------------------------- BUCC

# x = identity (rows e1, e2, e3), so cos(x_i, y_j) = y_j[i]:
_Y = np.array([[0.6, 0.8, 0.0], [0.0, 1.0, 0.0], [0.8, 0.0, 0.6]])
# C = cos matrix = [[0.6, 0, 0.8],
#                   [0.8, 1, 0  ],
#                   [0,   0, 0.6]]
# k = 2: fwd (row top-2 means): r0 (.8+.6)/2 = .7, r1 (1+.8)/2 = .9, r2 (.6+0)/2 = .3
#        bwd (col top-2 means): c0 (.8+.6)/2 = .7, c1 (1+0)/2 = .5, c2 (.8+.6)/2 = .7
# margin[i,j] = C[i,j] / ((fwd_i + bwd_j)/2):
#   [0,0] .6/.7 = 6/7   [0,1] 0   [0,2] .8/.7 = 8/7
#   [1,0] .8/.8 = 1     [1,1] 1/.7 = 10/7   [1,2] 0
#   [2,0] 0   [2,1] 0   [2,2] .6/.5 = 1.2
_MARGIN = np.array([[6 / 7, 0, 8 / 7], [1, 10 / 7, 0], [0, 0, 1.2]])


def test_margin_scores_hand_3x3():
    np.testing.assert_allclose(margin_scores(np.eye(3), _Y, k=2), _MARGIN, atol=1e-12)
    # blocks of one row give the same matrix; scaling rows changes nothing (normalised)
    np.testing.assert_allclose(margin_scores(5 * np.eye(3), 2 * _Y, k=2, block_size=1),
                               _MARGIN, atol=1e-12)


def test_margin_k_larger_than_rows_is_clipped():
    # k=4 > 3 rows -> mean over all 3: fwd = (.6+0+.8)/3 etc.; k=3 gives the same matrix
    np.testing.assert_allclose(margin_scores(np.eye(3), _Y, k=4),
                               margin_scores(np.eye(3), _Y, k=3))


def test_mine_pairs_hand_case():
    # forward best (among each row's 2 NN): x0 -> y2 (8/7), x1 -> y1 (10/7), x2 -> y2 (1.2)
    # backward best: y0 -> x1 (1), y1 -> x1 (10/7), y2 -> x2 (1.2 > 8/7)
    # greedy by score: (x1,y1) 10/7, (x2,y2) 1.2; (x0,y2) and (x1,y0) reuse a side -> dropped
    pairs = mine_pairs(["x0", "x1", "x2"], np.eye(3), ["y0", "y1", "y2"], _Y, k=2)
    assert [(s, t) for s, t, _ in pairs] == [("x1", "y1"), ("x2", "y2")]
    assert [score for _, _, score in pairs] == approx([10 / 7, 1.2])


def _brute_force_mining(x, y, k):
    """Straight loops over the full cosine matrix, no blocks or partial sorts."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    cos = x @ y.T
    fwd = np.sort(cos, axis=1)[:, ::-1][:, :k].mean(axis=1)
    bwd = np.sort(cos, axis=0)[::-1, :][:k, :].mean(axis=0)
    margin = cos / ((fwd[:, None] + bwd[None, :]) / 2)
    cands = []
    for i in range(len(x)):
        nn = np.argsort(-cos[i], kind="stable")[:k]
        j = max(nn, key=lambda j: margin[i, j])
        cands.append((margin[i, j], i, j))
    for j in range(len(y)):
        nn = np.argsort(-cos[:, j], kind="stable")[:k]
        i = max(nn, key=lambda i: margin[i, j])
        cands.append((margin[i, j], i, j))
    used_x, used_y, out = set(), set(), []
    for score, i, j in sorted(cands, key=lambda c: -c[0]):
        if i not in used_x and j not in used_y:
            used_x.add(i), used_y.add(j)
            out.append((i, j, score))
    return out, margin


def test_mine_pairs_blocks_agree_with_brute_force():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((37, 8)), rng.standard_normal((23, 8))
    ids_x, ids_y = list(range(37)), list(range(23))
    expected, margin = _brute_force_mining(x, y, k=4)
    for block_size in (5, 1024):
        got = mine_pairs(ids_x, x, ids_y, y, block_size=block_size)
        assert [(s, t) for s, t, _ in got] == [(s, t) for s, t, _ in expected]
        assert [c[2] for c in got] == approx([c[2] for c in expected])
    np.testing.assert_allclose(margin_scores(x, y, k=4, block_size=6), margin)
    sims, _ = knn_cosine(x / np.linalg.norm(x, axis=1, keepdims=True),
                         y / np.linalg.norm(y, axis=1, keepdims=True), 4, block_size=7)
    assert np.all(np.diff(sims, axis=1) <= 0)


def test_mine_pairs_rejects_bad_shapes():
    with pytest.raises(MetricInputError, match="same width"):
        mine_pairs([0], np.ones((1, 2)), [0], np.ones((1, 3)))
    with pytest.raises(MetricInputError, match="one id per embedding row"):
        mine_pairs([0, 1], np.ones((1, 2)), [0], np.ones((1, 2)))


_DEV = [("s1", "t1", 0.9), ("s2", "t2", 0.8), ("s3", "t9", 0.7), ("s4", "t4", 0.6),
        ("s5", "t8", 0.5)]
_DEV_GOLD = {("s1", "t1"), ("s2", "t2"), ("s4", "t4"), ("s6", "t6")}  # s6 never mined


def test_bucc_threshold_and_f1_hand_case():
    # cumulative (correct, extracted) after each score, |gold| = 4:
    #   .9: (1,1) P 1,   R .25 -> F1 .4
    #   .8: (2,2) P 1,   R .5  -> F1 .667
    #   .7: (2,3) P 2/3, R .5  -> F1 4/7 = .571
    #   .6: (3,4) P .75, R .75 -> F1 .75  <- best
    #   .5: (3,5) P .6,  R .75 -> F1 .667
    # threshold = midpoint (.6 + .5)/2 = .55
    th = bucc_threshold(_DEV, _DEV_GOLD)
    assert th == approx(0.55)
    assert bucc_f1(_DEV, _DEV_GOLD, th) == approx({"precision": 75.0, "recall": 75.0, "f1": 75.0})


def test_bucc_dev_threshold_applied_unchanged_to_test():
    test = [("a", "x", 0.7), ("b", "y", 0.56), ("c", "z", 0.54)]
    gold = {("a", "x"), ("c", "z")}
    # dev threshold .55 extracts (a,x), (b,y): 1 correct; P 1/2, R 1/2 -> F1 50
    assert bucc_f1(test, gold, bucc_threshold(_DEV, _DEV_GOLD)) == approx(
        {"precision": 50.0, "recall": 50.0, "f1": 50.0})
    # tuning on test itself (what jiant did) would pick .54 -> P 2/3, R 1, F1 80: optimistic
    assert bucc_f1(test, gold, bucc_threshold(test, gold))["f1"] == approx(80.0)


def test_bucc_threshold_handles_ties_and_edge_cases():
    # tie group {.5, .5}: after .9 F1 = 2*1*.5/1.5 = .667; after the group (2 of 3) P 2/3, R 1
    # -> F1 .8; it is the last group, so threshold = .5 and F1 at .5 is exactly 80
    cands = [("a", "x", 0.9), ("b", "y", 0.5), ("c", "z", 0.5)]
    gold = {("a", "x"), ("b", "y")}
    th = bucc_threshold(cands, gold)
    assert th == 0.5 and bucc_f1(cands, gold, th)["f1"] == approx(80.0)
    # nothing correct -> 0.0 (reference fallback) and F1 0
    assert bucc_threshold([("a", "y", 1.0)], gold) == 0.0
    assert bucc_f1([("a", "y", 1.0)], gold, 0.0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    with pytest.raises(MetricInputError, match="gold pair"):
        bucc_f1(cands, set(), 0.5)


# --------------------------------------------------------------------------- Tatoeba

def _angles(degrees, norms=None):
    rad = np.deg2rad(degrees)
    v = np.stack([np.cos(rad), np.sin(rad)], axis=1)
    return v if norms is None else v * np.asarray(norms)[:, None]


def test_tatoeba_hand_case():
    # src at 0, 90, 45 degrees; tgt at 10, 70, 88 (cosine decreases with angle gap)
    # src0 (0):  gaps 10, 70, 88 -> tgt0 correct
    # src1 (90): gaps 80, 20, 2  -> tgt2 wrong
    # src2 (45): gaps 35, 25, 43 -> tgt1 wrong            accuracy 1/3 = 33.33
    src, tgt = _angles([0, 90, 45], norms=[1, 3, 0.5]), _angles([10, 70, 88])
    assert tatoeba_accuracy(src, tgt)["accuracy"] == approx(100 / 3)


def test_tatoeba_permutation_hand_case():
    # tgt_i = src_perm[i] with perm = (0, 2, 1, 3): one-hot rows, no ties;
    # fixed points 0 and 3 are right -> 2/4 = 50
    src = np.eye(4)
    assert tatoeba_accuracy(src, src[[0, 2, 1, 3]], block_size=3) == {"accuracy": 50.0}
    assert tatoeba_accuracy(src, src) == {"accuracy": 100.0}
    # applying the same permutation to both sides changes nothing
    order = [3, 1, 0, 2]
    tgt = src[[0, 2, 1, 3]]
    assert tatoeba_accuracy(src[order], tgt[order]) == {"accuracy": 50.0}


def test_pool_mean_and_cls():
    h = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    mask = np.array([[1, 1, 0]])
    # mean over the 2 unmasked positions: ((1+3)/2, (2+4)/2) = (2, 3); cls = first = (1, 2)
    np.testing.assert_allclose(pool(h, mask), [[2.0, 3.0]])
    np.testing.assert_allclose(pool(h, mask, method="cls"), [[1.0, 2.0]])
    with pytest.raises(MetricInputError):
        pool(h, np.zeros((1, 3)))
    with pytest.raises(MetricInputError):
        pool(h, mask, method="max")


def test_default_retrieval_layer():
    # Updated for issue 14: XTREME's own setting where it has one (evaluate_retrieval.py drops
    # the embedding output, so its layer 7 of 12 is hidden_states[8] and 13 of 24 is
    # hidden_states[14]); the old rule round(n * 14/24) gave hidden_states[7] for 12 layers.
    # Other depths keep round(n * 14/24), halves up: 6 -> 3.5 -> 4, 18 -> 10.5 -> 11, 4 -> 2.
    assert [default_retrieval_layer(n) for n in (24, 12, 6, 18, 4)] == [14, 8, 4, 11, 2]
    assert retrieval_setup(24) == {"hidden_states_index": 14, "xtreme_layer": 13, "num_layers": 24,
                                   "pooling": "mean", "layer_is_default": True,
                                   "pooling_is_default": True, "convention": "xtreme"}
    assert retrieval_setup(12, layer=12)["layer_is_default"] is False
    assert retrieval_setup(12, layer=12)["convention"] == "custom"


# seqeval 0.0.12's f1_score * 100 on the UD dev files with noisy predictions, from the real
# seqeval 0.0.12 (installed aside: pip install --no-deps --target /tmp/seq0012 seqeval==0.0.12;
# tests/transfer/seqeval_0012_reference.py, 2026-12-05). Predictions: random.Random(0), first
# the 5 % pass (discarded here), then gold with 20 % of the tags replaced by a random UPOS tag.
SEQEVAL_0012_UD_DEV_F1 = {"de": 78.77872103002935, "mr": 71.16736990154712, "te": 76.78275290215588,
                          "vi": 75.3147128245476, "zh": 76.22965400693765, "lt": 75.3645503124717}


@pytest.mark.slow
def test_pos_f1_equals_real_seqeval_0012_on_ud_dev(shared_data):
    import random

    from taskdiff.transfer.readers.xtreme import UPOS_TAGS, read_xtreme

    for lang, expected in SEQEVAL_0012_UD_DEV_F1.items():
        gold = [r["tags"] for r in read_xtreme("udpos", shared_data, lang, "validation")]
        rng = random.Random(0)
        preds = [[[t if rng.random() > rate else rng.choice(UPOS_TAGS) for t in s] for s in gold]
                 for rate in (0.05, 0.2)]
        assert pos(preds[1], gold)["f1"] == approx(expected, abs=1e-9), lang
