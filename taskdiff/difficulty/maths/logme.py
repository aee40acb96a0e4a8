"""LogME: the log of the maximum evidence of a Bayesian linear model on frozen features.

For features :math:`F \\in \\mathbb R^{N \\times D}` and one target column
:math:`y \\in \\mathbb R^N`, the model :math:`y = Fw + \\epsilon` with prior
:math:`w \\sim \\mathcal N(0, \\alpha^{-1} I_D)` and noise
:math:`\\epsilon \\sim \\mathcal N(0, \\beta^{-1} I_N)` has log evidence

.. math::

    \\mathcal L(\\alpha, \\beta) = \\tfrac D2 \\log\\alpha + \\tfrac N2 \\log\\beta
    - \\tfrac N2 \\log 2\\pi - \\tfrac\\beta2 \\lVert Fm - y \\rVert^2
    - \\tfrac\\alpha2 m^\\top m - \\tfrac12 \\log\\lvert A \\rvert,

with :math:`A = \\alpha I + \\beta F^\\top F` and :math:`m = \\beta A^{-1} F^\\top y`.
(Equivalently :math:`\\log \\mathcal N(y; 0, \\beta^{-1} I + \\alpha^{-1} F F^\\top)`.)
With :math:`F^\\top F = V \\operatorname{diag}(\\sigma) V^\\top` (from the SVD of
:math:`F`, zero-padded to :math:`D` eigenvalues) the fixed-point iteration of
algorithm 2 of the paper is

.. math::

    \\gamma = \\sum_{j=1}^D \\frac{\\beta\\sigma_j}{\\alpha + \\beta\\sigma_j}, \\quad
    \\alpha \\leftarrow \\frac{\\gamma}{m^\\top m}, \\quad
    \\beta \\leftarrow \\frac{N - \\gamma}{\\lVert Fm - y \\rVert^2},

from :math:`\\alpha = \\beta = 1` until :math:`\\alpha/\\beta` changes by less than
``tol`` (relative). LogME is :math:`\\mathcal L(\\alpha^*, \\beta^*)/N`, averaged over the
one-vs-rest indicator columns of the classes (classification) or over the target columns
(regression).

Differences from the reference implementation (thuml/LogME): it stops after 11 iterations
with tolerance 1e-3 and adds 1e-5 to the denominators; here the iteration runs to
``tol`` (default 1e-7, at most ``max_iter`` steps) and denominators are only floored at
1e-300. When :math:`D > N` the reference's truncated-SVD variant drops the
:math:`(D - \\operatorname{rank} F)` zero eigenvalues from :math:`\\log|A|` while keeping
:math:`\\tfrac D2 \\log\\alpha`; here :math:`\\log|A|` uses all :math:`D` eigenvalues, which is
the evidence itself.

References
----------
You, Liu, Wang and Long (2021), "LogME: Practical Assessment of Pre-trained Models for
Transfer Learning", ICML. MacKay (1992), "Bayesian Interpolation", Neural Computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TINY = 1e-300


@dataclass(frozen=True)
class _Spectrum:
    """What the evidence needs from F: eigenvalues of F^T F and y projected on U."""

    sigma: np.ndarray  # (k,) nonzero-capable eigenvalues s_j**2, k = min(N, D)
    n: int
    d: int
    u: np.ndarray  # (N, k) left singular vectors


def _spectrum(features) -> _Spectrum:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be an (N, D) array with N >= 2, found shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or infinite values")
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    return _Spectrum(sigma=s**2, n=f.shape[0], d=f.shape[1], u=u)


def _evidence_terms(spec: _Spectrum, y: np.ndarray, alpha: float, beta: float):
    """Return (log evidence, gamma, m^T m, ||Fm - y||^2) at (alpha, beta)."""
    x = spec.u.T @ y  # coordinates of y in the column space of F
    out_of_span = max(float(y @ y - x @ x), 0.0)
    denom = alpha + beta * spec.sigma
    gamma = float(np.sum(beta * spec.sigma / denom))
    mm = float(np.sum(beta**2 * spec.sigma * x**2 / denom**2))
    res = float(np.sum((alpha / denom) ** 2 * x**2)) + out_of_span
    log_det_a = float(np.sum(np.log(denom))) + (spec.d - spec.sigma.size) * np.log(alpha)
    ev = (spec.d / 2 * np.log(alpha) + spec.n / 2 * np.log(beta) - spec.n / 2 * np.log(2 * np.pi)
          - beta / 2 * res - alpha / 2 * mm - log_det_a / 2)
    return float(ev), gamma, mm, res


def log_evidence(features, y, alpha: float, beta: float) -> float:
    """Log evidence :math:`\\mathcal L(\\alpha, \\beta)` (nats, not divided by N) of one column.

    Parameters
    ----------
    features : array_like, shape (N, D)
    y : array_like, shape (N,)
    alpha, beta : float
        Prior precision and noise precision, both > 0.
    """
    return _evidence_terms(_spectrum(features), np.asarray(y, dtype=np.float64), alpha, beta)[0]


def _maximise(spec: _Spectrum, y: np.ndarray, tol: float, max_iter: int):
    """Fixed-point iteration of algorithm 2; returns (evidence / N, alpha, beta)."""
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        _, gamma, mm, res = _evidence_terms(spec, y, alpha, beta)
        new_alpha = gamma / max(mm, _TINY)
        new_beta = max(spec.n - gamma, _TINY) / max(res, _TINY)
        ratio_old, ratio_new = alpha / beta, new_alpha / new_beta
        alpha, beta = new_alpha, new_beta
        if abs(ratio_new - ratio_old) <= tol * ratio_old:
            break
    return _evidence_terms(spec, y, alpha, beta)[0] / spec.n, alpha, beta


def _mean_evidence(features, columns: np.ndarray, tol: float, max_iter: int) -> float:
    spec = _spectrum(features)
    if columns.shape[0] != spec.n:
        raise ValueError(f"{spec.n} feature rows but {columns.shape[0]} targets")
    return float(np.mean([_maximise(spec, col, tol, max_iter)[0] for col in columns.T]))


def logme(features, labels, *, tol: float = 1e-7, max_iter: int = 1000) -> float:
    """LogME score of features for a classification target.

    :math:`\\frac1K \\sum_{k=1}^K \\mathcal L_k(\\alpha_k^*, \\beta_k^*) / N` with
    :math:`y_k = [\\text{label} = k]` one-vs-rest indicators of the :math:`K` classes present.

    Parameters
    ----------
    features : array_like, shape (N, D)
    labels : array_like, shape (N,)
        Class labels of any sortable type.
    tol, max_iter : float, int
        Stopping rule of the fixed-point iteration.

    Returns
    -------
    float
        Mean evidence per example (nats); higher means the features fit the labels better.
        Compare models on one target, not targets with each other.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    onehot = (labels[:, None] == classes[None, :]).astype(np.float64)
    return _mean_evidence(features, onehot, tol, max_iter)


def logme_regression(features, targets, *, tol: float = 1e-7, max_iter: int = 1000) -> float:
    """LogME score for real-valued targets of shape (N,) or (N, C), averaged over columns."""
    t = np.asarray(targets, dtype=np.float64)
    return _mean_evidence(features, t.reshape(len(t), -1), tol, max_iter)


def logme_fit(features, y, *, tol: float = 1e-7,
              max_iter: int = 1000) -> tuple[float, float, float]:
    """Maximised evidence of one column: ``(evidence / N, alpha*, beta*)``."""
    return _maximise(_spectrum(features), np.asarray(y, dtype=np.float64), tol, max_iter)
