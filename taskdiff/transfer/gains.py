"""The tidy gains table: one row per intermediate, target, language, seed and metric.

``gain = score - baseline_score`` where ``baseline_score`` is the mean over seeds of the
no-intermediate pipeline's score for the same target, language and metric. The columns of
``scores.csv`` and ``gains.csv`` are :data:`taskdiff.schema.SCORE_COLUMNS` and
:data:`taskdiff.schema.GAIN_COLUMNS`.
"""

from __future__ import annotations

from pathlib import Path

from taskdiff.schema import GAIN_COLUMNS, SCORE_COLUMNS
from taskdiff.io import atomic_write_bytes, atomic_write_csv

NUMERIC_KEYS_SKIP = {"threshold"}


def score_rows(intermediate: str, target: str, language: str, seed: int, result) -> list[dict]:
    """Rows of the scores table from one evaluation run's metrics."""
    scores = result.metrics["scores"]
    return [{"intermediate": intermediate, "target": target, "language": language, "seed": seed,
             "metric": key, "score": float(value), "n": result.metrics.get("n"), "run_id": result.run_id}
            for key, value in scores.items() if key not in NUMERIC_KEYS_SKIP]


def gains_table(scores, baseline: str = "none"):
    """Turn the scores table (with baseline rows) into the tidy gains table (pandas)."""
    import pandas as pd

    scores = pd.DataFrame(scores, columns=list(SCORE_COLUMNS)) if not isinstance(scores, pd.DataFrame) else scores
    base = (scores[scores["intermediate"] == baseline]
            .groupby(["target", "language", "metric"], as_index=False)["score"].mean()
            .rename(columns={"score": "baseline_score"}))
    rest = scores[scores["intermediate"] != baseline]
    table = rest.merge(base, on=["target", "language", "metric"], how="left")
    table["gain"] = table["score"] - table["baseline_score"]
    return table[list(GAIN_COLUMNS)].sort_values(list(GAIN_COLUMNS[:5])).reset_index(drop=True)


def write_tables(scores, out_dir: Path) -> dict[str, Path]:
    """Write ``scores.csv``, ``gains.csv`` and ``gains.parquet`` atomically into ``out_dir``."""
    import pandas as pd


    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = pd.DataFrame(scores, columns=list(SCORE_COLUMNS))
    gains = gains_table(scores)
    atomic_write_csv(scores.sort_values(list(SCORE_COLUMNS[:5])), out_dir / "scores.csv")
    atomic_write_csv(gains, out_dir / "gains.csv")
    atomic_write_bytes(out_dir / "gains.parquet", gains.to_parquet(index=False))
    return {"scores": out_dir / "scores.csv", "gains": out_dir / "gains.csv", "parquet": out_dir / "gains.parquet"}
