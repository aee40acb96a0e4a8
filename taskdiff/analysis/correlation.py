"""Task-level correlations between difficulty features and transfer gains.

Unit of analysis: the *intermediate task*. For each target task, gains are averaged to one
number per intermediate task (mean over seeds within a language, then over languages), so
every correlation has n = number of intermediate tasks with that feature (typically 5-15),
not the number of rows. A pooled row (``"(all targets)"``) correlates each feature with the
mean over targets of the task-level standardised gain ``gain_z``.

For every (feature, target, method) the results hold the coefficient, a two-sided
permutation p-value (exact when n! <= n_perm), a hierarchical bootstrap percentile interval
(tasks, then languages, then seeds; :mod:`taskdiff.analysis.bootstrap`), and p-values
adjusted by Benjamini-Hochberg and Holm over the family of all (feature, target) tests of
the same method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from taskdiff.analysis._format import (fmt_number, fmt_p, frame_to_markdown, frame_to_text,
                                       p_phrase)
from taskdiff.analysis.bootstrap import (draw_tasks, nested_values, percentile_interval,
                                         resample_task_means)
from taskdiff.analysis.corrstats import METHODS, correlation_rows, permutation_indices
from taskdiff.analysis.multitest import adjust
from taskdiff.analysis.table import StudyTable
from taskdiff.analysis.design import InsufficientDataError

__all__ = ["POOLED", "CORRECTION_NAMES", "TaskCorrelation", "CorrelationResults", "correlate"]

POOLED = "(all targets)"
CORRECTION_NAMES = {"bh": "Benjamini–Hochberg", "holm": "Holm"}
_FORMATS = {"p_value": fmt_p, "p_bh": fmt_p, "p_holm": fmt_p}


@dataclass
class CorrelationResults:
    """Correlations per (target, feature, method) with p-values, intervals and corrections.

    Attributes
    ----------
    frame : DataFrame
        Columns ``target, feature, method, n, estimate, p_value, ci_low, ci_high, p_bh,
        p_holm``.
    n_tasks : int
        Number of intermediate tasks (the effective n).
    settings : dict
        ``alpha, level, n_perm, n_boot, seed, primary, correction, bootstrap_levels``.
    """

    frame: pd.DataFrame
    n_tasks: int
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the full results frame."""
        return self.frame.copy()

    def significant(self, method: str | None = None, correction: str | None = None,
                    alpha: float | None = None) -> pd.DataFrame:
        """Rows whose adjusted p-value is at most ``alpha`` (defaults from settings)."""
        method = method or self.settings["primary"]
        correction = correction or self.settings["correction"]
        alpha = self.settings["alpha"] if alpha is None else alpha
        f = self.frame[self.frame["method"] == method]
        return f[f[f"p_{correction}"] <= alpha].sort_values(f"p_{correction}")

    @property
    def any_significant(self) -> bool:
        """Whether any primary-method test survives the primary correction."""
        return not self.significant().empty

    def verdict(self) -> str:
        """One or two sentences stating what is (not) significant after correction."""
        s = self.settings
        prim = self.frame[self.frame["method"] == s["primary"]]
        m = int(prim["p_value"].notna().sum())
        corr = CORRECTION_NAMES[s["correction"]]
        sig = self.significant()
        pooled = " incl. pooled" if (prim["target"] == POOLED).any() else ""
        base = (f"{m} tests ({prim['feature'].nunique()} features × "
                f"{prim['target'].nunique()} targets{pooled}, {s['primary'].title()}, "
                f"n = {self.n_tasks} intermediate tasks)")
        if sig.empty:
            return (f"No feature is significantly associated with the transfer gain after "
                    f"{corr} correction (α = {s['alpha']:g}) across the family of {base}."
                    + self._floor_note())
        items = "; ".join(
            f"{r.feature} on {r.target}: {fmt_number(r.estimate, 2)} "
            f"(adjusted {p_phrase(getattr(r, 'p_' + s['correction']))})"
            for r in sig.head(10).itertuples())
        more = f" and {len(sig) - 10} more" if len(sig) > 10 else ""
        return (f"{len(sig)} association(s) remain significant after {corr} correction "
                f"(α = {s['alpha']:g}) across the family of {base}: {items}{more}.")

    def _floor_note(self) -> str:
        """Say so when n is too small for any permutation p-value to reach alpha."""
        n = int(self.frame["n"].max()) if len(self.frame) else 0
        if n < 1 or math.factorial(n) > self.settings["n_perm"]:
            return ""
        floor = 2 / math.factorial(n)
        if floor <= self.settings["alpha"]:
            return ""
        return (f" With n = {n} intermediate tasks the smallest possible two-sided "
                f"permutation p-value is 2/{n}! = {floor:.3f} > α: no correlation can be "
                f"significant, whatever the data.")

    def _display(self, method: str | None = None) -> pd.DataFrame:
        method = method or self.settings["primary"]
        f = self.frame[self.frame["method"] == method]
        return f.drop(columns="method").reset_index(drop=True)

    def summary(self, method: str | None = None) -> str:
        """A plain-text report: settings, the table for one method, and the verdict."""
        s = self.settings
        head = (f"Task-level correlations ({(method or s['primary']).title()}), "
                f"n = {self.n_tasks} intermediate tasks; permutation p ({s['n_perm']} "
                f"permutations), {s['level']:.0%} hierarchical bootstrap CI "
                f"({s['n_boot']} resamples), seed {s['seed']}")
        return "\n".join([head, "", frame_to_text(self._display(method), _FORMATS), "",
                          self.verdict()])

    def to_markdown(self, method: str | None = None) -> str:
        """The table for one method as Markdown, followed by the verdict."""
        return frame_to_markdown(self._display(method), _FORMATS) + "\n\n" + self.verdict()


class TaskCorrelation:
    """Correlate task features with task-level mean gains (Model; ``fit`` -> Results).

    Parameters
    ----------
    features : sequence of str, optional
        Features to test (default: :meth:`StudyTable.usable_features`).
    methods : sequence of str
        Any of ``"spearman"``, ``"kendall"``, ``"pearson"``.
    n_perm : int
        Random permutations per test (exact enumeration when n! <= n_perm).
    n_boot : int
        Bootstrap resamples.
    level : float
        Confidence level of the bootstrap intervals.
    alpha : float
        Significance level used in verdicts.
    seed : int
        Seed of all random draws (results are reproducible).
    primary : str
        Method used in verdicts.
    correction : {"bh", "holm"}
        Correction used in verdicts (both are always computed).
    pooled : bool
        Add the pooled ``"(all targets)"`` rows.
    bootstrap_levels : {1, 2, 3}
        Resample tasks (1), + languages (2), + seeds (3).
    """

    def __init__(self, features=None, methods=METHODS, n_perm: int = 9999, n_boot: int = 2000,
                 level: float = 0.95, alpha: float = 0.05, seed: int = 0,
                 primary: str = "spearman", correction: str = "bh", pooled: bool = True,
                 bootstrap_levels: int = 3):
        self.features = features
        self.methods = methods
        self.n_perm = n_perm
        self.n_boot = n_boot
        self.level = level
        self.alpha = alpha
        self.seed = seed
        self.primary = primary
        self.correction = correction
        self.pooled = pooled
        self.bootstrap_levels = bootstrap_levels

    def fit(self, table: StudyTable) -> CorrelationResults:
        """Compute every correlation, p-value, interval and correction."""
        features = list(self.features or table.usable_features())
        if not features:

            raise InsufficientDataError(
                f"no feature is known for at least 3 intermediate tasks and varies across them "
                f"(found {table.n_tasks} intermediate tasks): no correlation can be computed")
        X = table.task_features(features)
        targets = list(table.targets) + ([POOLED] if self.pooled else [])
        rows = []
        for ti, target in enumerate(targets):
            y, nested = self._target_data(table, target)
            cache: dict = {}
            for feat in features:
                x = X[feat].to_numpy(dtype=float)
                ok = np.isfinite(x) & np.isfinite(y)
                perms, boot_idx, boot_y = self._draws(ti, ok, nested, cache)
                for method in self.methods:
                    rows.append(self._one(target, feat, method, x[ok], y[ok], perms,
                                          boot_idx, boot_y))
        frame = pd.DataFrame(rows)
        for method in self.methods:
            sel = frame["method"] == method
            for corr in ("bh", "holm"):
                frame.loc[sel, f"p_{corr}"] = adjust(frame.loc[sel, "p_value"].to_numpy(), corr)
        settings = dict(alpha=self.alpha, level=self.level, n_perm=self.n_perm,
                        n_boot=self.n_boot, seed=self.seed, primary=self.primary,
                        correction=self.correction, bootstrap_levels=self.bootstrap_levels)
        return CorrelationResults(frame=frame, n_tasks=table.n_tasks, settings=settings)

    def _target_data(self, table: StudyTable, target: str):
        prim = table.primary()
        tasks = table.intermediates
        if target != POOLED:
            y = table.task_means("gain")[target].to_numpy(dtype=float)
            return y, [nested_values(prim[prim["target"] == target], "gain", tasks)]
        y = table.task_means("gain_z").mean(axis=1, skipna=True).to_numpy(dtype=float)
        return y, [nested_values(prim[prim["target"] == t], "gain_z", tasks)
                   for t in table.targets]

    def _draws(self, ti: int, ok: np.ndarray, nested: list, cache: dict):
        key = ok.tobytes()
        if key not in cache:
            n = int(ok.sum())
            rng = np.random.default_rng([self.seed, ti, n])
            perms = permutation_indices(n, self.n_perm, rng) if n >= 3 else (None, False)
            idx = draw_tasks(n, self.n_boot, rng)
            means = [resample_task_means(v[ok], idx, rng, levels=self.bootstrap_levels)
                     for v in nested]
            with np.errstate(invalid="ignore"):
                boot_y = np.nanmean(np.stack(means), axis=0) if len(means) > 1 else means[0]
            cache[key] = (perms, idx, boot_y)
        return cache[key]

    def _one(self, target, feat, method, x, y, perms, boot_idx, boot_y) -> dict:
        row = dict(target=target, feature=feat, method=method, n=len(x), estimate=np.nan,
                   p_value=np.nan, ci_low=np.nan, ci_high=np.nan)
        if len(x) < 3:
            return row
        r = float(correlation_rows(x, y, method))
        if not np.isfinite(r):
            return row
        perms, exact = perms
        null = correlation_rows(x[None, :], y[perms], method)
        hits = np.count_nonzero(np.abs(null) >= abs(r) - 1e-12)
        p = hits / perms.shape[0] if exact else (1 + hits) / (perms.shape[0] + 1)
        boot = correlation_rows(x[boot_idx], boot_y, method)
        lo, hi = percentile_interval(boot, self.level)
        row.update(estimate=r, p_value=min(p, 1.0), ci_low=float(lo), ci_high=float(hi))
        return row


def correlate(table: StudyTable, **kwargs) -> CorrelationResults:
    """Shorthand for ``TaskCorrelation(**kwargs).fit(table)``."""
    return TaskCorrelation(**kwargs).fit(table)
