"""The study table: gains joined with the difficulty profile of each intermediate task.

A *study directory* holds ``gains.csv`` (see :mod:`taskdiff.analysis.gains`) and
``profiles/<task>.json`` (see :mod:`taskdiff.analysis.profiles`). :func:`load_study` reads
both into a :class:`StudyTable`: one row per (intermediate, target, language, seed, metric)
with the gain, the gain standardised within (target, metric) as ``gain_z``, a ``primary``
flag for the metric analysed per target, and the intermediate task's flattened features.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from taskdiff.analysis.gains import read_gains, validate_gains
from taskdiff.analysis.profiles import feature_declarations, flatten_profile, is_feature, read_profiles
from taskdiff.errors import DataError
from taskdiff.io import sha256_file
from taskdiff.errors import UnknownNameError

__all__ = ["StudySource", "StudyTable", "build_table", "load_study", "profile_frame"]

#: Metric names chosen as primary when present (XTREME's headline metrics), before falling
#: back to the first metric listed for the target.
PREFERRED_METRICS = ("f1", "accuracy")
#: Derived features: log10 of the size features (a ten-fold size change is one unit).
LOG_FEATURES = {"log_n_examples": "n_examples", "log_n_tokens": "n_tokens"}


@dataclass(frozen=True)
class StudySource:
    """Where the numbers came from: the study directory, file checksums, profile provenance."""

    directory: str
    checksums: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, dict] = field(default_factory=dict)


@dataclass
class StudyTable:
    """Gains joined with task features; the input of every analysis.

    Attributes
    ----------
    data : DataFrame
        One row per (intermediate, target, language, seed, metric): the gains columns,
        ``gain_z``, ``primary`` and one column per feature.
    profiles : DataFrame
        Flattened features of every profile read (index: task), including tasks without gains.
    features : tuple of str
        Feature names (dotted), in a stable order.
    primary_metrics : dict
        Target -> metric analysed for that target.
    source : StudySource or None
        Provenance of the inputs (None for tables built in memory).
    declarations : dict
        Feature name -> :class:`~taskdiff.schema.Feature` (kind, direction), as the profiles
        declare them (:func:`~taskdiff.analysis.profiles.feature_declarations`).
    """

    data: pd.DataFrame
    profiles: pd.DataFrame
    features: tuple[str, ...]
    primary_metrics: dict[str, str]
    source: StudySource | None = None
    declarations: dict = field(default_factory=dict)

    @property
    def intermediates(self) -> list[str]:
        """Intermediate tasks with gains, sorted."""
        return sorted(self.data["intermediate"].unique())

    @property
    def targets(self) -> list[str]:
        """Target tasks, in order of first appearance in gains.csv."""
        return list(self.primary_metrics)

    @property
    def n_tasks(self) -> int:
        """Number of intermediate tasks: the effective n of any task-level feature."""
        return len(self.intermediates)

    def primary(self) -> pd.DataFrame:
        """Rows of the primary metric of each target (the rows every analysis uses)."""
        return self.data[self.data["primary"]].reset_index(drop=True)

    def task_features(self, features: Sequence[str] | None = None) -> pd.DataFrame:
        """Feature matrix of the intermediate tasks with gains (index: task)."""
        cols = list(self.features if features is None else features)
        unknown = [c for c in cols if c not in self.profiles.columns]
        if unknown:
            raise UnknownNameError("feature", unknown[0], self.features)
        return self.profiles.loc[self.intermediates, cols]

    def task_means(self, value: str = "gain") -> pd.DataFrame:
        """Task-level means (index: intermediate, columns: targets) of the primary metric.

        The mean over seeds within each language, then over languages, so every language
        weighs the same whatever its number of seeds.
        """
        df = self.primary()
        cell = df.groupby(["intermediate", "target", "language"])[value].mean()
        out = cell.groupby(level=["intermediate", "target"]).mean().unstack("target")
        return out.reindex(index=self.intermediates, columns=self.targets)

    def subset(self, intermediates: Sequence[str]) -> "StudyTable":
        """The same study restricted to some intermediate tasks (``gain_z`` is not refitted)."""
        keep = self.data["intermediate"].isin(list(intermediates))
        return StudyTable(data=self.data[keep].reset_index(drop=True), profiles=self.profiles,
                          features=self.features, primary_metrics=self.primary_metrics,
                          source=self.source, declarations=self.declarations)

    def cell_means(self, value: str = "gain") -> pd.DataFrame:
        """Means over seeds (index: intermediate, columns: (target, language))."""
        df = self.primary()
        out = df.groupby(["intermediate", "target", "language"])[value].mean().unstack(
            ["target", "language"])
        return out.reindex(index=self.intermediates)

    def usable_features(self, min_tasks: int = 3) -> tuple[str, ...]:
        """Features known for at least ``min_tasks`` tasks and not constant across them.

        Sizes enter as their log10 (``log_n_examples``, ``log_n_tokens``): the raw size
        columns are left out when the log column is usable, so that the same information
        is not tested twice.
        """
        X = self.task_features()
        keep = [c for c in X.columns
                if X[c].notna().sum() >= min_tasks and X[c].nunique(dropna=True) > 1]
        raw_with_log = {base for new, base in LOG_FEATURES.items() if new in keep}
        return tuple(c for c in keep if c not in raw_with_log)


def profile_frame(profiles: Mapping[str, Mapping], *,
                  path: str | Path = "profiles") -> pd.DataFrame:
    """Flatten profiles into a frame (index: task) of feature columns plus log-size features."""
    rows = {}
    for task, prof in profiles.items():
        flat = flatten_profile(prof, path=Path(path) / f"{task}.json")
        rows[task] = {k: v for k, v in flat.items() if is_feature(k)}
    frame = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    for new, base in LOG_FEATURES.items():
        if base in frame.columns:
            with np.errstate(divide="ignore", invalid="ignore"):
                frame[new] = np.where(frame[base] > 0, np.log10(frame[base]), np.nan)
    frame.index.name = "task"
    return frame[sorted(frame.columns)]


def build_table(gains: pd.DataFrame, profiles: Mapping[str, Mapping], *,
                metrics: str | Mapping[str, str] | None = None,
                source: StudySource | None = None,
                profiles_dir: str | Path = "profiles") -> StudyTable:
    """Join a gains frame with profiles (the in-memory core of :func:`load_study`).

    Parameters
    ----------
    gains : DataFrame
        Columns of :data:`taskdiff.analysis.gains.GAIN_COLUMNS` (validated if needed).
    profiles : mapping
        Task name -> parsed profile dict.
    metrics : str or mapping, optional
        Primary metric: a string = that metric for every target; a mapping target ->
        metric. Targets not given use :data:`PREFERRED_METRICS` (``"f1"``, then
        ``"accuracy"``) when they have it, else the first metric listed in the file.
    source : StudySource, optional
        Provenance to attach.
    profiles_dir : str or Path
        Used in error messages only.
    """
    if "line" not in gains.columns:
        gains = validate_gains(gains.astype(str), "<gains>")
    missing = sorted(set(gains["intermediate"]) - set(profiles))
    if missing:
        raise DataError(Path(profiles_dir) / f"{missing[0]}.json",
                        f"a difficulty profile for every intermediate task in gains.csv",
                        f"no profile for {', '.join(missing)}")
    feats = profile_frame(profiles, path=profiles_dir)
    primary = _primary_metrics(gains, metrics)
    data = gains.drop(columns="line").copy()
    data["primary"] = [primary[t] == m for t, m in zip(data["target"], data["metric"])]
    data["gain_z"] = _zscore_within(data, ("target", "metric"))
    data = data.join(feats, on="intermediate")
    return StudyTable(data=data.reset_index(drop=True), profiles=feats,
                      features=tuple(feats.columns), primary_metrics=primary, source=source,
                      declarations=feature_declarations(profiles))


def _primary_metrics(gains: pd.DataFrame, metrics) -> dict[str, str]:
    listed: dict[str, list[str]] = {}
    for t, m in zip(gains["target"], gains["metric"]):
        ms = listed.setdefault(t, [])
        if m not in ms:
            ms.append(m)
    if metrics is None:
        metrics = {}
    elif isinstance(metrics, str):
        metrics = {t: metrics for t in listed}
    out = {}
    for t, ms in listed.items():
        preferred = [m for m in PREFERRED_METRICS if m in ms]
        m = metrics.get(t, preferred[0] if preferred else ms[0])
        if m not in ms:
            raise DataError("gains.csv", f"metric {m!r} for target {t!r} (the chosen primary "
                            f"metric)", f"metrics {', '.join(ms)}", field="metric")
        out[t] = m
    unknown = sorted(set(metrics) - set(listed))
    if unknown:
        raise DataError("gains.csv", f"target {unknown[0]!r} (given a primary metric)",
                        f"targets {', '.join(listed)}", field="target")
    return out


def _zscore_within(df: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    grouped = df.groupby(list(keys))["gain"]
    mean, sd = grouped.transform("mean"), grouped.transform("std")
    flat = ~(sd > 0)
    if flat.any():
        warnings.warn("gain is constant within some (target, metric); its gain_z is set to 0",
                      UserWarning, stacklevel=3)
    return ((df["gain"] - mean) / sd.where(~flat, 1.0)).where(~flat, 0.0)


def load_study(directory: str | Path, *,
               metrics: str | Mapping[str, str] | None = None) -> StudyTable:
    """Read a study directory (``gains.csv`` + ``profiles/*.json``) into a :class:`StudyTable`.

    Parameters
    ----------
    directory : str or Path
        The study directory.
    metrics : str or mapping, optional
        Primary metric per target (see :func:`build_table`).

    Raises
    ------
    DataError
        Naming the file, line or field, what was expected and what was found.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(directory, "a study directory with gains.csv and profiles/",
                        "no such directory")
    gains = read_gains(directory / "gains.csv")
    profiles = read_profiles(directory / "profiles")
    files = [directory / "gains.csv"] + sorted((directory / "profiles").glob("*.json"))
    source = StudySource(
        directory=str(directory.resolve()),
        checksums={str(f.relative_to(directory)): sha256_file(f) for f in files},
        provenance={t: dict(p.get("provenance") or {}) for t, p in profiles.items()})
    return build_table(gains, profiles, metrics=metrics, source=source,
                       profiles_dir=directory / "profiles")
