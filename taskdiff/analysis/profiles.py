"""Read difficulty profiles (``profiles/<task>.json``) and flatten them into features.

A profile is a JSON object with at least ``task`` and numeric measures, some nested
(``cartography.easy_frac``, ``probing.syntactic`` ...), plus a ``provenance`` object.
Numeric leaves become features named by their dotted path; ``null`` becomes NaN; strings,
booleans and lists are ignored (except ``task``). ``provenance`` and any ``cost_seconds``
leaf are kept aside: they describe how the profile was computed, not the task.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

from taskdiff.errors import DataError

__all__ = ["EXPECTED_FEATURES", "flatten_profile", "read_profile", "read_profiles",
           "validate_profile", "is_feature"]

#: Numeric fields every profile is expected to carry (missing ones become NaN).
EXPECTED_FEATURES = (
    "n_examples", "n_tokens", "label_entropy", "baseline_loss", "normalized_baseline_loss",
    "v_information", "cartography.confidence_mean", "cartography.variability_mean",
    "cartography.easy_frac", "cartography.ambiguous_frac", "cartography.hard_frac",
    "probing.syntactic", "probing.semantic", "probing.syntax_semantics_index",
    "probing.selectivity", "probing.mdl_compression", "logme",
)
#: Top-level keys that are metadata, never features.
META_KEYS = ("task", "provenance")
#: Suffix of candidate-task profiles kept next to the study's profiles but not part of it.
CANDIDATE_SUFFIX = ".candidate.json"
#: Leaf names that describe the cost of computing the profile, not the task.
NON_FEATURE_LEAVES = ("cost_seconds",)


def is_feature(name: str) -> bool:
    """Whether a dotted leaf name is a difficulty feature (not provenance or cost)."""
    parts = name.split(".")
    return parts[0] not in META_KEYS and parts[-1] not in NON_FEATURE_LEAVES


def flatten_profile(profile: Mapping[str, Any], *, path: str | Path = "<profile>",
                    prefix: str = "") -> dict[str, float]:
    """Flatten the numeric leaves of a profile into ``{dotted.name: float}``.

    Parameters
    ----------
    profile : mapping
        The parsed JSON object.
    path : str or Path
        Used in error messages only.
    prefix : str
        Prefix of the keys (used in the recursion).

    Returns
    -------
    dict
        Numeric leaves (ints, floats; ``null`` -> NaN), including ``provenance.*`` and
        ``cost_seconds``; use :func:`is_feature` to keep only features. Booleans, strings
        and lists are skipped.

    Raises
    ------
    DataError
        If a field named in :data:`EXPECTED_FEATURES` holds a non-number.
    """
    out: dict[str, float] = {}
    for key, value in profile.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_profile(value, path=path, prefix=name + "."))
        elif value is None:
            out[name] = math.nan
        elif isinstance(value, bool):
            continue
        elif isinstance(value, (int, float)):
            out[name] = float(value)
        elif name in EXPECTED_FEATURES:
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
