"""Thin functions behind the CLI: ``taskdiff report`` and ``taskdiff predict``.

Each is one call a user could make from Python the same way; the CLI only parses options
and prints. Errors are :class:`~taskdiff.errors.TaskdiffError` subclasses with one-line
messages (file, field, expected, found).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from taskdiff.analysis._format import fmt_number, frame_to_text
from taskdiff.analysis.prediction import predict_new_task
from taskdiff.analysis.profiles import read_profile
from taskdiff.analysis.report import write_report

__all__ = ["report", "predict", "format_prediction_table"]


def report(study_dir: str | Path, out_dir: str | Path, **options) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` for a study (``taskdiff report``).

    Parameters
    ----------
    study_dir : str or Path
        Directory with ``gains.csv`` and ``profiles/<task>.json``.
    out_dir : str or Path
        Output directory (created).
    **options
        Passed to :func:`taskdiff.analysis.report.write_report` (``features``,
        ``model_features``, ``metrics``, ``k``, ``seed``, ``n_perm``, ``n_boot``, ``alpha``).

    Returns
    -------
    (Path, Path)
        The HTML and Markdown files.
    """

    return write_report(study_dir, out_dir, **options)


def predict(study_dir: str | Path, profile_path: str | Path, **options) -> pd.DataFrame:
    """Predict the gain of the task described by ``profile_path`` (``taskdiff predict``).

    Parameters
    ----------
    study_dir : str or Path
        The study whose intermediate tasks train the predictor.
    profile_path : str or Path
        A difficulty profile JSON file of the new task (its ``task`` field names it; the
        file name need not match).
    **options
        Passed to :func:`taskdiff.analysis.prediction.predict_new_task` (``predictor``,
        ``metrics``).

    Returns
    -------
    DataFrame
        One row per target (see :func:`~taskdiff.analysis.prediction.predict_new_task`).
    """

    profile = read_profile(profile_path, check_name=False)
    return predict_new_task(study_dir, profile, **options)


def format_prediction_table(df: pd.DataFrame) -> str:
    """A plain-text table of :func:`predict` output for the terminal."""
    if df.empty:
        return "(no prediction)"
    level = df["level"].iloc[0]
    lvl = f"{level:.0%} interval" if isinstance(level, float) and level == level else "interval"
    view = pd.DataFrame({
        "target": df["target"], "metric": df["metric"],
        "predicted gain": df["predicted_gain"].map(lambda x: fmt_number(x, 3)),
        lvl: [f"[{fmt_number(lo, 3)}, {fmt_number(hi, 3)}]"
              for lo, hi in zip(df["lower"], df["upper"])],
        "predicted score": df["predicted_score"].map(lambda x: fmt_number(x, 2)),
        "rank": [f"{r} of {n}" for r, n in zip(df["rank"], df["n_candidates"])],
        "best known": [f"{b} ({fmt_number(g, 3)})"
                       for b, g in zip(df["best_known"], df["best_known_gain"])],
    })
    task = df["task"].iloc[0]
    head = f"Predicted gain of {task!r} per target (rank among the known intermediate tasks)"
    return head + "\n\n" + frame_to_text(view, {c: str for c in view.columns})
