"""The file formats shared between packages: the scores/gains tables and the profile JSON.

This module is the one place that says what ``transfer`` and ``study`` write and ``analysis``
reads, and what ``difficulty`` writes and ``analysis`` reads; it imports nothing but the
standard library, so every layer can import it.

Tables (``scores.csv``, ``gains.csv``, ``gains.parquet``)
    :data:`SCORE_COLUMNS` and :data:`GAIN_COLUMNS`; :data:`KEY_COLUMNS` identify a row.

Targets (``targets.json`` next to ``gains.csv``, :data:`TARGETS_FILE`)
    ``{"format": 1, "targets": {<target>: {"format", "labels", "chance"}}}``: each target's
    task format, number of labels (``null`` without a label set) and chance level (percent
    accuracy of a uniform guess, ``null`` where not defined), written by the study so that the
    report never asks the task registry. Older study folders lack it: no chance level then.

Profiles (``profiles/<task>.json``, :data:`PROFILE_FORMAT` 1)
    A JSON object ``{"task", <features>, "cost_seconds", "provenance"}``. A feature is a
    :class:`Feature` declared by a measure (its class attribute ``features``); its dotted
    ``name`` is its path in the object (``cartography.easy_frac`` is
    ``profile["cartography"]["easy_frac"]``), its value a number or ``null``. The features
    of the seven original measures (:data:`FORMAT1_FEATURES`) are always written, ``null``
    when the measure was not computed, in that order; the features of any other measure
    (built in later, or a plugin) follow them, and their declarations are written with the
    measure's provenance (``provenance.measures.<measure>.features``), so a reader knows
    their kind and direction without importing the measure (:func:`declared_features`).
    ``provenance.measures.<measure>.result`` holds each measure's full result; values that
    belong to a (task, target) pair rather than to the task, such as the ``embedding``
    measure's similarities (:data:`SIMILARITY_PATH`), stay there and are not features.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

__all__ = ["KEY_COLUMNS", "GAIN_NUMERIC_COLUMNS", "GAIN_COLUMNS", "SCORE_COLUMNS", "TARGETS_FILE", "PROFILE_FORMAT",
           "PROFILE_META_KEYS", "NON_FEATURE_LEAVES", "KINDS", "DIRECTIONS", "Feature", "FORMAT1_FEATURES", "FORMAT1_NAMES", "FLAT_KEYS",
           "format1_features", "SIMILARITY_PATH", "declared_features", "feature_get", "feature_set"]

# ----------------------------------------------------------------------------- tables
#: Columns identifying one row of the scores and gains tables.
KEY_COLUMNS = ("intermediate", "target", "language", "seed", "metric")
#: Numeric columns of the gains table: ``gain = score - baseline_score``.
GAIN_NUMERIC_COLUMNS = ("score", "baseline_score", "gain")
#: Columns of ``gains.csv`` / ``gains.parquet``, in order.
GAIN_COLUMNS = KEY_COLUMNS + GAIN_NUMERIC_COLUMNS
#: Columns of ``scores.csv``, in order.
SCORE_COLUMNS = KEY_COLUMNS + ("score", "n", "run_id")
#: The study's description of its targets, next to ``gains.csv`` (format 1, see above).
TARGETS_FILE = "targets.json"

# ----------------------------------------------------------------------------- profiles
#: Version of the profile JSON layout (``provenance.format``).
PROFILE_FORMAT = 1
#: Top-level keys of a profile that are not features.
PROFILE_META_KEYS = ("task", "cost_seconds", "provenance")
#: Leaf names that describe the cost of computing a profile, never a feature.
NON_FEATURE_LEAVES = ("cost_seconds",)
#: Kinds of feature values.
KINDS = ("count", "loss", "information", "fraction", "score", "entropy", "similarity", "other")
#: What a larger value says about the task.
DIRECTIONS = ("harder", "easier", "unknown")
#: Where the ``embedding`` measure's per-target mean similarities are in a profile.
SIMILARITY_PATH = ("provenance", "measures", "embedding", "result", "mean_similarity")


@dataclass(frozen=True)
class Feature:
    """One feature a measure writes into a profile.

    Parameters
    ----------
    name : str
        Dotted path in the profile (``"logme"``, ``"cartography.easy_frac"``).
    kind : str
        One of :data:`KINDS`.
    direction : str
        One of :data:`DIRECTIONS`: what a larger value says about the task.
    description : str
        One line, shown in reports.
    source : str, optional
        Key of the measure's ``result_`` holding the value (default: the last part of ``name``).
    """

    name: str
    kind: str = "other"
    direction: str = "unknown"
    description: str = ""
    source: str | None = None

    def __post_init__(self) -> None:
        parts = self.name.split(".") if isinstance(self.name, str) else [""]
        if not all(p.isidentifier() for p in parts):
            raise ValueError(f"feature name must be dotted identifiers, found {self.name!r}")
        if parts[0] in PROFILE_META_KEYS or parts[-1] in NON_FEATURE_LEAVES:
            raise ValueError(f"feature name {self.name!r} is reserved ({', '.join(PROFILE_META_KEYS)})")
        if self.kind not in KINDS:
            raise ValueError(f"feature {self.name!r}: kind must be one of {', '.join(KINDS)}, found {self.kind!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"feature {self.name!r}: direction must be one of {', '.join(DIRECTIONS)}, "
                             f"found {self.direction!r}")

    @property
    def key(self) -> str:
        """The key of the measure's result that holds the value."""
        return self.source or self.name.split(".")[-1]

    def value(self, result: Mapping[str, Any]) -> Any:
        """The feature's value in a measure's result (None when absent)."""
        return result.get(self.key) if isinstance(result, Mapping) else None

    def as_dict(self) -> dict:
        """The declaration as written in a profile (``source`` only when set)."""
        out = asdict(self)
        if out["source"] is None:
            del out["source"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Feature":
        """The declaration of :meth:`as_dict` (unknown kinds and directions read as the defaults)."""
        kind = data.get("kind") if data.get("kind") in KINDS else "other"
        direction = data.get("direction") if data.get("direction") in DIRECTIONS else "unknown"
        source = data.get("source") if isinstance(data.get("source"), str) else None
        return cls(str(data["name"]), kind, direction, str(data.get("description") or ""), source)


def _f(name, kind, direction, description):
    return Feature(name, kind, direction, description)


#: Format 1's fixed features: measure -> its features, in the order profiles write them.
FORMAT1_FEATURES: dict[str, tuple[Feature, ...]] = {
    "size": (_f("n_examples", "count", "unknown", "English training examples"),
             _f("n_tokens", "count", "unknown", "tokens of the training examples"),
             _f("label_entropy", "entropy", "unknown", "entropy of the training labels (bits)")),
    "baseline_loss": (_f("baseline_loss", "loss", "harder", "held-out cross-entropy after a fixed budget (bits)"),
                      _f("normalized_baseline_loss", "loss", "harder",
                         "baseline loss / cross-entropy of an uninformed guess")),
    "vinfo": (_f("v_information", "information", "easier", "usable information of the input about the label"),),
    "cartography": (_f("cartography.confidence_mean", "score", "easier", "mean gold probability over epochs"),
                    _f("cartography.variability_mean", "score", "unknown", "mean sd of the gold probability"),
                    _f("cartography.easy_frac", "fraction", "easier", "share of easy-to-learn examples"),
                    _f("cartography.ambiguous_frac", "fraction", "harder", "share of ambiguous examples"),
                    _f("cartography.hard_frac", "fraction", "harder", "share of hard-to-learn examples")),
    "probing": (_f("probing.syntactic", "score", "unknown", "syntactic probes' accuracy, trained minus base encoder"),
                _f("probing.semantic", "score", "unknown", "semantic probes' accuracy, trained minus base encoder"),
                _f("probing.syntax_semantics_index", "score", "unknown",
                   "syntactic minus semantic change (null when its interval covers 0)"),
                _f("probing.selectivity", "score", "unknown", "probes' selectivity, trained minus base encoder"),
                _f("probing.mdl_compression", "score", "unknown", "probes' MDL compression, trained minus base")),
    "logme": (_f("logme", "score", "easier", "LogME evidence of the labels given the encoder's features"),),
    "embedding": (),
}


#: Names of format 1's fixed features, in order.
FORMAT1_NAMES = tuple(f.name for feats in FORMAT1_FEATURES.values() for f in feats)
#: Top-level keys of a format-1 profile of the seven original measures, in order.
FLAT_KEYS = ("task", *dict.fromkeys(n.split(".")[0] for n in FORMAT1_NAMES), "cost_seconds", "provenance")


def format1_features(measure: str) -> tuple[Feature, ...]:
    """The format-1 features of one of the seven original measures."""
    return FORMAT1_FEATURES[measure]


def feature_get(profile: Mapping[str, Any], name: str) -> Any:
    """The value at a feature's dotted path in a profile (None when absent)."""
    node: Any = profile
    for part in name.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def feature_set(profile: dict, name: str, value: Any) -> None:
    """Write ``value`` at a feature's dotted path, creating the enclosing objects."""
    *parents, leaf = name.split(".")
    node = profile
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"feature {name!r}: {part!r} already holds a value, not an object")
    node[leaf] = value


def declared_features(profile: Mapping[str, Any]) -> dict[str, Feature]:
    """Every feature a profile declares: format 1's, then those in ``provenance.measures.*.features``."""
    out = {f.name: f for feats in FORMAT1_FEATURES.values() for f in feats}
    prov = profile.get("provenance") if isinstance(profile, Mapping) else None
    measures = prov.get("measures") if isinstance(prov, Mapping) else None
    for entry in (measures or {}).values() if isinstance(measures, Mapping) else ():
        for data in (entry.get("features") or ()) if isinstance(entry, Mapping) else ():
            if isinstance(data, Mapping) and isinstance(data.get("name"), str):
                try:
                    feature = Feature.from_dict(data)
                except ValueError:
                    continue
                out.setdefault(feature.name, feature)
    return out
