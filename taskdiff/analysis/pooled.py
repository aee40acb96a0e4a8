"""A pooled, pre-specified gain predictor: few theory-led features, seed replicates, all targets at once.

Why not the screened per-target ridge of :class:`~taskdiff.analysis.prediction.GainPredictor`?
With n ≈ 7-20 intermediate tasks, choosing features by their correlation with the gains
*inside* every training fold picks noise as often as signal (on the demo study it ranked the
held-out tasks no better than random), and one model per target sees only n points. This
predictor instead

* uses **pre-specified features** (:data:`DEFAULT_FEATURES`), chosen before looking at gains
  from what intermediate training can pass on: how much of the label information is usable
  (``signal`` = V-information / label entropy: label noise and ambiguity lower it), how much
  data there is (``log_n_examples``), how close the task is to the target
  (``similarity``: cosine of task embeddings, the relatedness of Vu et al. 2020 / Poth et al.
  2021, one value per target), and ``similarity*signal`` (a related task transfers only what
  it can teach; both factors rescaled to [0, 1] over the training tasks before the product);
* **pools all targets in one model** of the gain standardised *per target* (each target's
  own mean and SD over the training tasks: headroom and metric scale differ), so 2 targets
  give 2n task points for the same few coefficients, mapped back to each target's scale;
* fits on **seed replicates** (one row per task, target and seed, averaged over languages)
  rather than only task means, and chooses the ridge penalty by leave-one-*task*-out
  cross-validation on those rows (the seeds of a task are never split across folds);
* gives **jackknife prediction intervals** from leave-one-task-out residuals of the task-level
  mean gain, pooled over targets in standardised units (Barber et al. 2021, the simple
  jackknife; residuals of one task on several targets are dependent, so the coverage is that
  of exchangeable *tasks*, checked in ``benchmarks/predictor_testbed.py``).

Similarity comes from the ``embedding`` measure: profile columns ``similarity.<target>`` if
present, else ``provenance.measures.embedding.result.mean_similarity.<target>`` of the
profile (:func:`task_similarity`). A feature whose inputs are missing is dropped with a
warning, so the predictor still runs on studies without the embedding measure.
"""

from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from taskdiff.analysis.table import StudyTable, profile_frame
from taskdiff.schema import SIMILARITY_PATH, feature_get

__all__ = ["PooledGainPredictor", "DEFAULT_FEATURES", "SIMILARITY", "task_similarity", "with_similarity",
           "seed_rows", "ridge_fit", "unit_scale"]

#: Target-specific feature name (``similarity.<target>`` columns).
SIMILARITY = "similarity"
#: The pre-specified design (fixed on world seed 0 of the predictor benchmark, docs/predictor.md).
DEFAULT_FEATURES = ("signal", "log_n_examples", SIMILARITY, f"{SIMILARITY}*signal")
DEFAULT_ALPHAS = (0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


# ----------------------------------------------------------------------------- inputs
def _embedding_similarity(provenance: Mapping | None) -> dict:
    """Target -> mean similarity, at :data:`taskdiff.schema.SIMILARITY_PATH` of a profile."""
    sims = feature_get({SIMILARITY_PATH[0]: provenance}, ".".join(SIMILARITY_PATH))
    if not isinstance(sims, Mapping):
        return {}
    return {t: float(v) for t, v in sims.items() if isinstance(v, (int, float))}


def task_similarity(table: StudyTable) -> pd.DataFrame:
    """Similarity of every profiled task (index) to every target (columns); NaN where unknown."""
    cols = {t: f"{SIMILARITY}.{t}" for t in table.targets}
    out = pd.DataFrame(index=table.profiles.index, columns=table.targets, dtype=float)
    for t, col in cols.items():
        if col in table.profiles.columns:
            out[t] = table.profiles[col]
    prov = table.source.provenance if table.source is not None else {}
    for task, p in prov.items():
        for t, v in _embedding_similarity(p).items():
            if t in out.columns and task in out.index and not np.isfinite(out.at[task, t]):
                out.at[task, t] = v
    return out


def with_similarity(frame: pd.DataFrame, table: StudyTable) -> pd.DataFrame:
    """``frame`` (index: task) with ``similarity.<target>`` columns from the study's profiles."""
    sims = task_similarity(table).reindex(frame.index)
    extra = {f"{SIMILARITY}.{t}": sims[t] for t in sims.columns
             if f"{SIMILARITY}.{t}" not in frame.columns}
    return frame.assign(**extra) if extra else frame


def _candidate_frame(profiles) -> pd.DataFrame:
    """A feature frame from a frame, one profile dict or a mapping of profile dicts."""
    if isinstance(profiles, pd.DataFrame):
        return profiles
    if isinstance(profiles, Mapping) and "task" in profiles:
        profiles = {str(profiles["task"]): profiles}
    frame = profile_frame(profiles)
    for task, prof in profiles.items():
        for t, v in _embedding_similarity(prof.get("provenance")).items():
            col = f"{SIMILARITY}.{t}"
            if col not in frame.columns:
                frame[col] = np.nan
            if not np.isfinite(frame.at[task, col]):
                frame.at[task, col] = v
    return frame


def seed_rows(table: StudyTable) -> pd.DataFrame:
    """Seed replicates: the mean gain over languages per (intermediate, target, seed)."""
    df = table.primary()
    return df.groupby(["intermediate", "target", "seed"], as_index=False)["gain"].mean()


# ----------------------------------------------------------------------------- maths
def unit_scale(x, ref) -> np.ndarray:
    """``(x - min(ref)) / (max(ref) - min(ref))``: 0-1 over the reference (training) values."""
    ref = np.asarray(ref, dtype=float)
    lo, hi = np.nanmin(ref), np.nanmax(ref)
    span = hi - lo if hi > lo else 1.0
    return (np.asarray(x, dtype=float) - lo) / span


def ridge_fit(X, y, alpha: float, weights=None) -> np.ndarray:
    """Ridge coefficients ``[intercept, slopes...]`` (the intercept is not penalised).

    Closed form ``(X'WX + alpha I*)^-1 X'Wy`` with a column of ones prepended; written by hand
    because cross-validation refits it thousands of times on a few columns.
    """
    X = np.asarray(X, dtype=float)
    A = np.column_stack([np.ones(len(X)), X])
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=float)
    pen = alpha * np.eye(A.shape[1])
    pen[0, 0] = 0.0
    return np.linalg.solve(A.T @ (A * w[:, None]) + pen, A.T @ (w * np.asarray(y, dtype=float)))


def _predict(beta: np.ndarray, X) -> np.ndarray:
    return beta[0] + np.asarray(X, dtype=float) @ beta[1:]


def jackknife_quantile(residuals, level: float) -> float:
    """The ``ceil(level (m + 1))``-th smallest |residual| (inf if there are too few)."""
    r = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    r = r[np.isfinite(r)]
    j = math.ceil(level * (r.size + 1))
    return float(r[j - 1]) if 1 <= j <= r.size else math.inf


# ----------------------------------------------------------------------------- the estimator
def _parts(name: str) -> list[str]:
    return name.split("*")


class PooledGainPredictor(BaseEstimator):
    """One ridge model of the per-target standardised gain on pre-specified features, all targets pooled.

    Parameters
    ----------
    features : sequence of str, optional
        Feature names (default :data:`DEFAULT_FEATURES`): profile features, ``signal``
        (``v_information / label_entropy``), ``similarity`` (to the row's target) and
        products ``a*b`` of two of them (each factor rescaled to [0, 1] over the training
        tasks, see :func:`unit_scale`, then the product standardised).
    alphas : sequence of float
        Ridge penalties tried by leave-one-task-out cross-validation on the seed rows.
    level : float or None
        Level of the jackknife prediction intervals; None skips them.

    Attributes
    ----------
    features_ : tuple of str
        Features used (those whose inputs are known for at least 3 training tasks).
    coef_ : Series
        Intercept and slopes in SDs of gain per SD of feature.
    alpha_ : float
    center_, scale_ : Series
        Per-target mean and SD of the training tasks' mean gain (the per-target scale).
    halfwidth_ : float
        Jackknife half-width in standardised units (inf if too few tasks for ``level``).
    """

    by = "target"

    def __init__(self, features: Sequence[str] | None = None, alphas: Sequence[float] = DEFAULT_ALPHAS,
                 level: float | None = 0.9):
        self.features = features
        self.alphas = alphas
        self.level = level

    # ---------------------------------------------------------------- design
    @staticmethod
    def _base_values(frame: pd.DataFrame, name: str, target: str) -> np.ndarray:
        if name == SIMILARITY:
            col = f"{SIMILARITY}.{target}"
            return frame[col].to_numpy(dtype=float) if col in frame.columns else np.full(len(frame), np.nan)
        if name == "signal":
            if not {"v_information", "label_entropy"} <= set(frame.columns):
                return np.full(len(frame), np.nan)
            h = frame["label_entropy"].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(h > 0, frame["v_information"].to_numpy(dtype=float) / h, np.nan)
        return frame[name].to_numpy(dtype=float) if name in frame.columns else np.full(len(frame), np.nan)

    def _usable(self, frame: pd.DataFrame, names: Sequence[str]) -> tuple[str, ...]:
        keep, dropped = [], []
        for name in names:
            ok = True
            for part in _parts(name):
                vals = np.concatenate([self._base_values(frame, part, t) for t in self.targets_])
                vals = vals[np.isfinite(vals)]
                ok &= vals.size >= 3 and np.ptp(vals) > 0
            (keep if ok else dropped).append(name)
        if dropped:
            warnings.warn(f"features without enough known, varying values dropped: {', '.join(dropped)}",
                          UserWarning, stacklevel=3)
        return tuple(keep)

    def _fit_stats(self, frame: pd.DataFrame) -> None:
        self.stats_ = {}
        for name in self.features_:
            for part in _parts(name):
                for t in self.targets_:
                    v = self._base_values(frame, part, t)
                    key = (part, t if part == SIMILARITY else None)
                    if key in self.stats_:
                        continue
                    if part != SIMILARITY:  # task-level: over the tasks; similarity: per target
                        v = self._base_values(frame, part, self.targets_[0])
                    sd = np.nanstd(v, ddof=1)
                    self.stats_[key] = (np.nanmean(v), sd if sd > 0 else 1.0, v[np.isfinite(v)])
        self.stats_["products"] = {}
        if any("*" in n for n in self.features_):
            raw = np.vstack([self._raw_design(frame, t, standardise_products=False) for t in self.targets_])
            for j, name in enumerate(self.features_):
                if "*" in name:
                    sd = np.nanstd(raw[:, j], ddof=1)
                    self.stats_["products"][name] = (np.nanmean(raw[:, j]), sd if sd > 0 else 1.0)

    def _raw_design(self, frame: pd.DataFrame, target: str, standardise_products: bool = True) -> np.ndarray:
        cols = []
        for name in self.features_:
            parts = _parts(name)
            stats = [self.stats_[(p, target if p == SIMILARITY else None)] for p in parts]
            if len(parts) == 1:
                m, sd, _ = stats[0]
                col = (self._base_values(frame, name, target) - m) / sd
            else:
                col = np.ones(len(frame))
                for p, (m, _, ref) in zip(parts, stats):
                    v = self._base_values(frame, p, target)
                    col = col * unit_scale(np.where(np.isfinite(v), v, m), ref)
                if standardise_products:
                    m, sd = self.stats_["products"][name]
                    col = (col - m) / sd
            cols.append(np.where(np.isfinite(col), col, 0.0))  # missing: the training mean
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))

    # ---------------------------------------------------------------- fitting
    def fit(self, table: StudyTable) -> "PooledGainPredictor":
        """Learn from every intermediate task of ``table`` (all its targets); returns self."""
        self.targets_ = list(table.targets)
        self.tasks_ = list(table.intermediates)
        self.n_tasks_ = len(self.tasks_)
        frame = with_similarity(table.profiles.loc[self.tasks_], table)
        self.features_ = self._usable(frame, list(self.features or DEFAULT_FEATURES))
        self._fit_stats(frame)
        means = table.task_means("gain")
        self.train_gains_ = means
        self.center_ = means.mean()
        self.scale_ = means.std(ddof=1).fillna(1.0).replace(0, 1.0)
        cell = table.primary().groupby(["target", "language"])["baseline_score"].mean()
        self.baseline_ = cell.groupby(level="target").mean()
        rows = seed_rows(table)
        rows = rows[rows["target"].isin(self.targets_)]
        design = {t: pd.DataFrame(self._raw_design(frame, t), index=self.tasks_) for t in self.targets_}
        X = np.vstack([design[t].loc[g["intermediate"]].to_numpy() for t, g in rows.groupby("target", sort=False)])
        order = pd.concat([g for _, g in rows.groupby("target", sort=False)])
        y = ((order["gain"] - order["target"].map(self.center_)) / order["target"].map(self.scale_)).to_numpy()
        groups = order["intermediate"].to_numpy()
        self.alpha_ = self._choose_alpha(X, y, groups)
        self.beta_ = ridge_fit(X, y, self.alpha_)
        self.coef_ = pd.Series(self.beta_, index=("intercept",) + self.features_)
        self.halfwidth_ = math.nan
        if self.level:
            self.residuals_ = self._loto_residuals(X, y, groups, order["target"].to_numpy(), self.alpha_)
            self.halfwidth_ = jackknife_quantile(self.residuals_, self.level)
        return self

    @staticmethod
    def _task_level(pred, y, groups, targets):
        frame = pd.DataFrame({"g": groups, "t": targets, "p": pred, "y": y})
        return frame.groupby(["g", "t"])[["p", "y"]].mean()

    def _choose_alpha(self, X, y, groups) -> float:
        alphas = list(self.alphas)
        if len(alphas) == 1 or len(set(groups)) < 3:
            return float(alphas[0]) if len(alphas) == 1 else float(np.median(alphas))
        err = [float(np.mean(self._loto_residuals(X, y, groups, None, a) ** 2)) for a in alphas]
        return float(alphas[int(np.argmin(err))])

    @staticmethod
    def _loto_residuals(X, y, groups, targets, alpha) -> np.ndarray:
        """Task-level (per target, if given) residuals of leave-one-task-out refits."""
        out = []
        for g in pd.unique(groups):
            test = groups == g
            beta = ridge_fit(X[~test], y[~test], alpha)
            err = y[test] - _predict(beta, X[test])
            if targets is None:
                out.append(err.mean())
            else:
                out.extend(pd.Series(err).groupby(targets[test]).mean().to_numpy())
        return np.asarray(out)

    # ---------------------------------------------------------------- prediction
    def predict(self, profiles) -> pd.DataFrame:
        """Predicted task-level gain of each task per target.

        Parameters
        ----------
        profiles : DataFrame, dict or mapping of dicts
            A feature frame (index: task; ``similarity.<target>`` columns for the similarity
            feature, see :func:`with_similarity`), one profile dict, or task -> profile dict.

        Returns
        -------
        DataFrame
            ``task, target, predicted_gain, lower, upper, predicted_score``.
        """
        frame = _candidate_frame(profiles)
        missing = sorted({p for n in self.features_ for p in _parts(n)
                          if all(not np.isfinite(self._base_values(frame, p, t)).any() for t in self.targets_)})
        if missing:
            warnings.warn(f"features missing from the new profile(s), imputed with the training mean: "
                          f"{', '.join(missing)}", UserWarning, stacklevel=2)
        rows = []
        for t in self.targets_:
            z = _predict(self.beta_, self._raw_design(frame, t))
            gain = self.center_[t] + self.scale_[t] * z
            hw = self.halfwidth_ * self.scale_[t] if self.level else math.nan
            base = float(self.baseline_.get(t, np.nan))
            rows += [{"task": task, "target": t, "predicted_gain": float(g), "lower": float(g - hw),
                      "upper": float(g + hw), "predicted_score": base + float(g)} for task, g in zip(frame.index, gain)]
        return pd.DataFrame(rows)

    def clone_for_cv(self) -> "PooledGainPredictor":
        """An unfitted copy without intervals (used inside cross-validation)."""
        return clone(self).set_params(level=None)

    def summary(self) -> str:
        """Coefficients, the ridge penalty, n and the interval half-width."""
        lines = [f"Pooled gain predictor: {self.n_tasks_} intermediate tasks x {len(self.targets_)} targets, "
                 f"ridge alpha {self.alpha_:g} (leave-one-task-out CV on seed rows)"]
        lines += [f"  {k:28s} {v:+.3f}" for k, v in self.coef_.items()]
        if self.level:
            lines.append(f"  {self.level:.0%} jackknife half-width: {self.halfwidth_:.3f} SD of the target's gain")
        return "\n".join(lines)
