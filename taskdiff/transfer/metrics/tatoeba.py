"""Tatoeba sentence retrieval: pooling, default layer, nearest-neighbour accuracy.

XTREME scores Tatoeba (and BUCC) straight from a pretrained or intermediate-trained encoder,
without fine-tuning: a sentence embedding pools the token states of one intermediate layer,
and each query is matched to its cosine nearest neighbour.

Layer numbering (google-research/xtreme ``third_party/evaluate_retrieval.py``, commit
838c13b): ``extract_embeddings`` keeps ``all_layer_outputs[-num_layers:]``, i.e. it drops the
embedding output, and then takes ``[specific_layer]``. So XTREME's layer ``k`` is Hugging
Face's ``hidden_states[k + 1]`` (``hidden_states[0]`` is the embedding output):
``scripts/run_tatoeba.sh`` uses layer 7 of 12 (mBERT: ``hidden_states[8]``) and layer 13 of
24 (XLM-R Large: ``hidden_states[14]``); ``scripts/run_bucc2018.sh`` uses layer 7. Pooling:
``run_tatoeba.sh`` keeps the default ``--pool_type mean`` (over every position of the
attention mask, special tokens included: ``--pool_skip_special_token`` is off);
``run_bucc2018.sh`` passes ``--pool_type cls``. Those are the defaults here
(:data:`XTREME_LAYERS`, :data:`TASK_POOLING`); every retrieval score records the layer in
both numberings and the pooling (:func:`retrieval_setup`).
"""

from __future__ import annotations

import numpy as np

from ._checks import MetricInputError, check_embedding_pair
from .bucc import l2_normalize
from .registry import register_metric

POOLING_METHODS = ("mean", "cls")
DEFAULT_POOLING = "mean"
"""Pooling when the task has no XTREME setting (Tatoeba's)."""
TASK_POOLING = {"tatoeba": "mean", "bucc": "cls"}
"""XTREME's pooling per retrieval metric: run_tatoeba.sh (default mean), run_bucc2018.sh (cls)."""
XTREME_LAYERS = {12: 7, 24: 13}
"""Depth -> XTREME's ``--specific_layer`` (embedding output dropped; add 1 for ``hidden_states``)."""
RETRIEVAL_LAYER_FRACTION = (14, 24)
"""For other depths: XLM-R Large's ``hidden_states[14]`` of 24 as a fraction of depth."""


def hidden_states_index(xtreme_layer: int) -> int:
    """Hugging Face ``hidden_states`` index of XTREME's ``--specific_layer`` (``k`` -> ``k + 1``)."""
    return int(xtreme_layer) + 1


def xtreme_layer(hidden_states_index: int) -> int | None:
    """XTREME's layer number of ``hidden_states[i]`` (``i - 1``; None for the embedding output)."""
    return int(hidden_states_index) - 1 if hidden_states_index >= 1 else None


def default_retrieval_layer(num_layers: int) -> int:
    """``hidden_states`` index of the default retrieval layer of a ``num_layers``-layer model.

    XTREME's own setting where it has one (:data:`XTREME_LAYERS`: 12 -> layer 7 =
    ``hidden_states[8]``, 24 -> layer 13 = ``hidden_states[14]``); for other depths
    ``round(num_layers * 14 / 24)`` (halves up) as a ``hidden_states`` index: 6 -> 4, 4 -> 2,
    2 -> 1 (XTREME has no setting for them; this is XLM-R Large's relative depth).

    The index is into the Hugging Face ``hidden_states`` tuple (``output_hidden_states=True``),
    whose entry 0 is the embedding output and entry ``i`` the output of transformer layer
    ``i``. Record the value (in both numberings) and the pooling with every retrieval result;
    :func:`retrieval_setup` does.
    """
    if num_layers < 1:
        raise MetricInputError(f"expected at least one transformer layer, found {num_layers}")
    if num_layers in XTREME_LAYERS:
        return hidden_states_index(XTREME_LAYERS[num_layers])
    num, den = RETRIEVAL_LAYER_FRACTION
    return (num_layers * num + den // 2) // den


def retrieval_setup(num_layers: int, layer: int | None = None, pooling: str | None = None,
                    task: str = "tatoeba") -> dict[str, object]:
    """The retrieval configuration to use and to store next to BUCC/Tatoeba scores.

    Parameters
    ----------
    num_layers : int
        The encoder's transformer layers.
    layer : int, optional
        A ``hidden_states`` index (0 = embedding output); default
        :func:`default_retrieval_layer`.
    pooling : {"mean", "cls"}, optional
        Default: XTREME's for ``task`` (:data:`TASK_POOLING`).
    task : str
        The retrieval metric, ``"tatoeba"`` or ``"bucc"``.

    Returns
    -------
    dict
        ``hidden_states_index`` (the index used), ``xtreme_layer`` (the same layer in
        XTREME's ``--specific_layer`` numbering, None for the embedding output),
        ``num_layers``, ``pooling``, ``layer_is_default``, ``pooling_is_default``, and
        ``convention``: ``"xtreme"`` when both are XTREME's (a 12- or 24-layer model),
        ``"xtreme-scaled"`` when both are the defaults on another depth, else ``"custom"``.
    """
    default_pooling = TASK_POOLING.get(task, DEFAULT_POOLING)
    chosen_pooling = default_pooling if pooling is None else pooling
    if chosen_pooling not in POOLING_METHODS:
        raise MetricInputError(f"expected pooling in {POOLING_METHODS}, found {chosen_pooling!r}")
    default = default_retrieval_layer(num_layers)
    chosen = default if layer is None else int(layer)
    if not 0 <= chosen <= num_layers:
        raise MetricInputError(f"expected a hidden_states index in 0..{num_layers}, found {chosen}")
    both = chosen == default and chosen_pooling == default_pooling
    return {"hidden_states_index": chosen, "xtreme_layer": xtreme_layer(chosen), "num_layers": num_layers,
            "pooling": chosen_pooling, "layer_is_default": chosen == default,
            "pooling_is_default": chosen_pooling == default_pooling,
            "convention": ("custom" if not both else "xtreme" if num_layers in XTREME_LAYERS
                           else "xtreme-scaled")}


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
