"""Regression of row-level gains on task-level features, SEs clustered by intermediate task.

``GainRegression(features).fit(table)`` fits ordinary least squares of ``gain_z`` (one row
per intermediate, target, language, seed of the primary metric) on the intermediate task's
features. Because the features do not vary within an intermediate task, rows of the same
task are not independent evidence: standard errors are cluster-robust by intermediate task.
The default is CR2 with Bell–McCaffrey degrees of freedom per coefficient
(:mod:`taskdiff.analysis.cr2`), valid with few clusters; CR1 (statsmodels
``cov_type="cluster"``, t with G - 1 df; Cameron & Miller 2015) is kept as ``se="cr1"`` for
comparison only: with 4 tasks it gave t = 3,282 where CR2/BM gives an honest interval.
G, the number of intermediate tasks, is the effective n:
the fit is refused when G < k + 2 for k features and a :class:`SmallSampleWarning` is raised
(and stored in the results) when G < 10 k. A design that is not identified (constant,
missing or collinear features across tasks) is refused with an error naming the features.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.stats

from taskdiff.analysis._format import fmt_p, frame_to_markdown, frame_to_text
from taskdiff.analysis.cr2 import cr2_ols
from taskdiff.analysis.design import SmallSampleWarning, check_effective_n, check_identified
from taskdiff.analysis.table import StudyTable
from taskdiff.analysis.wildboot import wild_cluster_pvalue

__all__ = ["CoefficientResults", "RegressionResults", "GainRegression", "feature_list", "response_rows",
           "task_design"]


@dataclass
class CoefficientResults:
    """Coefficients with standard errors, t-based tests and intervals (shared by all models).

    Attributes
    ----------
    params, bse : Series
        Estimates and standard errors (index: ``"const"`` and feature names).
    df_inference : float or Series
        Degrees of freedom of the t reference distribution (inf = normal); a Series (index:
        terms) when they differ per coefficient (Bell–McCaffrey).
    n_obs : int
        Rows used.
    n_groups : int
        Intermediate tasks (the effective n).
    small_n_warning : str or None
        The small-effective-n message when one was raised.
    model : str
        A short name of the model, used in summaries.
    notes : list of str
        Further caveats (estimation method, convergence, scaling).
    """

    params: pd.Series
    bse: pd.Series
    df_inference: float | pd.Series
    n_obs: int
    n_groups: int
    small_n_warning: str | None = None
    model: str = ""
    notes: list[str] = field(default_factory=list)
    level: float = 0.95

    @property
    def tvalues(self) -> pd.Series:
        """Estimate / standard error."""
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from t(``df_inference``)."""
        return pd.Series(2 * scipy.stats.t.sf(np.abs(self.tvalues), self._df()),
                         index=self.params.index)

    def _df(self) -> np.ndarray:
        df = self.df_inference
        if isinstance(df, pd.Series):
            return df.reindex(self.params.index).to_numpy(dtype=float)
        return np.full(len(self.params), float(df))

    def df_text(self) -> str:
        """The t reference's degrees of freedom in words (a range when per coefficient)."""
        df = self._df()
        if np.allclose(df, df[0]):
            return f"{df[0]:.3g} df"
        return f"{df.min():.3g}–{df.max():.3g} df (Bell–McCaffrey, per coefficient)"

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals (columns ``lower``, ``upper``) at level ``1 - alpha``."""
        alpha = 1 - self.level if alpha is None else alpha
        q = scipy.stats.t.ppf(1 - alpha / 2, self._df())
        return pd.DataFrame({"lower": self.params - q * self.bse,
                             "upper": self.params + q * self.bse})

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: estimate, se, t, p, lower, upper."""
        ci = self.conf_int()
        out = pd.DataFrame({"estimate": self.params, "se": self.bse, "t": self.tvalues,
                            "df": self._df(), "p": self.pvalues, "lower": ci["lower"],
                            "upper": ci["upper"]})
        out.index.name = "term"
        return out

    def header_lines(self) -> list[str]:
        """Model, n, effective n, df, level, then any small-n warning and the notes."""
        lines = [f"{self.model}: {self.n_obs} rows, {self.n_groups} intermediate tasks "
                 f"(effective n), t reference with {self.df_text()}, "
                 f"{self.level:.0%} intervals"]
        if self.small_n_warning:
            lines.append(f"WARNING: {self.small_n_warning}")
        return lines + self.notes

    def summary(self) -> str:
        """Plain-text summary: header, notes, coefficient table."""
        table = frame_to_text(self.to_frame(), {"p": fmt_p}, index=True)
        return "\n".join(self.header_lines() + ["", table])

    def to_markdown(self) -> str:
        """Markdown: header lines as a paragraph, then the coefficient table."""
        head = "\n".join(f"- {line}" for line in self.header_lines())
        return head + "\n\n" + frame_to_markdown(self.to_frame(), {"p": fmt_p}, index=True)


@dataclass
class RegressionResults(CoefficientResults):
    """Results of :class:`GainRegression`; ``sm_results`` holds the statsmodels results."""

    sm_results: object = None
    feature_center: pd.Series | None = None
    feature_scale: pd.Series | None = None
    #: Wild cluster restricted bootstrap p-values (Webb weights) of the features, if asked.
    p_wild: pd.Series | None = None

    def to_frame(self) -> pd.DataFrame:
        """As :meth:`CoefficientResults.to_frame`, plus ``p_wcb`` when bootstrapped."""
        out = super().to_frame()
        if self.p_wild is not None:
            out["p_wcb"] = self.p_wild.reindex(out.index)
        return out

    def sm_summary(self):
        """The statsmodels summary object of the underlying OLS fit."""
        return self.sm_results.summary()


def task_design(table: StudyTable, features: Sequence[str], *, standardize: bool = True,
                what: str = "the regression", warn: bool = True):
    """Checked task-level design: features per task, centre, scale and small-n message.

    Returns
    -------
    Z : DataFrame
        Index: intermediate task; (standardised) features.
    center, scale : Series
        What was subtracted and divided (0 and 1 when ``standardize`` is False).
    message : str or None
        The small-effective-n warning, if any.
    """
    features = list(features)
    if not features:
        raise ValueError("at least one feature is needed")
    X = table.task_features(features)
    msg = check_effective_n(len(X), len(features), what=what, warn=False)
    check_identified(X.to_numpy(dtype=float), features, tasks=list(X.index))
    if msg and warn:
        warnings.warn(msg, SmallSampleWarning, stacklevel=3)
    if standardize:
        center, scale = X.mean(), X.std(ddof=1)
    else:
        center = pd.Series(0.0, index=X.columns)
        scale = pd.Series(1.0, index=X.columns)
    return (X - center) / scale, center, scale, msg


def feature_list(features: str | Sequence[str]) -> list[str]:
    """``features`` as a list (one name may be given as a string)."""
    return [features] if isinstance(features, str) else list(features)


def response_rows(table: StudyTable, response: str) -> pd.DataFrame:
    """The primary-metric rows of ``table`` whose ``response`` is finite (what a gain model fits)."""
    rows = table.primary()
    return rows[np.isfinite(rows[response].to_numpy(dtype=float))]


class GainRegression:
    """OLS of gains on intermediate-task features with SEs clustered by task (CR2 + BM df).

    Parameters
    ----------
    features : sequence of str
        Feature names (dotted), e.g. ``["normalized_baseline_loss"]``.
    cluster : str or None
        Column whose levels are the clusters (``"intermediate"``); None = classical SEs
        (wrong for task-level features; for comparison only).
    wild_bootstrap : int
        Replicates of a wild cluster restricted bootstrap (Webb weights) per feature, a
        second few-clusters p-value (``p_wcb``, :mod:`taskdiff.analysis.wildboot`); 0 = off.
    seed : int
        Seed of that bootstrap.
    se : {"cr2", "cr1"}
        Cluster-robust estimator: CR2 with Bell–McCaffrey df per coefficient (default, valid
        with few clusters) or CR1 with G - 1 df (statsmodels; anti-conservative with few
        clusters, kept for comparison).
    response : str
        ``"gain_z"`` (standardised within target and metric) or ``"gain"``.
    standardize : bool
        Scale features to mean 0, SD 1 across intermediate tasks, so a coefficient is the
        change in the response per SD of the feature.
    level : float
        Confidence level of ``conf_int()``.
    """

    def __init__(self, features: Sequence[str], cluster: str | None = "intermediate",
                 response: str = "gain_z", standardize: bool = True, level: float = 0.95,
                 se: str = "cr2", wild_bootstrap: int = 0, seed: int = 0):
        self.features = features
        self.cluster = cluster
        self.se = se
        self.wild_bootstrap = wild_bootstrap
        self.seed = seed
        self.response = response
        self.standardize = standardize
        self.level = level

    def fit(self, table: StudyTable) -> RegressionResults:
        """Fit on the primary-metric rows of ``table``; returns :class:`RegressionResults`."""
        import statsmodels.api as sm

        features = feature_list(self.features)
        Z, center, scale, msg = task_design(table, features, standardize=self.standardize,
                                            what="GainRegression")
        rows = response_rows(table, self.response)
        X = sm.add_constant(Z.loc[rows["intermediate"]].to_numpy(dtype=float), has_constant="add")
        y = rows[self.response].to_numpy(dtype=float)
        names = ["const"] + features
        if self.se not in ("cr2", "cr1"):
            raise ValueError(f"se must be 'cr2' or 'cr1', found {self.se!r}")
        bse = None
        if self.cluster and self.se == "cr2":
            groups = pd.factorize(rows[self.cluster])[0]
            res = sm.OLS(y, X).fit()
            fit = cr2_ols(X, y, groups)
            bse, df_inf = fit.bse, pd.Series(fit.df, index=names)
            se_note = (f"standard errors clustered by {self.cluster} (CR2, Bell–McCaffrey "
                       f"degrees of freedom: valid with few clusters)")
        elif self.cluster:
            groups = pd.factorize(rows[self.cluster])[0]
            res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
            df_inf = float(len(np.unique(groups)) - 1)
            se_note = (f"standard errors clustered by {self.cluster} (CR1, t with G - 1 df: "
                       f"anti-conservative with few clusters)")
        else:
            res = sm.OLS(y, X).fit()
            df_inf = float(res.df_resid)
            se_note = "classical standard errors (rows treated as independent)"
        p_wild = None
        if self.cluster and self.wild_bootstrap:

            groups = pd.factorize(rows[self.cluster])[0]
            p_wild = pd.Series({f: wild_cluster_pvalue(X, y, groups, j + 1, n_boot=self.wild_bootstrap,
                                                       seed=self.seed)
                                for j, f in enumerate(features)})
        scale_note = ("features standardised across intermediate tasks (per SD)"
                      if self.standardize else "features in their own units")
        return RegressionResults(
            params=pd.Series(res.params, index=names),
            bse=pd.Series(res.bse if bse is None else bse, index=names),
            df_inference=df_inf, n_obs=int(res.nobs), n_groups=table.n_tasks,
            small_n_warning=msg, model=f"OLS of {self.response}", level=self.level,
            notes=[se_note, scale_note], sm_results=res, feature_center=center,
            feature_scale=scale, p_wild=p_wild)
