"""Checks that a task-level design can be fitted: enough intermediate tasks, identified.

Every difficulty feature is a property of an *intermediate task*, so however many rows the
gains table has (targets x languages x seeds), the information about a feature's effect
comes from the number of intermediate tasks: that is the *effective n*. These checks say so
in words before a model silently reports a precise-looking number.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from taskdiff.errors import TaskdiffError

__all__ = [
    "InsufficientDataError",
    "IdentificationError",
    "SmallSampleWarning",
    "check_effective_n",
    "check_identified",
    "min_tasks_for_inference",
    "inference_floor_message",
]

#: Rule of thumb: at least this many intermediate tasks per feature before a warning.
TASKS_PER_FEATURE = 10


class InsufficientDataError(TaskdiffError, ValueError):
    """Too few intermediate tasks for the number of features requested."""


class IdentificationError(TaskdiffError, ValueError):
    """The design matrix is rank deficient (constant, missing or collinear features)."""


class SmallSampleWarning(UserWarning):
    """The model can be fitted but the effective n is small for its number of features."""


def check_effective_n(n_tasks: int, n_features: int, *, what: str = "this model",
                      warn: bool = True) -> str | None:
    """Refuse or warn when there are few intermediate tasks per feature.

    Parameters
    ----------
    n_tasks : int
        Number of distinct intermediate tasks (the effective n of a task-level feature).
    n_features : int
        Number of features (slopes) in the model, intercept excluded.
    what : str
        Name of the model, used in the message.
    warn : bool
        Emit a :class:`SmallSampleWarning` (in addition to returning the message).

    Returns
    -------
    str or None
        The warning message when ``n_tasks < 10 * n_features``, else None.

    Raises
    ------
    InsufficientDataError
        When ``n_tasks < n_features + 2``: an intercept and ``n_features`` slopes leave no
        degree of freedom for a cluster-robust standard error.
    """
    if n_tasks < n_features + 2:
        raise InsufficientDataError(
            f"{what} needs at least {n_features + 2} intermediate tasks for {n_features} "
            f"feature(s) (an intercept, one slope each and one degree of freedom for the "
            f"standard error), found {n_tasks}; the effective n of a task-level feature is the "
            f"number of intermediate tasks, not the number of rows: use fewer features or add "
            f"intermediate tasks")
    if n_tasks < TASKS_PER_FEATURE * n_features:
        msg = (f"{what}: only {n_tasks} intermediate tasks for {n_features} feature(s) "
               f"(rule of thumb: >= {TASKS_PER_FEATURE} per feature, i.e. "
               f"{TASKS_PER_FEATURE * n_features}); estimates are imprecise and unstable")
        if warn:
            warnings.warn(msg, SmallSampleWarning, stacklevel=3)
        return msg
    return None


def check_identified(X: np.ndarray, names: Sequence[str], *, tasks: Sequence[str] = (),
                     tol: float = 1e-8) -> None:
    """Refuse a task-level design that is not identified.

    Parameters
    ----------
    X : ndarray of shape (n_tasks, n_features)
        One row per intermediate task, without the intercept column.
    names : sequence of str
        Feature names, in column order.
    tasks : sequence of str, optional
        Task names, in row order (used to name tasks with missing values).
    tol : float
        Relative tolerance for constancy and for the rank (on standardised columns).

    Raises
    ------
    IdentificationError
        Naming the features that are missing for some task, constant across tasks, or
        collinear with others (linear combinations including the intercept).
    """
    X = np.asarray(X, dtype=float)
    names = list(names)
    label = (lambda i: tasks[i] if i < len(tasks) else str(i))  # noqa: E731
    missing = [(n, [label(i) for i in np.flatnonzero(~np.isfinite(X[:, j]))])
               for j, n in enumerate(names) if not np.isfinite(X[:, j]).all()]
    if missing:
        desc = "; ".join(f"{n!r} for {', '.join(t)}" for n, t in missing)
        raise IdentificationError(f"the model is not identified: features are missing (null) "
                                  f"for some intermediate tasks: {desc}; drop these features "
                                  f"or fill in the profiles")
    scale = np.abs(X).max(axis=0) + 1.0
    const = [n for j, n in enumerate(names) if np.ptp(X[:, j]) <= tol * scale[j]]
    if const:
        raise IdentificationError(
            f"the model is not identified: feature(s) {', '.join(map(repr, const))} are "
            f"constant across the {X.shape[0]} intermediate tasks and cannot be told apart "
            f"from the intercept; drop them")
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    _, s, vt = np.linalg.svd(Z, full_matrices=True)
    rank = int((s > tol * max(Z.shape) * s[0]).sum())
    if rank < len(names):
        null = vt[rank:]
        involved = [n for j, n in enumerate(names) if np.abs(null[:, j]).max() > 1e-6]
        raise IdentificationError(
            f"the model is not identified: the design has rank {rank + 1} < {len(names) + 1} "
            f"(intercept + {len(names)} features) because feature(s) "
            f"{', '.join(map(repr, involved))} are collinear across the {X.shape[0]} "
            f"intermediate tasks (one is a linear combination of the others); drop one of them")


def min_tasks_for_inference(alpha: float = 0.05) -> int:
    """Fewest intermediate tasks at which a two-sided test of a task-level statistic can reach α.

    The exact permutation test of an association between a task feature and the task's gain
    has smallest two-sided p-value 2/n! with n tasks; below the n where 2/n! <= α no data
    can give a significant result (n = 5 for α = 0.05: 2/4! = 0.083, 2/5! = 0.017). The same
    floor is applied to every task-level statistic of the report (correlations, one-feature
    and multivariable regressions, mixed model), so the sections cannot disagree: a slope's
    t statistic from 4 clusters is not evidence that a correlation over the same 4 tasks
    cannot give.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), found {alpha}")
    n = 2
    while 2 / math.factorial(n) > alpha:
        n += 1
    return n


def inference_floor_message(n_tasks: int, alpha: float = 0.05) -> str | None:
    """Why no task-level test statistic is shown, or None when ``n_tasks`` is enough."""
    floor = min_tasks_for_inference(alpha)
    if n_tasks >= floor:
        return None
    return (f"with {n_tasks} intermediate task(s) no task-level test can reach α = {alpha:g} "
            f"(the smallest two-sided permutation p-value is 2/{n_tasks}! = "
            f"{2 / math.factorial(max(n_tasks, 0)):.3g}), so correlations, regression slopes, "
            f"their standard errors, t, p and intervals are not shown: they would look precise "
            f"and mean nothing; at least {floor} intermediate tasks are needed")
