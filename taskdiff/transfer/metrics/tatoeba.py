"""Tatoeba sentence retrieval: pooling, default layer, nearest-neighbour accuracy.

XTREME scores Tatoeba (and BUCC) straight from a pretrained or intermediate-trained encoder,
without fine-tuning: a sentence embedding is the mean of the token states of one
intermediate layer (XLM-R Large: layer 14 of 24, the X-STILTs/XTREME choice; base models:
layer 7 of 12), and each query is matched to its cosine nearest neighbour.
"""

from __future__ import annotations

import numpy as np

from ._checks import MetricInputError, check_embedding_pair
from .bucc import l2_normalize
from .registry import register_metric

POOLING_METHODS = ("mean", "cls")
DEFAULT_POOLING = "mean"
RETRIEVAL_LAYER_FRACTION = (14, 24)
"""XTREME/X-STILTs retrieval layer as a fraction of depth: layer 14 of 24."""


def default_retrieval_layer(num_layers: int) -> int:
    """Index of the retrieval layer for a model with ``num_layers`` transformer layers.

    ``round(num_layers * 14 / 24)``, rounding halves up: 24 -> 14, 12 -> 7, 6 -> 4.

    The index is into the Hugging Face ``hidden_states`` tuple (``output_hidden_states=True``),
    whose entry 0 is the embedding output and entry ``i`` the output of transformer layer
    ``i``; so layer 14 of XLM-R Large is ``hidden_states[14]``. Record the value returned
    here (and the pooling) with every retrieval result; :func:`retrieval_setup` does.
    """
    if num_layers < 1:
        raise MetricInputError(f"expected at least one transformer layer, found {num_layers}")
    num, den = RETRIEVAL_LAYER_FRACTION
    return (num_layers * num + den // 2) // den


def retrieval_setup(num_layers: int, layer: int | None = None,
                    pooling: str = DEFAULT_POOLING) -> dict[str, object]:
    """The retrieval configuration to store next to BUCC/Tatoeba scores.

    Returns
    -------
    dict
        ``{"layer", "num_layers", "pooling", "layer_is_default"}``.
    """
    if pooling not in POOLING_METHODS:
        raise MetricInputError(f"expected pooling in {POOLING_METHODS}, found {pooling!r}")
    default = default_retrieval_layer(num_layers)
    chosen = default if layer is None else int(layer)
    if not 0 <= chosen <= num_layers:
        raise MetricInputError(f"expected a layer in 0..{num_layers}, found {chosen}")
    return {"layer": chosen, "num_layers": num_layers, "pooling": pooling,
            "layer_is_default": chosen == default}


def pool(hidden_states: np.ndarray, attention_mask: np.ndarray,
         method: str = DEFAULT_POOLING) -> np.ndarray:
    """Sentence embeddings from one layer's token states.

    Parameters
    ----------
    hidden_states : ndarray, shape (batch, seq, dim)
    attention_mask : ndarray, shape (batch, seq)
        1 for real tokens, 0 for padding.
    method : {"mean", "cls"}
        ``"mean"``: average over positions with mask 1 (special tokens included, as in
        XTREME; zero their mask to exclude them). ``"cls"``: the first position.

    Returns
    -------
    ndarray, shape (batch, dim)
    """
    h = np.asarray(hidden_states)
    mask = np.asarray(attention_mask)
    if h.ndim != 3 or mask.shape != h.shape[:2]:
        raise MetricInputError(
            f"pool: expected hidden states (batch, seq, dim) and mask (batch, seq), found "
            f"{h.shape} and {mask.shape}")
    if method == "cls":
        return h[:, 0, :]
    if method != "mean":
        raise MetricInputError(f"pool: expected method in {POOLING_METHODS}, found {method!r}")
    mask = mask.astype(np.result_type(h.dtype, np.float32))
    counts = mask.sum(axis=1, keepdims=True)
    if np.any(counts == 0):
        raise MetricInputError("pool: a sentence has no unmasked token")
    return (h * mask[:, :, None]).sum(axis=1) / counts


@register_metric("tatoeba", primary="accuracy")
def tatoeba_accuracy(src_emb: np.ndarray, tgt_emb: np.ndarray,
                     block_size: int = 1024) -> dict[str, float]:
    """Cosine nearest-neighbour retrieval accuracy; row i of ``src`` is aligned to row i of ``tgt``.

    Each row of ``src_emb`` is a query; its prediction is the row of ``tgt_emb`` with the
    highest cosine (the lowest index on a tie), correct when it is the same row index.

    Parameters
    ----------
    src_emb, tgt_emb : ndarray, shape (n, d)
        Aligned sentence embeddings (normalised here).
    block_size : int
        Queries per block of matrix products.

    Returns
    -------
    dict
        ``{"accuracy": ...}`` on the 0-100 scale; primary key ``"accuracy"``.

    Notes
    -----
    XTREME's script indexes the non-English side and queries with the English sentences;
    to reproduce it call ``tatoeba_accuracy(english_emb, other_emb)``. The direction
    matters: accuracy is not symmetric.
    """
    x, y = l2_normalize(src_emb), l2_normalize(tgt_emb)
    check_embedding_pair(x, y)
    if x.shape[0] != y.shape[0]:
        raise MetricInputError(
            f"tatoeba: expected as many target as source rows, found {y.shape[0]} and {x.shape[0]}")
    correct = 0
    for start in range(0, x.shape[0], block_size):
        pred = (x[start:start + block_size] @ y.T).argmax(axis=1)
        correct += int(np.sum(pred == np.arange(start, start + len(pred))))
    return {"accuracy": 100.0 * correct / x.shape[0]}
