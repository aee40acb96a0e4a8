"""CR2 cluster-robust covariance with Bell–McCaffrey degrees of freedom (few clusters).

With G clusters (here: intermediate tasks) the usual cluster-robust sandwich (CR1,
statsmodels ``cov_type="cluster"``) is biased downwards when G is small, and a t reference
with G - 1 degrees of freedom is far too liberal: a 4-task study gave one-feature slopes with
t = 272 and t = 3,282. Bell and McCaffrey (2002) correct both:

* **CR2**: every cluster's residuals are rescaled by :math:`A_g = (I - H_{gg})^{-1/2}` (the
  symmetric inverse square root; :math:`H = X(X^\\top X)^{-1}X^\\top`), so that under
  homoskedastic independent errors the variance estimate is exactly unbiased:

  .. math::

      \\hat V = (X^\\top X)^{-1} \\Big(\\sum_g X_g^\\top A_g e_g e_g^\\top A_g X_g\\Big)
      (X^\\top X)^{-1};

  with one observation per cluster it is HC2.
* **Degrees of freedom** of a contrast :math:`c^\\top\\beta`: the Satterthwaite approximation of
  :math:`c^\\top \\hat V c` under a working model :math:`\\varepsilon \\sim N(0, \\sigma^2 I)`.
  With :math:`G_g = (I - H)_{\\cdot g} A_g X_g (X^\\top X)^{-1} c` (an N-vector per cluster) and
  :math:`\\lambda` the eigenvalues of the G x G matrix :math:`[G_g^\\top G_h]`,
  :math:`\\nu = (\\sum\\lambda)^2 / \\sum\\lambda^2` (Imbens and Kolesár 2016, eq. 8). For an
  intercept-only model with equal cluster sizes :math:`\\nu = G - 1`; when one cluster
  dominates the leverage of a coefficient :math:`\\nu` falls towards 1, which is what keeps
  the test honest with few clusters.

Why written here: statsmodels (0.14) offers CR1 only (``cov_type="cluster"``); the reference
implementation is R's clubSandwich (``vcovCR(type = "CR2")``, ``coef_test(test =
"Satterthwaite")``), which this module follows for ordinary least squares with identity
working weights. Clusters whose :math:`I - H_{gg}` is singular (a cluster that alone
determines a coefficient) use the Moore–Penrose inverse square root, as clubSandwich does.

References
----------
Bell and McCaffrey (2002), "Bias reduction in standard errors for linear regression with
multi-stage samples", Survey Methodology 28(2). Imbens and Kolesár (2016), "Robust standard
errors in small samples: some practical advice", REStat 98(4). Pustejovsky and Tipton
(2018), "Small-sample methods for cluster-robust variance estimation and hypothesis testing
in fixed effects models", JBES 36(4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CR2Fit", "cr2_adjustments", "cr2_vcov", "bell_mccaffrey_df", "cr2_ols"]

_RTOL = 1e-10


def _inv_sqrt_psd(m: np.ndarray) -> np.ndarray:
    """Symmetric (pseudo-)inverse square root of a symmetric PSD matrix."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    keep = w > _RTOL * max(1.0, float(np.max(np.abs(w))) if w.size else 1.0)
    inv = np.zeros_like(w)
    inv[keep] = 1.0 / np.sqrt(w[keep])
    return (v * inv) @ v.T


def _clusters(groups) -> list[np.ndarray]:
    g = np.asarray(groups)
    _, codes = np.unique(g, return_inverse=True)
    return [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]


def _bread(X: np.ndarray) -> np.ndarray:
    return np.linalg.pinv(X.T @ X)


def cr2_adjustments(X, groups) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(row indices, A_g)`` per cluster, ``A_g = (I - H_gg)^{-1/2}``."""
    X = np.asarray(X, dtype=float)
    bread = _bread(X)
    out = []
    for idx in _clusters(groups):
        xg = X[idx]
        out.append((idx, _inv_sqrt_psd(np.eye(len(idx)) - xg @ bread @ xg.T)))
    return out


def cr2_vcov(X, resid, groups, adjustments=None) -> np.ndarray:
    """CR2 covariance matrix (p x p) of OLS coefficients from residuals ``resid``.

    Parameters
    ----------
    X : array_like, shape (N, p)
        Design matrix (with the intercept column, if any).
    resid : array_like, shape (N,)
        OLS residuals ``y - X b``.
    groups : array_like, shape (N,)
        Cluster label of every row.
    adjustments : list, optional
        :func:`cr2_adjustments` of ``(X, groups)``, when already computed.
    """
    X, e = np.asarray(X, dtype=float), np.asarray(resid, dtype=float)
    bread = _bread(X)
    meat = np.zeros((X.shape[1], X.shape[1]))
    for idx, a in adjustments or cr2_adjustments(X, groups):
        u = X[idx].T @ (a @ e[idx])
        meat += np.outer(u, u)
    return bread @ meat @ bread


def bell_mccaffrey_df(X, groups, contrast, adjustments=None) -> float:
    """Bell–McCaffrey (Satterthwaite) degrees of freedom of ``contrast @ beta`` under CR2.

    Working model: independent homoskedastic errors (see the module docstring).
    ``adjustments``: :func:`cr2_adjustments` of ``(X, groups)``, when already computed.
    """
    X = np.asarray(X, dtype=float)
    c = np.asarray(contrast, dtype=float)
    bread = _bread(X)
    cols = []
    for idx, a in adjustments or cr2_adjustments(X, groups):
        v = a @ (X[idx] @ (bread @ c))  # (I - H)[:, idx] @ v without forming the N x N matrix
        col = -X @ (bread @ (X[idx].T @ v))
        col[idx] += v
        cols.append(col)
    gmat = np.column_stack(cols)
    lam = np.linalg.eigvalsh(gmat.T @ gmat)
    lam = lam[lam > 0]
    return float(lam.sum() ** 2 / np.sum(lam**2)) if lam.size else float("nan")


@dataclass(frozen=True)
class CR2Fit:
    """OLS with CR2 standard errors and per-coefficient Bell–McCaffrey df."""

    params: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    resid: np.ndarray
    n_clusters: int

    @property
    def bse(self) -> np.ndarray:
        """Standard errors (square roots of the CR2 variances)."""
        return np.sqrt(np.diag(self.vcov))


def cr2_ols(X, y, groups) -> CR2Fit:
    """Fit OLS of ``y`` on ``X``; CR2 covariance and Bell–McCaffrey df for every coefficient."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    params, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ params
    adj = cr2_adjustments(X, groups)
    vcov = cr2_vcov(X, resid, groups, adj)
    eye = np.eye(X.shape[1])
    df = np.array([bell_mccaffrey_df(X, groups, eye[j], adj) for j in range(X.shape[1])])
    return CR2Fit(params=params, vcov=vcov, df=df, resid=resid,
                  n_clusters=len(np.unique(np.asarray(groups))))
