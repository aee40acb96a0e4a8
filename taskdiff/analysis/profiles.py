"""Read difficulty profiles (``profiles/<task>.json``) and flatten them into features.

A profile (format: :mod:`taskdiff.schema`) is a JSON object with at least ``task`` and
numeric features, some nested (``cartography.easy_frac``, ``probing.syntactic`` ...), plus a
``provenance`` object. Every numeric leaf becomes a feature named by its dotted path, whatever
measure wrote it (a plugin measure's features included: there is no list of known features);
``null`` becomes NaN; strings, booleans and lists are ignored (except ``task``), unless the
profile declares the leaf a feature (:func:`taskdiff.schema.declared_features`), when they are
an error. ``provenance`` and any ``cost_seconds`` leaf are kept aside: they describe how the
profile was computed, not the task. A feature's kind and direction come from
:func:`feature_declarations` (the profile's declarations, else format 1's).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

from taskdiff.errors import DataError
from taskdiff.schema import NON_FEATURE_LEAVES, PROFILE_META_KEYS, Feature, declared_features

__all__ = ["flatten_profile", "read_profile", "read_profiles", "validate_profile", "is_feature",
           "profile_features", "feature_declarations", "measure_errors", "check_study_profiles",
           "check_candidate_profile", "compatibility_notes"]

#: Suffix of candidate-task profiles kept next to the study's profiles but not part of it.
CANDIDATE_SUFFIX = ".candidate.json"


def is_feature(name: str) -> bool:
    """Whether a dotted leaf name is a difficulty feature (not provenance or cost)."""
    parts = name.split(".")
    return parts[0] not in PROFILE_META_KEYS and parts[-1] not in NON_FEATURE_LEAVES


def flatten_profile(profile: Mapping[str, Any], *, path: str | Path = "<profile>",
                    prefix: str = "", declared: Mapping[str, Feature] | None = None) -> dict[str, float]:
    """Flatten the numeric leaves of a profile into ``{dotted.name: float}``.

    Parameters
    ----------
    profile : mapping
        The parsed JSON object.
    path : str or Path
        Used in error messages only.
    prefix : str
        Prefix of the keys (used in the recursion).
    declared : mapping, optional
        The profile's declared features (default :func:`~taskdiff.schema.declared_features`).

    Returns
    -------
    dict
        Numeric leaves (ints, floats; ``null`` -> NaN), including ``provenance.*`` and
        ``cost_seconds``; use :func:`is_feature` to keep only features. Booleans, strings
        and lists are skipped.

    Raises
    ------
    DataError
        If a declared feature holds a non-number.
    """
    if declared is None:
        declared = declared_features(profile)
    out: dict[str, float] = {}
    for key, value in profile.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_profile(value, path=path, prefix=name + ".", declared=declared))
        elif value is None:
            out[name] = math.nan
        elif isinstance(value, bool):
            continue
        elif isinstance(value, (int, float)):
            out[name] = float(value)
        elif name in declared:
            raise DataError(path, "a number or null", repr(value), field=name)
    return out


def validate_profile(profile: Any, path: str | Path, *, task: str | None = None) -> dict:
    """Check that ``profile`` is a JSON object with a ``task`` name (matching ``task``)."""
    if not isinstance(profile, dict):
        raise DataError(path, "a JSON object (a difficulty profile)", type(profile).__name__)
    name = profile.get("task")
    if not isinstance(name, str) or not name.strip():
        raise DataError(path, "a non-empty string", repr(name), field="task")
    if task is not None and name != task:
        raise DataError(path, f"task {task!r} (the file name)", repr(name), field="task")
    if "provenance" in profile and not isinstance(profile["provenance"], dict):
        raise DataError(path, "a JSON object", type(profile["provenance"]).__name__,
                        field="provenance")
    flatten_profile(profile, path=path)
    return profile


def read_profile(path: str | Path, *, check_name: bool = True) -> dict:
    """Read and validate one profile JSON file.

    Parameters
    ----------
    path : str or Path
        A ``<task>.json`` file.
    check_name : bool
        Require the ``task`` field to equal the file's stem.

    Returns
    -------
    dict
        The parsed profile.

    Raises
    ------
    DataError
        If the file is missing, is not valid JSON (with line and column), or is not a profile.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "a difficulty profile JSON file", "no such file")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DataError(path, "valid JSON", f"{exc.msg} at column {exc.colno}",
                        line=exc.lineno) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(path, "valid UTF-8 JSON without NaN/Infinity", str(exc)) from None
    return validate_profile(data, path, task=path.stem if check_name else None)


def _reject_constant(name: str):
    raise ValueError(f"non-standard JSON constant {name} (use null)")


def read_profiles(directory: str | Path) -> dict[str, dict]:
    """Read every ``*.json`` profile in ``directory``, keyed by task name.

    Files named ``*.candidate.json`` (profiles of candidate tasks written by
    ``taskdiff predict --task``) are not part of the study and are skipped.

    Raises
    ------
    DataError
        If the directory is missing or holds no profile, or a profile is invalid.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(directory, "a profiles/ directory with one <task>.json per task",
                        "no such directory")
    files = [f for f in sorted(directory.glob("*.json"))
             if not f.name.endswith(CANDIDATE_SUFFIX)]
    if not files:
        raise DataError(directory, "at least one <task>.json profile", "no .json file")
    return {f.stem: read_profile(f) for f in files}


def feature_declarations(profiles: Mapping[str, Mapping[str, Any]] | Mapping[str, Any]) -> dict[str, Feature]:
    """Feature name -> :class:`~taskdiff.schema.Feature` (kind, direction, description).

    From one profile or a mapping of profiles: the declarations the profiles carry, and
    format 1's for the original measures. A feature no profile declares (a numeric leaf
    written by hand) is absent; callers treat it as kind "other", direction "unknown".
    """
    if isinstance(profiles.get("task") if isinstance(profiles, Mapping) else None, str):
        return declared_features(profiles)
    out: dict[str, Feature] = {}
    for prof in profiles.values():
        for name, feature in declared_features(prof).items():
            out.setdefault(name, feature)
    return out


# ----------------------------------------------------------------------------- usability checks
def profile_features(profile: Mapping[str, Any], path: str | Path = "<profile>") -> dict[str, float]:
    """The finite feature values of a profile (no provenance, no cost, no NaN/null)."""
    flat = flatten_profile(profile, path=path)
    return {k: v for k, v in flat.items() if is_feature(k) and math.isfinite(v)}


def measure_errors(profile: Mapping[str, Any]) -> dict[str, str]:
    """Measure -> why it has no value (``provenance.errors`` of ``taskdiff profile``)."""
    prov = profile.get("provenance")
    errors = prov.get("errors") if isinstance(prov, Mapping) else None
    return dict(errors) if isinstance(errors, Mapping) else {}


def _why(profile: Mapping[str, Any]) -> str:
    errors = measure_errors(profile)
    if not errors:
        return "no measure has a value"
    first = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"its measures failed: {first[0]}: {str(first[1])[:160]}{more}"


def check_study_profiles(profiles: Mapping[str, Mapping], directory: str | Path) -> list[str]:
    """Refuse profiles without any feature; list the partial ones.

    Called before ``taskdiff report`` and ``taskdiff predict`` fit anything, so that an empty
    profile (every measure failed) is named with its file and reason instead of ending in a
    library traceback.

    Returns
    -------
    list of str
        One note per profile with a measure that failed (``provenance.errors``).

    Raises
    ------
    DataError
        Naming the first profile with no feature value at all, and why.
    """
    notes = []
    for task, prof in profiles.items():
        path = Path(directory) / f"{task}.json"
        if not profile_features(prof, path):
            raise DataError(path, "a profile with at least one feature value (re-run `taskdiff profile`)",
                            f"no feature value: {_why(prof)}")
        errors = measure_errors(prof)
        if errors:
            notes.append(f"{path.name}: no value for measure(s) {', '.join(sorted(errors))} ({_why(prof)})")
    return notes


def check_candidate_profile(profile: Mapping[str, Any], path: str | Path,
                            needed: tuple[str, ...] | list[str]) -> list[str]:
    """Refuse a new task's profile that has none of the features the predictor uses.

    Parameters
    ----------
    profile : mapping
        The new task's profile.
    path : str or Path
        Its file (for messages).
    needed : sequence of str
        The features the study's predictor is fitted on.

    Returns
    -------
    list of str
        Needed features the profile lacks (they are imputed with the study's mean).

    Raises
    ------
    DataError
        If the profile has none of them (the prediction would be the study mean, not a
        prediction).
    """
    have = profile_features(profile, path)
    missing = [f for f in needed if f not in have and not (f.startswith("log_") and f[4:] in have)]
    if needed and len(missing) == len(needed):
        raise DataError(path, f"values for the features the predictor uses ({', '.join(needed)})",
                        f"none of them: {_why(profile)}")
    return missing


def _prov(profile: Mapping[str, Any]) -> Mapping:
    prov = profile.get("provenance")
    return prov if isinstance(prov, Mapping) else {}


def compatibility_notes(profile: Mapping[str, Any], study: Mapping[str, Mapping]) -> list[str]:
    """Ways in which a new profile was made differently from the study's profiles.

    Compares the encoder (``provenance.model``), the measures computed and their settings
    (``provenance.measures.<m>.params``) and ``max_examples``; an empty list means the
    profile is comparable. A profile made with another model gives feature values on
    another scale, so a prediction from it means little.
    """
    notes = []
    mine = _prov(profile)
    models = {str(_prov(p).get("model")) for p in study.values() if _prov(p).get("model") is not None}
    if mine.get("model") is not None and models and str(mine.get("model")) not in models:
        notes.append(f"made with model {mine.get('model')!r}, the study's profiles with {', '.join(sorted(models))}")
    caps = {repr(_prov(p).get("max_examples")) for p in study.values()}
    if len(caps) == 1 and repr(mine.get("max_examples")) not in caps:
        notes.append(f"max_examples {mine.get('max_examples')!r}, the study's {next(iter(caps))}")
    measures = mine.get("measures") if isinstance(mine.get("measures"), Mapping) else {}
    for name, entry in measures.items():
        others = [(_prov(p).get("measures") or {}).get(name) for p in study.values()]
        others = [o for o in others if isinstance(o, Mapping)]
        if not others:
            notes.append(f"measure {name!r} is in no profile of the study")
            continue
        params = entry.get("params") if isinstance(entry, Mapping) else None
        if params is not None and all(o.get("params") is not None and o.get("params") != params for o in others):
            notes.append(f"measure {name!r} computed with other settings than in the study")
    study_measures = {n for p in study.values() for n in (_prov(p).get("measures") or {})}
    lacking = sorted(study_measures - set(measures))
    if measures and lacking:
        notes.append(f"lacks measure(s) of the study: {', '.join(lacking)}")
    return notes
