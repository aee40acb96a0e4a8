"""Analysis of transfer gains against difficulty: tables, statistics, prediction, reports.

Importing this package never imports torch or transformers (a test checks it). Public names
are loaded lazily on first use, so ``import taskdiff.analysis`` stays cheap for the CLI.

Main entry points
-----------------
- :func:`load_study` -> :class:`StudyTable` (gains joined with flattened profiles)
- :func:`correlate` / :class:`TaskCorrelation` -> :class:`CorrelationResults`
- :class:`GainRegression`, :class:`MixedGainModel` -> results with ``summary()``
- :class:`GainPredictor`, :func:`leave_one_task_out`, :func:`predict_new_task`
- :func:`write_report` -> ``report.html`` + ``report.md``
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "load_study": "table", "build_table": "table", "StudyTable": "table",
    "StudySource": "table", "read_gains": "gains", "read_profile": "profiles",
    "read_profiles": "profiles", "flatten_profile": "profiles",
    "correlate": "correlation", "TaskCorrelation": "correlation",
    "CorrelationResults": "correlation", "bh_adjust": "multitest", "holm_adjust": "multitest",
    "GainRegression": "regression", "RegressionResults": "regression",
    "MixedGainModel": "mixed", "MixedGainResults": "mixed",
    "InsufficientDataError": "design", "IdentificationError": "design",
    "SmallSampleWarning": "design",
    "GainPredictor": "prediction", "predict_new_task": "prediction",
    "leave_one_task_out": "evaluation", "RankingEvaluation": "evaluation",
    "ndcg_at_k": "ranking", "regret_at_k": "ranking", "top1_hit": "ranking",
    "random_expectation": "ranking",
    "write_report": "report", "analyse_study": "report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
