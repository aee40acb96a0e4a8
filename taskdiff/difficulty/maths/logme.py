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

**Maximisation (profile evidence in one bounded variable).** With
:math:`F F^\\top = U \\operatorname{diag}(\\sigma) U^\\top` (:math:`r` = numerical rank of
:math:`F`, :math:`x = U_r^\\top y`, :math:`o = \\lVert y\\rVert^2 - \\lVert x\\rVert^2` the part
of :math:`y` outside the column space of :math:`F`) and :math:`\\lambda = \\alpha/\\beta`, the
covariance is :math:`\\beta^{-1} S_\\lambda` with :math:`S_\\lambda = I + FF^\\top/\\lambda`, so
:math:`\\beta` maximises in closed form, :math:`\\beta^* = N / q(\\lambda)`, and

.. math::

    \\max_\\beta \\mathcal L = -\\tfrac N2 \\log 2\\pi - \\tfrac N2 + \\tfrac N2 \\log\\frac{N}{q(\\lambda)}
    - \\tfrac12 \\sum_{j\\le r} \\log(1 + \\sigma_j/\\lambda), \\qquad
    q(\\lambda) = \\sum_{j\\le r} \\frac{x_j^2}{1 + \\sigma_j/\\lambda} + o.

This one-variable function is maximised over
:math:`\\log\\lambda \\in [\\log\\sigma_{\\min} - 25, \\log\\sigma_{\\max} + 25]` (beyond both
ends it is flat to :math:`e^{-25}`) by a grid of ``grid`` points and a bounded Brent
refinement around the best grid point (``scipy.optimize.minimize_scalar``). It is the
exact evidence at every point, so the result never falls below any point the search saw.

Why not the fixed-point iteration of algorithm 2 of the paper
(:math:`\\alpha \\leftarrow \\gamma/m^\\top m`, :math:`\\beta \\leftarrow (N-\\gamma)/\\lVert Fm-y\\rVert^2`):
when :math:`N \\le D` every target can be fitted exactly (:math:`o = 0`, :math:`r = N`); the
evidence then has its supremum as :math:`\\beta \\to \\infty` (its limit
:math:`\\log \\mathcal N(y; 0, \\alpha^{-1} FF^\\top)` maximised over :math:`\\alpha`) or an interior
maximum, and the iteration either runs away (:math:`\\alpha` to ~1e18) or stops at a
stationary point far below the maximum (e.g. -0.68 against 1.78 nats per example in
``tests/difficulty/test_logme_evidence.py``). When the supremum is the
:math:`\\beta\\to\\infty` limit, the value returned is the evidence at the lower end of the
bracket (within :math:`e^{-25}` of the limit, relative) and :math:`\\alpha^*, \\beta^*` are there.

Eigenvalues of :math:`FF^\\top` whose singular value is below
:math:`\\max(N, D)\\,\\epsilon\\, s_{\\max}` (``numpy.linalg.matrix_rank``'s tolerance) are
treated as zero: below that the SVD does not resolve them, and an exact fit through them is
rounding, not signal.

LogME is :math:`\\mathcal L(\\alpha^*, \\beta^*)/N`, averaged over the one-vs-rest indicator
columns of the classes (classification) or over the target columns (regression).

Differences from the reference implementation (thuml/LogME): it runs 11 fixed-point steps
with tolerance 1e-3 and adds 1e-5 to the denominators, and when :math:`D > N` its
truncated-SVD variant drops the :math:`(D - \\operatorname{rank} F)` zero eigenvalues from
:math:`\\log|A|` while keeping :math:`\\tfrac D2 \\log\\alpha`, which is not the evidence. Here the
exact evidence is maximised as above; for :math:`N > D` with an interior maximum both reach
the same :math:`(\\alpha^*, \\beta^*)` up to the reference's tolerance.

References
----------
You, Liu, Wang and Long (2021), "LogME: Practical Assessment of Pre-trained Models for
Transfer Learning", ICML. MacKay (1992), "Bayesian Interpolation", Neural Computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

_MARGIN = 25.0  # log-lambda bracket beyond the extreme eigenvalues


@dataclass(frozen=True)
class _Spectrum:
    """What the evidence needs from F: nonzero eigenvalues of F F^T and their eigenvectors."""

    sigma: np.ndarray  # (r,) eigenvalues s_j**2 above the numerical-rank tolerance
    n: int
    d: int
    u: np.ndarray  # (N, r) left singular vectors


def _spectrum(features) -> _Spectrum:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be an (N, D) array with N >= 2, found shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or infinite values")
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    keep = s > (s[0] * max(f.shape) * np.finfo(np.float64).eps if s.size else 0.0)
    return _Spectrum(sigma=s[keep] ** 2, n=f.shape[0], d=f.shape[1], u=u[:, keep])


def _projection(spec: _Spectrum, y: np.ndarray) -> tuple[np.ndarray, float]:
    if y.shape != (spec.n,):
        raise ValueError(f"{spec.n} feature rows but a target of shape {y.shape}")
    x = spec.u.T @ y
    return x, max(float(y @ y - x @ x), 0.0)


def _evidence(spec: _Spectrum, x: np.ndarray, out: float, alpha: float, beta: float) -> float:
    """log N(y; 0, beta^-1 I + alpha^-1 F F^T) from the spectrum (exact for any N, D)."""
    c = 1.0 / beta + spec.sigma / alpha  # covariance eigenvalues in the span of F
    n_out = spec.n - spec.sigma.size
    return float(-spec.n / 2 * np.log(2 * np.pi) - 0.5 * np.sum(np.log(c)) - 0.5 * np.sum(x**2 / c)
                 + n_out / 2 * np.log(beta) - beta / 2 * out)


def log_evidence(features, y, alpha: float, beta: float) -> float:
    """Log evidence :math:`\\mathcal L(\\alpha, \\beta)` (nats, not divided by N) of one column.

    Parameters
    ----------
    features : array_like, shape (N, D)
    y : array_like, shape (N,)
    alpha, beta : float
        Prior precision and noise precision, both > 0.
    """
    spec = _spectrum(features)
    x, out = _projection(spec, np.asarray(y, dtype=np.float64))
    return _evidence(spec, x, out, alpha, beta)


def _profile(spec: _Spectrum, x: np.ndarray, out: float, log_lam: float) -> tuple[float, float]:
    """(max over beta of the evidence at lambda = alpha/beta, the maximising beta)."""
    ratio = spec.sigma * np.exp(-log_lam)  # sigma_j / lambda
    q = float(np.sum(x**2 / (1.0 + ratio))) + out
    n = spec.n
    ev = -n / 2 * np.log(2 * np.pi) - n / 2 + n / 2 * np.log(n / q) - 0.5 * float(np.sum(np.log1p(ratio)))
    return ev, n / q


def _maximise(spec: _Spectrum, y: np.ndarray, grid: int):
    """Maximise the exact evidence; returns (evidence / N, alpha*, beta*)."""
    x, out = _projection(spec, y)
    if float(y @ y) <= 0.0:
        raise ValueError("the target column is all zeros: its evidence has no maximum")
    if spec.sigma.size == 0:  # F = 0: the noise-only model
        beta = spec.n / out
        return _evidence(spec, x, out, 1.0, beta) / spec.n, float("inf"), beta
    lo = float(np.log(spec.sigma.min())) - _MARGIN
    hi = float(np.log(spec.sigma.max())) + _MARGIN
    points = np.linspace(lo, hi, max(int(grid), 3))
    values = np.array([_profile(spec, x, out, t)[0] for t in points])
    best = int(np.argmax(values))
    t_best, v_best = float(points[best]), float(values[best])
    a, b = points[max(best - 1, 0)], points[min(best + 1, len(points) - 1)]
    res = optimize.minimize_scalar(lambda t: -_profile(spec, x, out, t)[0], bounds=(a, b),
                                   method="bounded", options={"xatol": 1e-10})
    if res.success and -res.fun > v_best:
        t_best = float(res.x)
    ev, beta = _profile(spec, x, out, t_best)
    return ev / spec.n, float(np.exp(t_best) * beta), float(beta)


def _mean_evidence(features, columns: np.ndarray, grid: int) -> float:
    spec = _spectrum(features)
    if columns.shape[0] != spec.n:
        raise ValueError(f"{spec.n} feature rows but {columns.shape[0]} targets")
    return float(np.mean([_maximise(spec, col, grid)[0] for col in columns.T]))


def logme(features, labels, *, grid: int = 201) -> float:
    """LogME score of features for a classification target.

    :math:`\\frac1K \\sum_{k=1}^K \\mathcal L_k(\\alpha_k^*, \\beta_k^*) / N` with
    :math:`y_k = [\\text{label} = k]` one-vs-rest indicators of the :math:`K` classes present.

    Parameters
    ----------
    features : array_like, shape (N, D)
    labels : array_like, shape (N,)
        Class labels of any sortable type.
    grid : int
        Points of the log-lambda grid before the bounded refinement (see the module).

    Returns
    -------
    float
        Mean evidence per example (nats); higher means the features fit the labels better.
        Compare models on one target, not targets with each other.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    onehot = (labels[:, None] == classes[None, :]).astype(np.float64)
    return _mean_evidence(features, onehot, grid)


def logme_regression(features, targets, *, grid: int = 201) -> float:
    """LogME score for real-valued targets of shape (N,) or (N, C), averaged over columns."""
    t = np.asarray(targets, dtype=np.float64)
    return _mean_evidence(features, t.reshape(len(t), -1), grid)


def logme_fit(features, y, *, grid: int = 201) -> tuple[float, float, float]:
    """Maximised evidence of one column: ``(evidence / N, alpha*, beta*)``."""
    return _maximise(_spectrum(features), np.asarray(y, dtype=np.float64), grid)
