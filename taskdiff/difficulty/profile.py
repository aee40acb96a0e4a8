"""A task's difficulty profile: the measures of one task, with provenance, as JSON.

:meth:`DifficultyProfile.to_flat` writes the profile format of :mod:`taskdiff.schema`: the
features every measure declares (:class:`~taskdiff.schema.Feature`, the class attribute
``features``), at their dotted paths, then ``cost_seconds`` and ``provenance``. The seven
original measures' features are always written (``null`` when not computed)::

    {"task", "n_examples", "n_tokens", "label_entropy", "baseline_loss",
     "normalized_baseline_loss", "v_information",
     "cartography": {"confidence_mean", "variability_mean", "easy_frac", "ambiguous_frac", "hard_frac"},
     "probing": {"syntactic", "semantic", "syntax_semantics_index", "selectivity", "mdl_compression"},
     "logme", <features of any other measure>, "cost_seconds", "provenance"}

``provenance`` holds how the profile was made (model, seed, caps, library versions, the
time and settings and cost of every measure) and, under ``provenance.measures.<name>.result``,
each measure's full result (learning curve, per-probe tables, similarities per language ...);
a measure outside format 1's seven also leaves its feature declarations there
(``provenance.measures.<name>.features``), so the analysis knows them without importing it.
:meth:`to_json` writes that object; :meth:`from_json` reads it back (round trip).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskdiff.difficulty.base import jsonable
from taskdiff.errors import ConfigError, DataError
from taskdiff.schema import FORMAT1_FEATURES, PROFILE_FORMAT, Feature, feature_set
from taskdiff.io import atomic_write_text
from taskdiff.provenance import normalize


def measure_features(measure) -> tuple[Feature, ...]:
    """The features a measure (class or instance) declares (``features`` class attribute)."""
    return tuple(getattr(measure, "features", ()) or ())


def check_features(klass) -> None:
    """Refuse a measure class whose ``features`` are not unique :class:`Feature` s of its own.

    Called when a measure is registered (decorator or entry point). A name that one of format
    1's measures writes cannot be declared by another measure.

    Raises
    ------
    ConfigError
    """
    name, features = getattr(klass, "name", ""), getattr(klass, "features", ())
    if not isinstance(features, (tuple, list)) or not all(isinstance(f, Feature) for f in features):
        raise ConfigError(f"measure {name!r}: 'features' must be a tuple of taskdiff.schema.Feature, "
                          f"found {features!r}")
    names = [f.name for f in features]
    if len(set(names)) != len(names):
        raise ConfigError(f"measure {name!r} declares a feature twice: {names}")
    taken = {f.name: m for m, feats in FORMAT1_FEATURES.items() if m != name for f in feats}
    clash = [n for n in names if n in taken or any(t.startswith(n + ".") for t in taken)]
    if clash:
        raise ConfigError(f"measure {name!r}: feature {clash[0]!r} is written by measure "
                          f"{taken.get(clash[0], 'of format 1')!r}; choose another name")


def _entry_features(name: str, entry: dict) -> tuple[Feature, ...]:
    """The features of a profile's measure entry: format 1's, or the declarations it carries."""
    if isinstance(entry.get("features"), list):
        return tuple(Feature.from_dict(d) for d in entry["features"])
    return FORMAT1_FEATURES.get(name, ())


@dataclass
class DifficultyProfile:
    """The measures of one task.

    Attributes
    ----------
    task : str
    model : str
    measures : dict
        Measure name -> ``{"result": ..., "cost": {"seconds", "examples", "tokens"},
        "params": ..., "run_id": ..., "cached": bool}``.
    provenance : dict
        Model, seed, ``max_examples``, data dir, library versions, creation time.
    """

    task: str
    model: str
    measures: dict[str, dict] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.measures = jsonable(self.measures)
        self.provenance = jsonable(self.provenance)

    # ------------------------------------------------------------------ access
    def result(self, name: str) -> dict | None:
        """The result of measure ``name`` (None if it was not computed)."""
        entry = self.measures.get(name)
        return None if entry is None else entry.get("result")

    def __getitem__(self, name: str) -> dict:
        result = self.result(name)
        if result is None:
            raise KeyError(f"measure {name!r} is not in the profile of {self.task!r} (has: {sorted(self.measures)})")
        return result

    def __contains__(self, name: str) -> bool:
        return name in self.measures

    @property
    def cost_seconds(self) -> float:
        """Seconds of all measures (as measured when each was computed)."""
        return float(sum((m.get("cost") or {}).get("seconds") or 0.0 for m in self.measures.values()))

    def add(self, measure, *, run_id: str | None = None, cached: bool = False) -> None:
        """Add a fitted measure (its ``result_``, ``cost_`` and settings)."""
        entry = {"result": measure.result_, "cost": measure.cost_, "params": _params(measure), "run_id": run_id,
                 "cached": cached, "higher_is_harder": measure.higher_is_harder}
        features = measure_features(measure)
        if features != FORMAT1_FEATURES.get(measure.name):  # format 1's seven need no declaration
            entry["features"] = [f.as_dict() for f in features]
        self.measures[measure.name] = jsonable(entry)

    def features(self) -> dict[str, tuple[Feature, ...]]:
        """Measure -> its features: format 1's seven measures, then the profile's other measures."""
        out = dict(FORMAT1_FEATURES)
        for name, entry in self.measures.items():
            out[name] = _entry_features(name, entry)
        return out

    # ------------------------------------------------------------------ flat / JSON
    def to_flat(self) -> dict:
        """The profile format (:mod:`taskdiff.schema`): task, features (missing as None), provenance."""
        flat: dict[str, Any] = {"task": self.task}
        owner: dict[str, str] = {}
        for name, features in self.features().items():
            result = (self.measures.get(name) or {}).get("result") or {}
            for feature in features:
                if owner.setdefault(feature.name, name) != name:
                    raise ConfigError(f"measures {owner[feature.name]!r} and {name!r} both declare the feature "
                                      f"{feature.name!r}; rename one of them")
                feature_set(flat, feature.name, feature.value(result))
        flat["cost_seconds"] = round(self.cost_seconds, 3)
        prov = copy.deepcopy(self.provenance)
        prov["format"] = PROFILE_FORMAT
        prov["model"] = self.model
        prov["measures"] = copy.deepcopy(self.measures)
        flat["provenance"] = prov
        return jsonable(flat)

    def to_json(self, path: str | Path | None = None, indent: int | None = 2) -> str:
        """The profile as JSON text (:meth:`to_flat`); also written to ``path`` (atomically) if given."""
        text = json.dumps(self.to_flat(), indent=indent, ensure_ascii=False, allow_nan=False)
        if path is not None:

            atomic_write_text(Path(path), text + "\n")
        return text

    @classmethod
    def from_flat(cls, data: dict, origin: str = "<profile>") -> "DifficultyProfile":
        """The profile of a :meth:`to_flat` object."""
        if not isinstance(data, dict) or not isinstance(data.get("task"), str):
            raise DataError(origin, "a difficulty profile object with a 'task' name", type(data).__name__)
        prov = copy.deepcopy(data.get("provenance") or {})
        if not isinstance(prov, dict):
            raise DataError(origin, "an object", type(prov).__name__, field="provenance")
        measures = prov.pop("measures", {}) or {}
        model = prov.pop("model", None) or ""
        prov.pop("format", None)
        return cls(task=data["task"], model=model, measures=measures, provenance=prov)

    @classmethod
    def from_json(cls, source: str | Path) -> "DifficultyProfile":
        """Read a profile from JSON text or a ``.json`` file path."""
        origin = "<json>"
        text = source
        if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
            origin = str(source)
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise DataError(origin, "a readable profile JSON file", str(exc)) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(origin, "valid JSON", f"{exc.msg} at column {exc.colno}", line=exc.lineno) from None
        return cls.from_flat(data, origin)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, DifficultyProfile) and self.task == other.task and self.model == other.model
                and self.measures == other.measures and self.provenance == other.provenance)


def _params(measure) -> dict:
    """The measure's settings as plain JSON (canonical form when the measure has one)."""

    params = measure.spec_params() if hasattr(measure, "spec_params") else measure.get_params()
    try:
        return normalize(params)
    except (TypeError, ValueError):
        return {k: repr(v) for k, v in params.items()}
