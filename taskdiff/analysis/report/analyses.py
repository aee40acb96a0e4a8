"""Run every analysis of the report on a study table, keeping refusals as messages.

A model that cannot be fitted (too few intermediate tasks, a design that is not identified)
is not an error for the report: the message is kept and shown *instead of* a number.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

from taskdiff.analysis.correlation import CorrelationResults, correlate
from taskdiff.analysis.design import (IdentificationError, InsufficientDataError,
                                      inference_floor_message, min_tasks_for_inference)
from taskdiff.analysis.evaluation import RankingEvaluation, leave_one_task_out
from taskdiff.analysis.mixed import MixedGainModel
from taskdiff.analysis.prediction import GainPredictor
from taskdiff.analysis.regression import CoefficientResults, GainRegression
from taskdiff.analysis.table import StudyTable
from taskdiff.errors import NumericalError

__all__ = ["DEFAULT_MODEL_FEATURES", "ModelOutcome", "StudyAnalysis", "analyse_study",
           "prespecified_features"]

#: The pre-specified multivariable model: size, difficulty and kind of task. Fixed before
#: seeing the gains, so its p-values need no selection correction.
DEFAULT_MODEL_FEATURES = ("log_n_examples", "normalized_baseline_loss",
                          "probing.syntax_semantics_index")
#: Fewest intermediate tasks for leave-one-task-out prediction (3 training tasks + 1).
MIN_TASKS_LOTO = 4


@dataclass
class ModelOutcome:
    """A fitted model, or the reason it was not fitted."""

    name: str
    features: tuple[str, ...]
    results: CoefficientResults | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the model was fitted."""
        return self.results is not None


@dataclass
class StudyAnalysis:
    """Everything the report shows, computed once."""

    table: StudyTable
    correlations: CorrelationResults | None
    univariate: dict[str, ModelOutcome]
    multivariable: ModelOutcome
    mixed: ModelOutcome
    evaluation: RankingEvaluation | None
    evaluation_message: str | None
    settings: dict = field(default_factory=dict)
    #: Pre-specified features left out of the models, with the reason (feature -> reason).
    dropped_features: dict = field(default_factory=dict)
    #: Why no task-level statistic is shown (too few tasks), or None.
    floor_message: str | None = None


def prespecified_features(table: StudyTable) -> tuple[list[str], dict[str, str]]:
    """The pre-specified features the study can use, and why each of the others is dropped.

    A feature is used when every intermediate task with gains has a value and the values
    are not all equal (a model with it would otherwise be refused as not identified).
    """
    X = table.profiles.reindex(index=list(table.intermediates))
    kept, dropped = [], {}
    for f in DEFAULT_MODEL_FEATURES:
        if f not in X.columns or X[f].isna().all():
            dropped[f] = "not in any profile (measure not run or not defined for these tasks)"
        elif X[f].isna().any():
            missing = ", ".join(map(str, X.index[X[f].isna()]))
            dropped[f] = f"missing (null) in the profile of {missing}"
        elif X[f].nunique() < 2:
            dropped[f] = f"the same value ({X[f].iloc[0]:.4g}) for every intermediate task"
        else:
            kept.append(f)
    return kept, dropped


def _fit(name: str, model, table: StudyTable, features) -> ModelOutcome:
    out = ModelOutcome(name=name, features=tuple(features))
    if not features:
        return out
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.results = model.fit(table)
    except (InsufficientDataError, IdentificationError, NumericalError) as exc:
        out.message = str(exc)
    return out


def analyse_study(table: StudyTable, *, features: Sequence[str] | None = None,
                  model_features: Sequence[str] | None = None, k: int = 3, seed: int = 0,
                  n_perm: int = 9999, n_boot: int = 2000, alpha: float = 0.05,
                  predictor: GainPredictor | None = None, n_wild: int = 999) -> StudyAnalysis:
    """Correlations, univariate and multivariable regressions, mixed model, LOTO prediction.

    Parameters
    ----------
    table : StudyTable
        The study.
    features : sequence of str, optional
        Features to correlate and regress one at a time (default: usable features).
    model_features : sequence of str, optional
        Features of the multivariable and mixed models (default: those of
        :data:`DEFAULT_MODEL_FEATURES` known for every task and not constant; the others
        are listed with the reason in ``dropped_features``, see :func:`prespecified_features`).
    k : int
        Cut-off of NDCG@k and Regret@k.
    seed, n_perm, n_boot, alpha
        Passed to the correlation analysis and the permutation test of prediction.
    predictor : GainPredictor, optional
        The predictor to evaluate (default ``GainPredictor()``).
    n_wild : int
        Wild cluster bootstrap replicates (Webb weights) of each one-feature slope, the
        ``p_wcb`` column beside the CR2/Bell–McCaffrey ``p``; 0 = off.
    """
    feats = list(features or table.usable_features())
    dropped: dict[str, str] = {}
    if model_features is None:
        model_features, dropped = prespecified_features(table)
    model_features = list(model_features)
    floor = inference_floor_message(table.n_tasks, alpha)
    corr = None
    if floor:  # one message for every task-level statistic, none of them computed
        uni = {}
        held = (f"the profiles hold the pre-specified features ({', '.join(model_features)}), "
                f"but " if model_features else "")
        short = (f"{held}{table.n_tasks} intermediate task(s) are fewer than the "
                 f"{min_tasks_for_inference(alpha)} any task-level test needs (see above)")
        multi = ModelOutcome("Pre-specified OLS", tuple(model_features), message=short)
        mixed = ModelOutcome("Mixed model", tuple(model_features), message=short)
    else:
        if feats and table.n_tasks >= 3:
            corr = correlate(table, features=feats, n_perm=n_perm, n_boot=n_boot, seed=seed,
                             alpha=alpha)
        uni = {f: _fit(f"OLS of gain_z on {f}",
                       GainRegression([f], wild_bootstrap=n_wild, seed=seed), table, [f])
               for f in feats}
        multi = _fit("Pre-specified OLS", GainRegression(model_features), table, model_features)
        mixed = _fit("Mixed model", MixedGainModel(model_features), table, model_features)
    if not model_features:
        why = "; ".join(f"{f}: {r}" for f, r in dropped.items())
        none = ("none of the pre-specified features can be used"
                + (f" ({why})" if why else ""))
        multi.message = mixed.message = none
    evaluation, msg = None, None
    if table.n_tasks < MIN_TASKS_LOTO:
        msg = (f"leave-one-task-out prediction needs at least {MIN_TASKS_LOTO} intermediate "
               f"tasks, found {table.n_tasks}")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluation = leave_one_task_out(table, predictor, k=k, seed=seed, alpha=alpha)
    settings = dict(k=k, seed=seed, n_perm=n_perm, n_boot=n_boot, alpha=alpha, n_wild=n_wild,
                    features=feats, model_features=model_features,
                    predictor=repr(predictor or GainPredictor()))
    return StudyAnalysis(table=table, correlations=corr, univariate=uni, multivariable=multi,
                         mixed=mixed, evaluation=evaluation, evaluation_message=msg,
                         settings=settings, dropped_features=dropped, floor_message=floor)
