"""Leave-one-intermediate-task-out evaluation of gain prediction, with baselines.

For each intermediate task h, the predictor is fitted on the other tasks and predicts h's
gain on every target from h's profile alone. The n held-out predictions per target form a
ranking of the n candidate tasks, scored against the observed task-level means with
Spearman's rho, NDCG@k, Regret@k and top-1 hit (:mod:`taskdiff.analysis.ranking`).

Baselines, scored on exactly the same candidates and truth:

- ``data size``: rank by ``n_examples`` (bigger is better).
- ``LogME``: rank by ``logme`` (higher is better), when profiles have it.
- ``embedding similarity``: rank the candidates for target t by the cosine of their task
  embedding with t's (TextEmb; Vu et al. 2020, Poth et al. 2021), when the profiles have the
  ``embedding`` measure (:func:`taskdiff.analysis.pooled.task_similarity`).
- ``best on average``: rank the candidates for target t by their mean standardised gain on
  the *other* targets (the training folds of a leave-one-target-out split, Poth et al.
  2021). It uses gains of the held-out task on other targets, which a truly new task
  does not have: a strong, partly unfair reference, not a competitor.
- ``random``: the exact expected value over uniformly random rankings.

"Better than random" is decided by a one-sided permutation test of the predictor's mean
Spearman over targets: the intermediate tasks are permuted, the same permutation for every
target, so that the dependence between targets stays in the null distribution. The same test
is reported for every baseline (``p_values``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from taskdiff.analysis._format import fmt_number, frame_to_markdown, frame_to_text, p_phrase
from taskdiff.analysis.corrstats import spearman_rows
from taskdiff.analysis.pooled import task_similarity, with_similarity
from taskdiff.analysis.prediction import GainPredictor, task_targets
from taskdiff.analysis.ranking import (ndcg_at_k, random_expectation, regret_at_k,
                                       top1_hit)
from taskdiff.analysis.table import StudyTable

__all__ = ["RankingEvaluation", "leave_one_task_out", "small_n_note", "PREDICTOR", "RANDOM", "SMALL_N_TASKS"]

PREDICTOR, RANDOM = "predictor", "random"
#: Below this many candidate tasks a LOTO ranking says little about a predictor (note added).
SMALL_N_TASKS = 10
METRIC_COLUMNS = ("spearman", "ndcg", "regret", "top1")


@dataclass
class RankingEvaluation:
    """Per-target ranking quality of the predictor and the baselines.

    Attributes
    ----------
    frame : DataFrame
        One row per (method, key): ``method, target[, language], n, spearman, ndcg, regret,
        top1``.
    predictions : DataFrame
        Held-out predictions: ``intermediate, key, predicted, observed_gain,
        observed_score``.
    k : int
        Cut-off of NDCG and Regret.
    p_better_than_random : float
        One-sided permutation p-value of the predictor's mean Spearman.
    notes : list of str
        Baselines that could not be computed, and why.
    p_values : dict
        Method -> one-sided permutation p-value of its mean Spearman (the predictor's is
        ``p_better_than_random``; the same permutations for every method).
    """

    frame: pd.DataFrame
    predictions: pd.DataFrame
    k: int
    p_better_than_random: float
    alpha: float = 0.05
    notes: list[str] = field(default_factory=list)
    p_values: dict[str, float] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the per-target frame."""
        return self.frame.copy()

    def summary_frame(self) -> pd.DataFrame:
        """Mean of each metric over targets, one row per method (predictor first)."""
        f = self.frame.groupby("method", sort=False)[list(METRIC_COLUMNS)].mean()
        f = f.rename(columns={"ndcg": f"ndcg@{self.k}", "regret": f"regret@{self.k}"})
        f.insert(0, "targets", self.frame.groupby("method", sort=False).size())
        return f

    @property
    def better_than_random(self) -> bool:
        """Mean Spearman significantly above 0 and mean Regret@k below random's."""
        s = self.summary_frame()
        pred, rand = s.loc[PREDICTOR, f"regret@{self.k}"], s.loc[RANDOM, f"regret@{self.k}"]
        regret_ok = not (np.isfinite(pred) and np.isfinite(rand)) or pred <= rand
        return bool(self.p_better_than_random <= self.alpha and regret_ok)

    def verdict(self) -> str:
        """A sentence on whether the predictor beats random ranking, and the best method."""
        s = self.summary_frame()
        rk = f"regret@{self.k}"
        pred, rand = s.loc[PREDICTOR], s.loc[RANDOM]
        stats = (f"mean Spearman {fmt_number(pred['spearman'], 2)} (one-sided permutation "
                 f"{p_phrase(self.p_better_than_random)}), Regret@{self.k} "
                 f"{_pct(pred[rk], 2)} vs {_pct(rand[rk], 2)} for a random ranking, "
                 f"top-1 hit rate {pred['top1']:.0%} vs {rand['top1']:.0%}")
        if self.better_than_random:
            head = "The predictor ranks held-out intermediate tasks better than random"
        else:
            head = "The predictor ranks held-out intermediate tasks no better than random"
        regrets = s[rk].drop(RANDOM).dropna()
        tail = "" if regrets.empty else (
            f" The lowest mean Regret@{self.k} is that of '{regrets.idxmin()}' "
            f"({_pct(regrets.min(), 2)}).")
        return f"{head}: {stats}.{tail}"

    def summary_table(self) -> tuple[pd.DataFrame, dict]:
        """The means-over-targets frame and its column formatters (for rendering)."""
        formats = {f"regret@{self.k}": lambda x: _pct(x, 2), "top1": _pct}
        return self.summary_frame().reset_index(), formats

    def summary(self) -> str:
        """Plain text: settings, the mean-over-targets table and the verdict."""
        head = (f"Leave-one-intermediate-task-out evaluation, k = {self.k}, "
                f"{self.frame['n'].max()} candidate tasks")
        return "\n".join([head, "", frame_to_text(*self.summary_table()), "",
                          self.verdict()] + [f"note: {n}" for n in self.notes])

    def to_markdown(self) -> str:
        """Markdown table of the means over targets, then the verdict."""
        notes = "".join(f"\n\n*Note:* {n}" for n in self.notes)
        return frame_to_markdown(*self.summary_table()) + "\n\n" + self.verdict() + notes


def small_n_note(n_tasks: int) -> str | None:
    """A note when there are too few candidate tasks to judge a ranking (None otherwise).

    Under a random ranking Spearman's rho has SD about 1/sqrt(n - 1): 0.41 with the demo's 7
    tasks, so one study can neither show nor rule out a useful predictor.
    """
    if n_tasks >= SMALL_N_TASKS:
        return None
    return (f"only {n_tasks} candidate tasks: under a random ranking Spearman's rho has SD about "
            f"{1 / np.sqrt(max(n_tasks - 1, 1)):.2f}, so this evaluation can neither show nor rule out a "
            f"useful predictor; the predictor is tested on 16 varied testbed tasks by "
            f"`python -m benchmarks.predictor_testbed` (docs/predictor.md)")


def _pct(x, digits: int = 1) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{digits}%}"


def _loto_predictions(table: StudyTable, predictor: GainPredictor) -> pd.DataFrame:
    tasks = table.intermediates
    preds = []
    for h in tasks:
        model = predictor.clone_for_cv().fit(table.subset([t for t in tasks if t != h]))
        p = model.predict(with_similarity(table.profiles.loc[[h]], table))
        key = (p["target"] if predictor.by == "target"
               else list(zip(p["target"], p["language"])))
        preds.append(pd.Series(p["predicted_gain"].to_numpy(), index=key, name=h))
    return pd.DataFrame(preds)


def _baseline_scores(table: StudyTable, truth: pd.DataFrame, by: str) -> tuple[dict, list]:
    notes, out = [], {}
    prof = table.profiles.loc[truth.index]
    for name, col in (("data size", "n_examples"), ("LogME", "logme")):
        if col in prof.columns and prof[col].notna().sum() >= 2:
            out[name] = pd.DataFrame({k: prof[col] for k in truth.columns})
        else:
            notes.append(f"baseline '{name}' skipped: profiles lack '{col}'")
    sims = task_similarity(table).reindex(truth.index)
    if sims.notna().sum().min() >= 2:
        out["embedding similarity"] = pd.DataFrame(
            {k: sims[k if by == "target" else k[0]] for k in truth.columns})
    else:
        notes.append("baseline 'embedding similarity' skipped: profiles lack the 'embedding' measure")
    z = table.task_means("gain_z")
    if z.shape[1] >= 2:
        avg = {}
        for key in truth.columns:
            target = key if by == "target" else key[0]
            avg[key] = z.drop(columns=target).mean(axis=1)
        out["best on average"] = pd.DataFrame(avg)
    else:
        notes.append("baseline 'best on average' skipped: it needs at least two targets")
    return out, notes


def _score_ranking(pred: np.ndarray, gain: np.ndarray, score: np.ndarray, k: int) -> dict:
    rho = float(spearman_rows(pred, gain)) if np.isfinite(pred).all() else float(
        pd.Series(pred).corr(pd.Series(gain), method="spearman"))
    regret = regret_at_k(score, pred, k) if score.max() > 0 else np.nan
    return {"spearman": rho, "ndcg": ndcg_at_k(score - score.min(), pred, k),
            "regret": regret, "top1": top1_hit(gain, pred)}


def _long_predictions(P: pd.DataFrame, G: pd.DataFrame, S: pd.DataFrame) -> pd.DataFrame:
    rows = [{"intermediate": task, "key": key, "predicted": P.at[task, key],
             "observed_gain": G.at[task, key], "observed_score": S.at[task, key]}
            for key in G.columns for task in G.index if np.isfinite(G.at[task, key])]
    return pd.DataFrame(rows)


def _perm_test(P: pd.DataFrame, G: pd.DataFrame, n_perm: int, seed: int) -> float:
    """One-sided p-value of the mean Spearman over keys.

    The exchangeable unit is the intermediate task: one permutation of the tasks is applied
    to the predictions of every target at once, which keeps the dependence between targets
    (a task that helps one target tends to help all) in the null distribution.
    """
    rng = np.random.default_rng(seed)
    x_all, y_all = P.to_numpy(dtype=float), G.to_numpy(dtype=float)
    perms = rng.permuted(np.tile(np.arange(len(P)), (n_perm, 1)), axis=1)
    obs, null = [], []
    for j in range(y_all.shape[1]):
        ok = np.isfinite(y_all[:, j])
        x, y = x_all[:, j], y_all[ok, j]
        obs.append(float(spearman_rows(x[ok], y)))
        null.append(spearman_rows(x[perms][:, ok], y[None, :]))
    if not np.isfinite(obs).any():  # no defined Spearman (constant predictions or truth): no evidence
        return 1.0
    obs_m = np.nanmean(obs)
    with np.errstate(invalid="ignore"):
        null_m = np.nanmean(np.stack(null), axis=0)
    return float((1 + np.count_nonzero(null_m >= obs_m - 1e-12)) / (n_perm + 1))


def leave_one_task_out(table: StudyTable, predictor: GainPredictor | None = None, k: int = 3,
                       *, n_perm: int = 2000, seed: int = 0,
                       alpha: float = 0.05) -> RankingEvaluation:
    """Evaluate ``predictor`` by leave-one-intermediate-task-out, next to the baselines.

    Parameters
    ----------
    table : StudyTable
        The study (primary metric rows are used).
    predictor : GainPredictor, optional
        Unfitted predictor (default ``GainPredictor()``); cloned for every fold.
    k : int
        Cut-off for NDCG@k and Regret@k.
    n_perm : int
        Permutations of the better-than-random test.
    seed : int
        Seed of that test.
    alpha : float
        Level of that test.
    """
    predictor = predictor if predictor is not None else GainPredictor()
    gains = task_targets(table, predictor.by)
    scores = task_targets(table, predictor.by, "score")
    methods = {PREDICTOR: _loto_predictions(table, predictor).reindex(
        index=gains.index, columns=gains.columns)}
    base, notes = _baseline_scores(table, gains, predictor.by)
    methods.update(base)
    rows = []
    for key in gains.columns:
        ok = gains[key].notna().to_numpy()
        g, s = gains[key].to_numpy(dtype=float)[ok], scores[key].to_numpy(dtype=float)[ok]
        keycols = ({"target": key} if predictor.by == "target"
                   else {"target": key[0], "language": key[1]})
        for name, frame in methods.items():
            pred = frame[key].to_numpy(dtype=float)[ok]
            rows.append({"method": name, **keycols, "n": int(ok.sum()),
                         **_score_ranking(pred, g, s, k)})
        rand = random_expectation(s, k) if s.max() > 0 else {
            **random_expectation(s - s.min() + 1, k), "regret": np.nan}
        rows.append({"method": RANDOM, **keycols, "n": int(ok.sum()), **rand})
    long = _long_predictions(methods[PREDICTOR], gains, scores)
    if not (scores.max() > 0).all():
        notes.append("Regret@k is undefined (NaN) for targets whose best score is not "
                     "positive")
    p_values = {name: _perm_test(frame, gains, n_perm, seed) for name, frame in methods.items()}
    small = small_n_note(len(gains.index))
    if small:
        notes.append(small)
    return RankingEvaluation(frame=pd.DataFrame(rows), predictions=long, k=k,
                             p_better_than_random=p_values[PREDICTOR], alpha=alpha, notes=notes,
                             p_values=p_values)
