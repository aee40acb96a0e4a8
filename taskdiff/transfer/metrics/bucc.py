"""BUCC 2018 bitext mining: ratio-margin scoring, candidate mining, threshold and F1.

Follows the LASER / XTREME pipeline (``mine_bitext`` and ``bucc.py`` in xtreme's
``third_party``): cosine similarity of L2-normalised sentence embeddings; each source
sentence's k nearest targets (and each target's k nearest sources) are candidates, rescored
with the ratio margin (Artetxe & Schwenk 2019)

    margin(x, y) = cos(x, y) / ((mean_{z in NN_k(x)} cos(x, z) + mean_{z in NN_k(y)} cos(y, z)) / 2)

The best forward and the best backward candidate of every sentence are pooled and filtered
greedily to a one-to-one set ("max" retrieval). A threshold on the margin score is chosen
to maximise F1 on the *dev* gold pairs and applied unchanged to test.

Duplicate sentences (:func:`mine_unique`), as the reference does: ``mine_bitext`` mines over
the *distinct* sentences of each file (``text_load_unify``: one entry per distinct line, with
the embedding of its last occurrence, ``unique_embeddings``), and ``bucc_eval`` then drops
every candidate whose source or target sentence occurs more than once in its file
(``read_sent2id`` deletes repeated sentences from the text -> id map, compared after
``strip()``), because such a sentence has no single id. Gold pairs are never dropped: one
involving a repeated sentence stays in the recall denominator.
"""

from __future__ import annotations

from typing import Hashable, Iterable, Sequence

import numpy as np

from ._checks import MetricInputError, check_embedding_pair
from .registry import register_metric

Candidate = tuple[Hashable, Hashable, float]


def l2_normalize(emb: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero), in float32 or wider."""
    emb = np.asarray(emb)
    if emb.ndim != 2:
        raise MetricInputError(f"expected a 2-D embedding matrix, found shape {emb.shape}")
    emb = emb.astype(np.result_type(emb.dtype, np.float32), copy=False)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.where(norms > 0, norms, 1.0)


def knn_cosine(x: np.ndarray, y: np.ndarray, k: int,
               block_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The ``min(k, len(y))`` most similar rows of ``y`` for each row of ``x``.

    ``x`` and ``y`` must already be L2-normalised. Similarities are computed ``block_size``
    rows of ``x`` at a time, so memory is O(block_size * len(y)).

    Returns
    -------
    sims, idx : ndarray, shape (len(x), k)
        Cosines in descending order (ties by ascending index) and the matching row indices.
    """
    k = min(k, y.shape[0])
    sims = np.empty((x.shape[0], k), dtype=np.result_type(x, y))
    idx = np.empty((x.shape[0], k), dtype=np.int64)
    for start in range(0, x.shape[0], block_size):
        block = x[start:start + block_size] @ y.T
        if k < y.shape[0]:
            part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(k), block.shape).copy()
        vals = np.take_along_axis(block, part, axis=1)
        order = np.lexsort((part, -vals), axis=1)
        sims[start:start + len(block)] = np.take_along_axis(vals, order, axis=1)
        idx[start:start + len(block)] = np.take_along_axis(part, order, axis=1)
    return sims, idx


def margin_scores(x: np.ndarray, y: np.ndarray, k: int = 4,
                  block_size: int = 1024) -> np.ndarray:
    """Full matrix of ratio-margin scores between all rows of ``x`` and ``y``.

    Parameters
    ----------
    x, y : ndarray, shape (n, d) and (m, d)
        Sentence embeddings; rows are L2-normalised here (a no-op if they already are).
    k : int
        Neighbourhood size (XTREME/LASER: 4); clipped to the number of rows.
    block_size : int
        Rows of ``x`` per block of matrix products.

    Returns
    -------
    ndarray, shape (n, m)
        ``cos(x_i, y_j) / ((fwd_i + bwd_j) / 2)``, with ``fwd_i`` the mean cosine of ``x_i``'s
        k nearest rows of ``y`` and ``bwd_j`` that of ``y_j``'s k nearest rows of ``x``.
        The result takes n*m*4 bytes in float32 (600 MB for 10k x 15k); use
        :func:`mine_pairs`, which never builds it, for mining.
    """
    x, y = l2_normalize(x), l2_normalize(y)
    check_embedding_pair(x, y)
    fwd = knn_cosine(x, y, k, block_size)[0].mean(axis=1)
    bwd = knn_cosine(y, x, k, block_size)[0].mean(axis=1)
    out = np.empty((x.shape[0], y.shape[0]), dtype=np.result_type(x, y))
    for start in range(0, x.shape[0], block_size):
        stop = start + block_size
        out[start:stop] = (x[start:stop] @ y.T) / ((fwd[start:stop, None] + bwd[None, :]) / 2)
    return out


def _best_candidates(x: np.ndarray, y: np.ndarray, k: int,
                     block_size: int) -> tuple[np.ndarray, ...]:
    """Best margin-scored candidate among the k nearest neighbours, both directions."""
    fwd_sims, fwd_idx = knn_cosine(x, y, k, block_size)
    bwd_sims, bwd_idx = knn_cosine(y, x, k, block_size)
    fwd_mean, bwd_mean = fwd_sims.mean(axis=1), bwd_sims.mean(axis=1)
    fwd_scores = fwd_sims / ((fwd_mean[:, None] + bwd_mean[fwd_idx]) / 2)
    bwd_scores = bwd_sims / ((bwd_mean[:, None] + fwd_mean[bwd_idx]) / 2)
    rows_x, rows_y = np.arange(x.shape[0]), np.arange(y.shape[0])
    fwd_arg, bwd_arg = fwd_scores.argmax(axis=1), bwd_scores.argmax(axis=1)
    src = np.concatenate([rows_x, bwd_idx[rows_y, bwd_arg]])
    tgt = np.concatenate([fwd_idx[rows_x, fwd_arg], rows_y])
    scores = np.concatenate([fwd_scores[rows_x, fwd_arg], bwd_scores[rows_y, bwd_arg]])
    return src, tgt, scores


def mine_pairs(src_ids: Sequence[Hashable], src_emb: np.ndarray,
               tgt_ids: Sequence[Hashable], tgt_emb: np.ndarray, k: int = 4,
               block_size: int = 1024) -> list[Candidate]:
    """Mine candidate sentence pairs as XTREME/LASER do (margin "max" retrieval).

    Parameters
    ----------
    src_ids, tgt_ids : sequence
        Sentence ids, aligned with the rows of ``src_emb`` and ``tgt_emb``.
    src_emb, tgt_emb : ndarray, shape (n, d) and (m, d)
        Sentence embeddings (L2-normalised here).
    k : int
        Neighbourhood size of the margin and number of candidates per sentence (4).
    block_size : int
        Rows per block of matrix products; memory is O(block_size * max(n, m)).

    Returns
    -------
    list of (src_id, tgt_id, score)
        One-to-one pairs in descending score order: the best forward candidate of every
        source and the best backward candidate of every target, pooled, then taken greedily
        by score, skipping pairs whose source or target is already used. No threshold is
        applied (see :func:`bucc_threshold`).
    """
    x, y = l2_normalize(src_emb), l2_normalize(tgt_emb)
    check_embedding_pair(x, y)
    if len(src_ids) != x.shape[0] or len(tgt_ids) != y.shape[0]:
        raise MetricInputError(
            f"mine_pairs: expected one id per embedding row, found {len(src_ids)} source ids "
            f"for {x.shape[0]} rows and {len(tgt_ids)} target ids for {y.shape[0]} rows")
    src, tgt, scores = _best_candidates(x, y, k, block_size)
    seen_src: set[int] = set()
    seen_tgt: set[int] = set()
    pairs: list[Candidate] = []
    for i in np.argsort(-scores, kind="stable"):
        s, t = int(src[i]), int(tgt[i])
        if s not in seen_src and t not in seen_tgt:
            seen_src.add(s)
            seen_tgt.add(t)
            pairs.append((src_ids[s], tgt_ids[t], float(scores[i])))
    return pairs


def repeated_sentences(texts: Iterable[str]) -> set[str]:
    """The sentences (after ``strip()``) that occur more than once, as ``read_sent2id`` finds them."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for text in texts:
        key = text.strip()
        (repeated if key in seen else seen).add(key)
    return repeated


def _distinct(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Distinct texts in order of first occurrence, and the row of each one's last occurrence."""
    last: dict[str, int] = {}
    for i, text in enumerate(texts):
        last[text] = i
    order = list(dict.fromkeys(texts))
    return order, [last[t] for t in order]


def mine_unique(src_ids: Sequence[Hashable], src_texts: Sequence[str], src_emb: np.ndarray,
                tgt_ids: Sequence[Hashable], tgt_texts: Sequence[str], tgt_emb: np.ndarray,
                k: int = 4, repeated: tuple[set[str], set[str]] | None = None,
                block_size: int = 1024) -> tuple[list[Candidate], dict[str, int]]:
    """Mine as xtreme's ``mine_bitext`` + ``bucc_eval`` do: distinct sentences, repeats dropped.

    Parameters
    ----------
    src_ids, src_texts, src_emb, tgt_ids, tgt_texts, tgt_emb
        Ids, sentences and embeddings of each side, row-aligned.
    k : int
        Neighbourhood size (4).
    repeated : (set, set), optional
        Stripped sentences to treat as repeated on each side; default
        :func:`repeated_sentences` of ``src_texts`` and ``tgt_texts``. Pass the whole file's
        when mining a part of it (the reference counts repeats per file).

    Returns
    -------
    candidates : list of (src_id, tgt_id, score)
        :func:`mine_pairs` over the distinct sentences, without the pairs whose source or
        target sentence is repeated.
    counts : dict
        ``source_repeated``/``target_repeated`` (distinct repeated sentences among the
        rows), ``source_distinct``/``target_distinct`` (sentences mined) and
        ``candidates_dropped``.
    """
    if len(src_texts) != len(src_ids) or len(tgt_texts) != len(tgt_ids):
        raise MetricInputError("mine_unique: expected one text per id on each side")
    rep_src, rep_tgt = repeated if repeated is not None else (
        repeated_sentences(src_texts), repeated_sentences(tgt_texts))
    s_text, s_rows = _distinct(list(src_texts))
    t_text, t_rows = _distinct(list(tgt_texts))
    mined = mine_pairs(s_rows, np.asarray(src_emb)[s_rows], t_rows, np.asarray(tgt_emb)[t_rows],
                       k=k, block_size=block_size)
    kept = [(src_ids[i], tgt_ids[j], score) for i, j, score in mined
            if src_texts[i].strip() not in rep_src and tgt_texts[j].strip() not in rep_tgt]
    counts = {"source_repeated": len(rep_src & {t.strip() for t in src_texts}),
              "target_repeated": len(rep_tgt & {t.strip() for t in tgt_texts}),
              "source_distinct": len(s_rows), "target_distinct": len(t_rows),
              "candidates_dropped": len(mined) - len(kept)}
    return kept, counts


def _candidate_scores(candidates: Iterable[Candidate]) -> dict[tuple, float]:
    """Pair -> score, keeping the highest score of a pair listed twice."""
    best: dict[tuple, float] = {}
    for src, tgt, score in candidates:
        key = (src, tgt)
        best[key] = max(float(score), best.get(key, float("-inf")))
    return best


def _gold_set(gold: Iterable[tuple[Hashable, Hashable]]) -> set[tuple]:
    gold_set = {tuple(pair) for pair in gold}
    if not gold_set:
        raise MetricInputError("bucc: expected at least one gold pair, found none")
    return gold_set


def bucc_threshold(candidates: Iterable[Candidate],
                   gold: Iterable[tuple[Hashable, Hashable]]) -> float:
    """Score threshold that maximises F1 of the extracted pairs against ``gold`` (dev).

    Pairs with ``score >= threshold`` are extracted. Candidates are walked in descending
    score order and F1 is evaluated after each group of tied scores; the returned threshold
    is the midpoint between the best group's score and the next lower score (the best
    group's score itself when it is the last). On equal F1 the higher threshold wins.
    When no candidate is a gold pair every threshold gives F1 = 0 and 0.0 is returned, as
    in the reference script.

    Notes
    -----
    Tune on dev gold and apply the value unchanged to test. The reference script updates
    F1 after every single candidate, so with tied scores its threshold can extract more
    pairs than the F1 it optimised; the tie groups here avoid that.
    """
    gold_set = _gold_set(gold)
    items = sorted(_candidate_scores(candidates).items(), key=lambda kv: -kv[1])
    best_f1, threshold = 0.0, 0.0
    n_extract = n_correct = 0
    i = 0
    while i < len(items):
        score = items[i][1]
        while i < len(items) and items[i][1] == score:
            n_extract += 1
            n_correct += items[i][0] in gold_set
            i += 1
        if n_correct == 0:
            continue
        precision, recall = n_correct / n_extract, n_correct / len(gold_set)
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > best_f1:
            best_f1 = f1
            threshold = (score + items[i][1]) / 2 if i < len(items) else score
    return float(threshold)


@register_metric("bucc", primary="f1")
def bucc_f1(candidates: Iterable[Candidate], gold: Iterable[tuple[Hashable, Hashable]],
            threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of the pairs with ``score >= threshold`` against ``gold``.

    Parameters
    ----------
    candidates : iterable of (src_id, tgt_id, score)
        Mined pairs, e.g. from :func:`mine_pairs`.
    gold : iterable of (src_id, tgt_id)
        Gold parallel pairs of the same split.
    threshold : float
        From :func:`bucc_threshold` on the *dev* split.

    Returns
    -------
    dict
        ``{"precision", "recall", "f1"}`` on the 0-100 scale (all 0 when nothing extracted
        is gold); primary key ``"f1"``.
    """
    gold_set = _gold_set(gold)
    extracted = {pair for pair, score in _candidate_scores(candidates).items()
                 if score >= threshold}
    n_correct = len(extracted & gold_set)
    if n_correct == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    precision, recall = n_correct / len(extracted), n_correct / len(gold_set)
    f1 = 2 * precision * recall / (precision + recall)
    return {"precision": 100.0 * precision, "recall": 100.0 * recall, "f1": 100.0 * f1}
