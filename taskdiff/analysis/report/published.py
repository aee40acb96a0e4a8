"""Published X-STILTs figures beside a study's gains: a direction check, another model's.

:func:`published_xstilts` reads ``data/xstilts_published.yaml`` (XLM-R Large vs the best
X-STILTs model per target, test sets, XTREME leaderboard as of 2020). :func:`direction_check`
puts, for every target the study shares with that table, the published gain of the best
intermediate task beside the study's best mean gain and says whether the two have the same
sign. The published numbers come from a different, much larger model trained on full data:
they can say whether a study's direction is plausible, not what its size should be.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

__all__ = ["published_xstilts", "direction_check", "PUBLISHED_NOTE"]

PUBLISHED_NOTE = ("Published figures are another model's (XLM-R Large on full XTREME training "
                  "data, test sets, best intermediate task per target; source: {source}). "
                  "Shown as a direction check only: sizes are not comparable.")


@lru_cache(maxsize=1)
def _load() -> dict:
    text = resources.files("taskdiff.analysis.report").joinpath(
        "data/xstilts_published.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def published_xstilts() -> pd.DataFrame:
    """One row per target (index: taskdiff target name): label, metric, baseline,
    best_xstilts, gain (= best_xstilts - baseline, points)."""
    data = _load()
    df = pd.DataFrame.from_dict(data["targets"], orient="index")
    df["gain"] = (df["best_xstilts"] - df["baseline"]).round(6)
    df.index.name = "target"
    df.attrs["source"] = data["source"]
    return df[["label", "metric", "baseline", "best_xstilts", "gain"]]


def direction_check(task_means: pd.DataFrame, metrics: dict[str, str]) -> pd.DataFrame:
    """Published vs study gains for the targets both have.

    Parameters
    ----------
    task_means : DataFrame
        Mean gain per intermediate task (index) and target (columns), in the target's metric
        (:meth:`StudyTable.task_means`).
    metrics : dict
        Target -> the study's primary metric.

    Returns
    -------
    DataFrame
        Index target; columns published_baseline, published_best, published_gain,
        study_best_intermediate, study_best_gain, study_mean_gain, same_direction
        ("yes"/"no", or "metric differs" when the study's metric is not the published one).
    """
    pub = published_xstilts()
    rows = []
    for target in task_means.columns:
        if target not in pub.index:
            continue
        p = pub.loc[target]
        col = task_means[target].dropna()
        if col.empty:
            continue
        best = col.idxmax()
        same = np.sign(col[best]) == np.sign(p["gain"])
        rows.append({"target": target, "published_baseline": p["baseline"],
                     "published_best": p["best_xstilts"], "published_gain": p["gain"],
                     "study_best_intermediate": best, "study_best_gain": float(col[best]),
                     "study_mean_gain": float(col.mean()),
                     "same_direction": ("metric differs" if metrics.get(target) != p["metric"]
                                        else "yes" if same else "no")})
    cols = ["target", "published_baseline", "published_best", "published_gain",
            "study_best_intermediate", "study_best_gain", "study_mean_gain", "same_direction"]
    out = pd.DataFrame(rows, columns=cols).set_index("target")
    out.attrs["note"] = PUBLISHED_NOTE.format(source=pub.attrs["source"])
    return out
