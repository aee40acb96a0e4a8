"""A task's difficulty profile: the measures of one task, with provenance, as JSON.

:meth:`DifficultyProfile.to_flat` gives the fields the analysis reads (see
:data:`FLAT_KEYS`; a measure that was not computed gives ``null``)::

    {"task", "n_examples", "n_tokens", "label_entropy", "baseline_loss",
     "normalized_baseline_loss", "v_information",
     "cartography": {"confidence_mean", "variability_mean", "easy_frac", "ambiguous_frac", "hard_frac"},
     "probing": {"syntactic", "semantic", "syntax_semantics_index", "selectivity", "mdl_compression"},
     "logme", "cost_seconds", "provenance"}

``provenance`` holds how the profile was made (model, seed, caps, library versions, the
time and settings and cost of every measure) and, under ``provenance.measures.<name>.result``,
each measure's full result (learning curve, per-probe tables, similarities per language ...),
so the JSON file holds everything and the analysis' feature set stays exactly the flat fields.
:meth:`to_json` writes that object; :meth:`from_json` reads it back (round trip).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskdiff.difficulty.base import jsonable
from taskdiff.errors import DataError

CARTOGRAPHY_KEYS = ("confidence_mean", "variability_mean", "easy_frac", "ambiguous_frac", "hard_frac")
PROBING_KEYS = ("syntactic", "semantic", "syntax_semantics_index", "selectivity", "mdl_compression")
#: Top-level keys of :meth:`DifficultyProfile.to_flat`, in order.
FLAT_KEYS = ("task", "n_examples", "n_tokens", "label_entropy", "baseline_loss", "normalized_baseline_loss",
             "v_information", "cartography", "probing", "logme", "cost_seconds", "provenance")
PROFILE_FORMAT = 1


def _flat_contribution(name: str, result: dict) -> dict:
    """The flat fields of a built-in measure's result (other measures contribute none)."""
    from taskdiff.difficulty.registry import BUILTIN, get_measure

    if name not in BUILTIN or not isinstance(result, dict):
        return {}
    return get_measure(name).flat(result)


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
        self.measures[measure.name] = jsonable({
            "result": measure.result_, "cost": measure.cost_, "params": _params(measure), "run_id": run_id,
            "cached": cached, "higher_is_harder": measure.higher_is_harder})

    # ------------------------------------------------------------------ flat / JSON
    def to_flat(self) -> dict:
        """The analysis fields (:data:`FLAT_KEYS`), missing measures as None, plus provenance."""
        flat: dict[str, Any] = {key: None for key in FLAT_KEYS}
        flat["cartography"] = {k: None for k in CARTOGRAPHY_KEYS}
        flat["probing"] = {k: None for k in PROBING_KEYS}
        flat["task"] = self.task
        for name, entry in self.measures.items():
            for key, value in _flat_contribution(name, entry.get("result") or {}).items():
                if isinstance(value, dict):
                    flat[key].update({k: v for k, v in value.items() if k in flat[key]})
                elif key in flat:
                    flat[key] = value
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
            from taskdiff.io import atomic_write_text

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
    from taskdiff.provenance import normalize

    params = measure.spec_params() if hasattr(measure, "spec_params") else measure.get_params()
    try:
        return normalize(params)
    except (TypeError, ValueError):
        return {k: repr(v) for k, v in params.items()}
