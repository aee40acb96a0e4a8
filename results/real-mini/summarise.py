"""Mean gain per intermediate x target of the real study, with its interval (markdown).

The unit of replication is the seed: each seed's gain is averaged over the target's
languages, and the interval is a t interval over seeds (n = seeds done; no interval with
one seed). Scores are the targets' main metrics (accuracy for XNLI / PAWS-X / Tatoeba, F1
for BUCC), in points::

    python results/real-mini/summarise.py results/real-mini/gains.csv
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from scipy import stats

MAIN = {"xnli": "accuracy", "pawsx": "accuracy", "tatoeba": "accuracy", "bucc": "f1"}


def summarise(path: str) -> pd.DataFrame:
    g = pd.read_csv(path)
    g = g[g.apply(lambda r: MAIN.get(r["target"]) == r["metric"], axis=1)]
    per_seed = g.groupby(["intermediate", "target", "seed"]).agg(gain=("gain", "mean"), langs=("language", "nunique"))
    rows = []
    for (inter, target), d in per_seed.groupby(level=[0, 1]):
        x = d["gain"].to_numpy()
        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.nan
        rows.append({"intermediate": inter, "target": target, "seeds": len(x), "languages": int(d["langs"].max()),
                     "mean_gain": x.mean(), "ci_low": x.mean() - half, "ci_high": x.mean() + half})
    return pd.DataFrame(rows)


def baselines(path: str) -> pd.DataFrame:
    s = pd.read_csv(path.replace("gains.csv", "scores.csv"))
    s = s[(s["intermediate"] == "none") & s.apply(lambda r: MAIN.get(r["target"]) == r["metric"], axis=1)]
    return s.groupby(["target", "language"])["score"].agg(["mean", "count"]).reset_index()


if __name__ == "__main__":
    table = summarise(sys.argv[1])
    fmt = lambda v: "–" if pd.isna(v) else f"{v:+.1f}"
    print("| intermediate | target | seeds | languages | mean gain | 95 % CI |\n|---|---|---|---|---|---|")
    for r in table.sort_values(["target", "mean_gain"], ascending=[True, False]).itertuples():
        ci = "–" if pd.isna(r.ci_low) else f"[{r.ci_low:+.1f}, {r.ci_high:+.1f}]"
        print(f"| {r.intermediate} | {r.target} | {r.seeds} | {r.languages} | {fmt(r.mean_gain)} | {ci} |")
    print("\nBaseline (no intermediate) scores, mean over seeds:\n\n| target | language | score | seeds |\n|---|---|---|---|")
    for r in baselines(sys.argv[1]).itertuples():
        print(f"| {r.target} | {r.language} | {r.mean:.1f} | {r.count} |")
