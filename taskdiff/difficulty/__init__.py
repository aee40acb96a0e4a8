"""Difficulty measures of a task and the :class:`DifficultyProfile` that gathers them.

>>> from taskdiff.difficulty import profile_task, format_profile_table
>>> profile = profile_task("snli", "tiny", measures=["size", "vinfo"], data_dir="data")  # doctest: +SKIP
>>> print(format_profile_table(profile))  # doctest: +SKIP

Measures follow a scikit-learn style contract (:mod:`taskdiff.difficulty.base`) and are
found by name (:func:`get_measure`), including measures that other packages declare in the
entry-point group ``taskdiff.measures``. See ``docs/difficulty/index.md``.
"""

from taskdiff.difficulty.base import Measure, MeasureContext
from taskdiff.difficulty.profile import DifficultyProfile
from taskdiff.difficulty.registry import get_measure, list_measures, register_measure
from taskdiff.schema import FLAT_KEYS, Feature
from taskdiff.difficulty import api
from taskdiff.difficulty.budget import Budget

__all__ = ["DEFAULT_MEASURES", "Budget", "DifficultyProfile", "FLAT_KEYS", "Feature", "Measure", "MeasureContext",
           "format_profile_table", "get_measure", "list_measures", "profile_task", "register_measure"]


def __getattr__(name):  # lazy: the API pulls in the measures' modules
    if name in ("profile_task", "format_profile_table", "DEFAULT_MEASURES"):

        return getattr(api, name)
    if name == "Budget":

        return Budget
    raise AttributeError(f"module 'taskdiff.difficulty' has no attribute {name!r}")
