"""Mean pooling of token states and cosine similarity of (data set) embeddings.

A sequence embedding is the mean of its real token states,
:math:`\\bar h = \\sum_t m_t h_t / \\sum_t m_t` with :math:`m_t \\in \\{0, 1\\}` the
attention mask. TextEmb of a data set (Vu et al. 2020) is the mean over the data set of
token states; two tasks are compared with the cosine
:math:`\\cos(a, b) = a^\\top b / (\\lVert a \\rVert \\lVert b \\rVert)`.

References
----------
Vu et al. (2020), "Exploring and Predicting Transferability across NLP Tasks", EMNLP.
Reimers and Gurevych (2019), "Sentence-BERT", EMNLP (mean pooling).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def mean_pool(hidden, mask=None) -> np.ndarray:
    """Masked mean over the token axis.

    Parameters
    ----------
    hidden : array_like, shape (..., T, D)
        Token states, e.g. (N, T, D) for a batch.
    mask : array_like, shape (..., T), optional
        1/True for real tokens; all tokens count when omitted. A row without real tokens
        pools to the zero vector.

    Returns
    -------
    numpy.ndarray, shape (..., D)
    """
    h = np.asarray(hidden, dtype=np.float64)
    if mask is None:
        return h.mean(axis=-2)
    m = np.asarray(mask, dtype=np.float64)
    if m.shape != h.shape[:-1]:
        raise ValueError(f"mask shape {m.shape} must equal hidden shape without its last "
                         f"axis {h.shape[:-1]}")
    total = np.einsum("...t,...td->...d", m, h)
    return total / np.maximum(m.sum(axis=-1, keepdims=True), _EPS)


def dataset_embedding(hidden, mask=None, *, token_weighted: bool = True) -> np.ndarray:
    """Embedding of a whole data set from its token states (N, T, D).

    ``token_weighted=True`` averages all real tokens of the data set (TextEmb: longer
    sequences weigh more); ``False`` averages the per-sequence means.

    Returns
    -------
    numpy.ndarray, shape (D,)
    """
    h = np.asarray(hidden, dtype=np.float64)
    if not token_weighted:
        return mean_pool(h, mask).mean(axis=0)
    m = np.ones(h.shape[:-1]) if mask is None else np.asarray(mask, dtype=np.float64)
    return np.einsum("nt,ntd->d", m, h) / max(m.sum(), _EPS)


def cosine_similarity(a, b) -> float:
    """Cosine of two vectors of shape (D,); 0 if either is the zero vector."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"vectors differ in length: {a.shape} and {b.shape}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > _EPS and nb > _EPS else 0.0


def pairwise_cosine(a, b=None) -> np.ndarray:
    """Cosine similarity of every row of ``a`` (M, D) with every row of ``b`` (P, D).

    Returns
    -------
    numpy.ndarray, shape (M, P)
        ``b`` defaults to ``a``; zero rows get similarity 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = a if b is None else np.asarray(b, dtype=np.float64)
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    a_unit = np.divide(a, na, out=np.zeros_like(a), where=na > _EPS)
    b_unit = np.divide(b, nb, out=np.zeros_like(b), where=nb > _EPS)
    return a_unit @ b_unit.T


def mean_pooled_similarity(hidden_a, mask_a, hidden_b, mask_b) -> float:
    """Cosine of the token-weighted data-set embeddings of two sets of token states."""
    return cosine_similarity(dataset_embedding(hidden_a, mask_a),
                             dataset_embedding(hidden_b, mask_b))
