"""The study report: figures, Jinja2 templates, ``write_report``.

matplotlib is imported only when figures are drawn.
"""

from taskdiff.analysis.report.analyses import DEFAULT_MODEL_FEATURES, StudyAnalysis, analyse_study
from taskdiff.analysis.report.writer import render_report, write_report

__all__ = ["DEFAULT_MODEL_FEATURES", "StudyAnalysis", "analyse_study", "render_report",
           "write_report"]
