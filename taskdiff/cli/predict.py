"""What ``taskdiff predict`` and ``taskdiff report`` check and print around the analysis calls.

* :func:`study_profile_settings` - the model, measures, ``max_examples`` and seed the study's
  profiles were made with (``predict --task`` profiles the new task the same way);
* :func:`predict_report` - checks a new profile against the study (same model, measures,
  settings; features present), predicts with
  :func:`~taskdiff.analysis.prediction.predict_new_task`, explains unbounded intervals, and
  prints the predictor's leave-one-task-out quality on that study
  (:func:`~taskdiff.analysis.evaluation.leave_one_task_out`: Spearman, Regret@3 next to
  the baselines) so that a point estimate never stands alone;
* :func:`check_study_for_report` - refuses a study holding a profile without any feature
  value (with its file and the measures' errors) before the report fits anything.

Only public functions of the analysis modules are called; nothing here imports torch.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path

from taskdiff.analysis.profiles import (check_candidate_profile, check_study_profiles, compatibility_notes,
                                        read_profile, read_profiles)
from taskdiff.errors import ConfigError
from taskdiff.analysis.api import format_prediction_table
from taskdiff.analysis.evaluation import leave_one_task_out
from taskdiff.analysis.prediction import GainPredictor, predict_new_task
from taskdiff.analysis.table import load_study
from taskdiff.difficulty.api import DEFAULT_MEASURES

__all__ = ["check_study_for_report", "interval_note", "min_tasks_for_level", "predict_report",
           "study_profile_settings"]


def _profiles(study: str | Path) -> dict[str, dict]:
    return read_profiles(Path(study) / "profiles")


def study_profile_settings(study: str | Path) -> dict:
    """``{"model", "measures", "max_examples", "seed"}`` of the study's profiles (most common values)."""

    provs = [p.get("provenance") or {} for p in _profiles(study).values()]

    def common(key):
        values = Counter(repr(p.get(key)) for p in provs)
        best = values.most_common(1)[0][0] if values else "None"
        return next((p.get(key) for p in provs if repr(p.get(key)) == best), None)

    names = {n for p in provs for n in list(p.get("measures") or {}) + list(p.get("errors") or {})}
    order = [m for m in DEFAULT_MEASURES if m in names] + sorted(names - set(DEFAULT_MEASURES))
    seed = common("seed")
    return {"model": common("model"), "measures": order or None, "max_examples": common("max_examples"),
            "seed": seed if isinstance(seed, int) else 0}


def check_study_for_report(study: str | Path) -> list[str]:
    """Notes on partial profiles; a :class:`DataError` for a profile without any feature."""
    directory = Path(study) / "profiles"
    return check_study_profiles(read_profiles(directory), directory)


def min_tasks_for_level(level: float) -> int:
    """The fewest tasks for which a ``level`` jackknife interval is bounded: ceil(level (n+1)) <= n."""
    n = 1
    while math.ceil(level * (n + 1) - 1e-12) > n:
        n += 1
    return n


def interval_note(df, level: float, n_tasks: int) -> str | None:
    """Why the intervals are unbounded (too few tasks for ``level``), or None."""
    if df.empty or not (~df["lower"].apply(math.isfinite)).any():
        return None
    need = min_tasks_for_level(level)
    best = math.floor(n_tasks / (n_tasks + 1) * 100) / 100
    tip = (f"; with {n_tasks} tasks --level {best:.2f} or lower gives bounded intervals" if n_tasks >= 2 else "")
    return (f"intervals are unbounded: a {level:.0%} jackknife interval takes the ceil({level:g} x (n + 1))-th "
            f"smallest of the n leave-one-task-out residuals, which exists only with n >= {need} tasks; "
            f"this study has {n_tasks}{tip}")


def _loto_text(table, level: float) -> str:

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ev = leave_one_task_out(table, GainPredictor(level=None), k=3, n_perm=999)
    except Exception as exc:  # noqa: BLE001 - too few tasks or targets: say so, the prediction stands
        return f"Leave-one-task-out quality of this predictor: not computable on this study ({exc})"
    return "Quality of this predictor on this study (each known task predicted from the others):\n" + ev.summary()


def predict_report(study: str | Path, profile_path: str | Path, *, level: float = 0.9,
                   quality: bool = True) -> str:
    """The text of ``taskdiff predict``: checks, predictions, interval note and LOTO quality.

    Raises
    ------
    ConfigError
        If the profile was made with another model than the study's profiles.
    DataError
        If a profile is unreadable or has none of the features the predictor uses.
    """

    if not 0 < level < 1:
        raise ConfigError(f"--level: expected a number between 0 and 1, found {level!r}")
    study_profiles = _profiles(study)
    notes = check_study_profiles(study_profiles, Path(study) / "profiles")
    profile = read_profile(profile_path, check_name=False)
    differences = compatibility_notes(profile, study_profiles)
    if differences and differences[0].startswith("made with model"):
        raise ConfigError(f"{profile_path}: {differences[0]}; feature values of different encoders are not "
                          "comparable (profile the task with the study's model)")
    table = load_study(study)
    features = list(table.usable_features())
    missing = check_candidate_profile(profile, profile_path, features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing features are reported below, once
        df = predict_new_task(study, profile, predictor=GainPredictor(level=level))
    lines = [format_prediction_table(df), ""]
    n_tasks = len(table.task_means("gain").index)
    lines.append(f"profile checked against the study: {len(study_profiles)} profiles, "
                 f"{len(features)} usable features" + ("; differences: " + "; ".join(differences)
                                                        if differences else "; same model, measures and settings"))
    if missing:
        lines.append(f"note: the profile lacks {', '.join(missing)}: imputed with the study's mean")
    lines += [f"note: {n}" for n in notes]
    note = interval_note(df, level, n_tasks)
    if note:
        lines.append(f"note: {note}")
    if quality:
        lines += ["", _loto_text(table, level)]
    return "\n".join(lines)
