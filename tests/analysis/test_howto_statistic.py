"""docs/howto.md, "How to add a report statistic": a column is one code file.

A statistic added to a frame an analysis already returns (here a per-target Kendall tau of
the leave-one-task-out predictions, in ``taskdiff/analysis/evaluation.py``) reaches both
report.md and report.html with no edit to the report package: every table is rendered from
its frame (``report/context.py: make_table``).
"""

from __future__ import annotations

import warnings

import pandas as pd

from taskdiff.analysis import evaluation


def _with_kendall(original):
    def score(pred, gain, score, k):
        return {**original(pred, gain, score, k),
                "kendall": float(pd.Series(pred).corr(pd.Series(gain), method="kendall"))}
    return score


def test_a_new_evaluation_column_reaches_both_reports(effect_study, monkeypatch):
    from taskdiff.analysis.report.analyses import analyse_study
    from taskdiff.analysis.report.context import build_context
    from taskdiff.analysis.report.writer import _environment
    from taskdiff.analysis.table import load_study

    monkeypatch.setattr(evaluation, "METRIC_COLUMNS", (*evaluation.METRIC_COLUMNS, "kendall"))
    monkeypatch.setattr(evaluation, "_score_ranking", _with_kendall(evaluation._score_ranking))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyse_study(load_study(effect_study), n_perm=99, n_boot=50)
    assert "kendall" in a.evaluation.to_frame().columns
    ctx = build_context(a, {})
    env = _environment()
    for name in ("report.md.j2", "report.html.j2"):
        text = env.get_template(name).render(**ctx)
        assert any("top1" in line and "kendall" in line for line in text.splitlines()), name
