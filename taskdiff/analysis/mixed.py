"""Linear mixed model of gains with crossed random intercepts.

``MixedGainModel(features).fit(table)`` fits

    gain_z[i,t,l,s] = b0 + sum_k b_k x_k[i] + a_i + u_t + v_l + e[i,t,l,s]

with independent random intercepts for the intermediate task ``a_i``, the target task
``u_t`` and the language ``v_l`` (all normal, one variance each), by REML with statsmodels
``MixedLM``. Crossed (non-nested) effects are expressed exactly, not approximated, the way
statsmodels documents it: a single group holding every row, and one variance component per
factor (``vc_formula``). The intermediate-task intercept is what makes the feature
coefficients honest: features vary only between intermediate tasks, so without ``a_i`` the
model would treat rows of one task as independent evidence.

Because ``gain_z`` is centred within each target, target intercepts are exactly 0 by
construction; with ``response="gain_z"`` the target factor is therefore dropped (with a
note) and kept with ``response="gain"``. Optimiser messages (e.g. a variance estimate on
the boundary, 0) are recorded in ``notes``. Fixed-effect tests use a t distribution
with G - k - 1 degrees of freedom (G intermediate tasks, k features): the "between-within"
rule for predictors that vary only between clusters, more honest than the normal reference
statsmodels uses with few tasks.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from taskdiff.analysis.regression import CoefficientResults, feature_list, response_rows, task_design
from taskdiff.analysis.table import StudyTable
from taskdiff.errors import NumericalError

__all__ = ["MixedGainModel", "MixedGainResults"]

#: Optimisers tried for every fit (statsmodels ``MixedLM.fit(method=...)``); the best is kept.
OPTIMIZERS = (("lbfgs", "powell"), ("nm",), ("bfgs",), ("powell",))


@dataclass
class MixedGainResults(CoefficientResults):
    """Results of :class:`MixedGainModel`.

    Attributes
    ----------
    variance_components : Series
        Estimated variance of each random intercept (index: factor name).
    residual_variance : float
        Estimated variance of the row-level error.
    group_sizes : dict
        Number of levels of each random factor.
    converged : bool
        Whether the optimiser reported convergence.
    """

    variance_components: pd.Series = field(default_factory=pd.Series)
    residual_variance: float = float("nan")
    group_sizes: dict = field(default_factory=dict)
    converged: bool = True
    sm_results: object = None

    def header_lines(self) -> list[str]:
        """The shared header plus the variance components."""
        vc = ", ".join(f"{k} {v:.3g} ({self.group_sizes.get(k, '?')} levels)"
                       for k, v in self.variance_components.items())
        return super().header_lines() + [f"variance components: {vc}; residual "
                                    f"{self.residual_variance:.3g}"]


class MixedGainModel:
    """Mixed model: fixed task-level features, crossed random intercepts.

    Parameters
    ----------
    features : sequence of str
        Feature names.
    groups : sequence of str
        Random-intercept factors (columns of the table); factors with fewer than two
        levels are dropped with a note.
    response : str
        ``"gain_z"`` or ``"gain"``.
    standardize : bool
        Scale features to SD 1 across intermediate tasks.
    reml : bool
        REML (default) or maximum likelihood.
    level : float
        Confidence level of ``conf_int()``.
    """

    def __init__(self, features: Sequence[str],
                 groups: Sequence[str] = ("intermediate", "target", "language"),
                 response: str = "gain_z", standardize: bool = True, reml: bool = True,
                 level: float = 0.95):
        self.features = features
        self.groups = groups
        self.response = response
        self.standardize = standardize
        self.reml = reml
        self.level = level

    def fit(self, table: StudyTable) -> MixedGainResults:
        """Fit by (RE)ML on the primary-metric rows of ``table``."""
        features = feature_list(self.features)
        Z, _, _, msg = task_design(table, features, standardize=self.standardize,
                                   what="MixedGainModel")
        rows = response_rows(table, self.response)
        data = pd.DataFrame({f"f{j}": Z.loc[rows["intermediate"], c].to_numpy(dtype=float)
                             for j, c in enumerate(features)})
        data["y"] = rows[self.response].to_numpy(dtype=float)
        sizes = {g: int(rows[g].nunique()) for g in self.groups}
        used, notes = self._factors(sizes)
        for j, g in enumerate(used):
            data[f"g{j}"] = pd.factorize(rows[g])[0]
        res, caught, used, dropped = self._fit_robust(data, len(features), used)
        notes += dropped + sorted({str(w.message).split("\n")[0] for w in caught})
        k = len(features)
        names = ["const"] + features
        fe = np.asarray(res.fe_params)
        bse = np.asarray(res.bse_fe)
        vc_names = list(res.model.exog_vc.names)
        vc = pd.Series(np.asarray(res.vcomp, dtype=float), index=vc_names)
        return MixedGainResults(
            params=pd.Series(fe, index=names), bse=pd.Series(bse, index=names),
            df_inference=float(max(table.n_tasks - k - 1, 1)), n_obs=len(data),
            n_groups=table.n_tasks, small_n_warning=msg, level=self.level,
            model=f"Mixed model of {self.response} ({'REML' if self.reml else 'ML'})",
            notes=[f"random intercepts: {', '.join(used)} (crossed)"] + notes,
            variance_components=vc, residual_variance=float(res.scale),
            group_sizes={g: sizes[g] for g in used}, converged=bool(res.converged),
            sm_results=res)

    def _factors(self, sizes: dict) -> tuple[list[str], list[str]]:
        """Random factors to fit, and notes on those dropped."""
        used, notes = [], []
        for g in self.groups:
            if sizes[g] < 2:
                notes.append(f"random factor {g!r} dropped (one level)")
            elif g == "target" and self.response == "gain_z":
                notes.append("random factor 'target' dropped: gain_z is centred within each "
                             "target, so target intercepts are 0 by construction (fit "
                             "response='gain' to estimate them)")
            else:
                used.append(g)
        return used, notes

    def _fit_robust(self, data: pd.DataFrame, k: int, used: list[str]):
        """Fit with the factors ``used``; on a singular Hessian, without one factor at a time.

        A variance component estimated on the boundary (0) can leave statsmodels' Hessian
        singular (``LinAlgError`` after the optimiser has finished, seen with statsmodels
        0.15 on the demo study). A factor whose variance is 0 does not change the fixed
        effects, so the model without it is the same model, estimable: each factor is
        dropped in turn and the fit with the highest (RE)ML log-likelihood kept, with a note.

        Returns
        -------
        (results, caught warnings, factors used, notes on dropped factors)

        Raises
        ------
        NumericalError
            When no subset of the factors can be fitted.
        """

        try:
            res, caught = self._fit_sm(data, k, used)
            return res, caught, used, []
        except np.linalg.LinAlgError as exc:
            error = exc
        best = None
        for g in used:
            rest = [f for f in used if f != g]
            if not rest:
                continue
            try:
                res, caught, kept, notes = self._fit_robust(data, k, rest)
            except NumericalError:
                continue
            if best is None or res.llf > best[0].llf:
                best = (res, caught, kept, notes + [f"random factor {g!r} dropped: the fit with it failed "
                                                    f"({error}; a variance component on the boundary, 0)"])
        if best is None:
            raise NumericalError(f"{type(self).__name__}: the mixed model could not be fitted with random "
                                 f"factors {used} or any subset of them ({error})")
        return best

    def _fit_sm(self, data: pd.DataFrame, k: int, used: list[str]):
        """The best of the fits by :data:`OPTIMIZERS` (converged first, then highest log-likelihood).

        The (RE)ML surface of crossed variance components is not convex: with a variance
        near 0, statsmodels' default ``lbfgs`` path has been seen to stop at a point 12
        log-likelihood units below the optimum that Nelder-Mead and BFGS reach (the demo
        study, statsmodels 0.15). The fits are cheap (one per optimiser), so all are tried.
        """
        import statsmodels.api as sm

        formula = "y ~ " + (" + ".join(f"f{j}" for j in range(k)) or "1")
        vc = {g: f"0 + C(g{j})" for j, g in enumerate(used)}
        with warnings.catch_warnings(record=True) as built:
            warnings.simplefilter("always")
            model = sm.MixedLM.from_formula(formula, data, groups=np.ones(len(data)),
                                            re_formula="0", vc_formula=vc)
        best, error = None, None
        for method in OPTIMIZERS:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    res = model.fit(reml=self.reml, method=list(method))
                except np.linalg.LinAlgError as exc:
                    error = exc
                    continue
            if not np.isfinite(res.llf):
                continue
            rank = (bool(res.converged), float(res.llf))
            if best is None or rank > best[0]:
                best = (rank, res, [w for w in built + caught if not issubclass(w.category, DeprecationWarning)])
        if best is None:
            raise error or np.linalg.LinAlgError("no optimiser gave a finite log-likelihood")
        return best[1], best[2]
