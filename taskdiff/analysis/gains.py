"""Read and validate a study's ``gains.csv``.

The file (columns: :data:`taskdiff.schema.GAIN_COLUMNS`) has one row per (intermediate,
target, language, seed, metric) with columns
``intermediate, target, language, seed, metric, score, baseline_score, gain`` where
``gain = score - baseline_score`` and ``baseline_score`` is the mean over seeds of the
baseline (no intermediate task) score for that (target, language, metric). Files may be
assembled by hand, so every problem is reported as a :class:`~taskdiff.errors.DataError`
that names the file, the line (header = line 1), the column, what was expected and what was
found.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from taskdiff.errors import DataError
from taskdiff.schema import GAIN_COLUMNS, KEY_COLUMNS
from taskdiff.schema import GAIN_NUMERIC_COLUMNS as NUMERIC_COLUMNS

__all__ = ["GAIN_COLUMNS", "KEY_COLUMNS", "read_gains", "validate_gains"]

#: Names that denote the baseline itself (no intermediate task); such rows are dropped.
BASELINE_NAMES = ("none", "baseline")
#: Tolerance of the check ``gain == score - baseline_score``.
GAIN_ATOL, GAIN_RTOL = 1e-6, 1e-6


def read_gains(path: str | Path) -> pd.DataFrame:
    """Read ``gains.csv`` and return a validated frame.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    DataFrame
        Columns :data:`GAIN_COLUMNS` (string keys, int ``seed``, float scores) plus ``line``,
        the 1-based line number of each row in the file. Baseline rows (intermediate
        ``"none"``) are dropped with a warning.

    Raises
    ------
    DataError
        If the file is missing, empty, lacks a column, or has a bad value or a duplicate key.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "a gains.csv file", "no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(path, f"a CSV file with columns {', '.join(GAIN_COLUMNS)}",
                        str(exc)) from None
    return validate_gains(raw, path)


def validate_gains(raw: pd.DataFrame, path: str | Path = "<gains>") -> pd.DataFrame:
    """Validate and type a gains frame read as strings (see :func:`read_gains`)."""
    raw = raw.rename(columns=lambda c: str(c).strip())
    missing = [c for c in GAIN_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(path, f"columns {', '.join(GAIN_COLUMNS)}",
                        f"no column {', '.join(missing)} (header: "
                        f"{', '.join(map(str, raw.columns))})", line=1)
    if raw.empty:
        raise DataError(path, "at least one data row", "only a header", line=2)
    out = pd.DataFrame({"line": np.arange(2, len(raw) + 2)}, index=raw.index)
    for col in ("intermediate", "target", "language", "metric"):
        out[col] = _strings(raw[col], col, path)
    out["seed"] = _integers(raw["seed"], path)
    for col in NUMERIC_COLUMNS:
        out[col] = _floats(raw[col], col, path)
    out = _drop_baseline_rows(out, path)
    _check_duplicates(out, path)
    _check_gain(out, path)
    return out[list(GAIN_COLUMNS) + ["line"]].reset_index(drop=True)


def _strings(col: pd.Series, name: str, path) -> pd.Series:
    s = col.astype(str).str.strip()
    bad = s.eq("")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(path, "a non-empty name", "an empty cell", line=i + 2, field=name)
    return s


def _integers(col: pd.Series, path) -> pd.Series:
    s = col.astype(str).str.strip()
    num = pd.to_numeric(s, errors="coerce")
    ok = num.notna().to_numpy() & np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
    ok &= np.equal(np.mod(num.to_numpy(dtype=float, na_value=np.nan), 1), 0)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise DataError(path, "an integer seed", repr(s.iloc[i]), line=i + 2, field="seed")
    return num.astype("int64")


def _floats(col: pd.Series, name: str, path) -> pd.Series:
    s = col.astype(str).str.strip()
    num = pd.to_numeric(s, errors="coerce").astype(float)
    ok = np.isfinite(num.to_numpy())
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise DataError(path, "a finite number", repr(s.iloc[i]), line=i + 2, field=name)
    return num


def _drop_baseline_rows(df: pd.DataFrame, path) -> pd.DataFrame:
    base = df["intermediate"].str.lower().isin(BASELINE_NAMES)
    if base.all():
        raise DataError(path, "rows for at least one intermediate task",
                        "only baseline rows (intermediate 'none')", line=2, field="intermediate")
    if base.any():
        warnings.warn(f"{path}: dropped {int(base.sum())} baseline row(s) (intermediate "
                      f"'none'); the baseline belongs in the baseline_score column",
                      UserWarning, stacklevel=4)
    return df[~base]


def _check_duplicates(df: pd.DataFrame, path) -> None:
    dup = df.duplicated(list(KEY_COLUMNS), keep=False)
    if dup.any():
        rows = df[dup]
        first = rows.iloc[0]
        same = rows[(rows[list(KEY_COLUMNS)] == first[list(KEY_COLUMNS)]).all(axis=1)]
        key = ", ".join(f"{k}={first[k]}" for k in KEY_COLUMNS)
        raise DataError(path, "one row per (intermediate, target, language, seed, metric)",
                        f"{len(same)} rows (lines {', '.join(map(str, same['line']))}) for {key}",
                        line=int(same["line"].iloc[1]))


def _check_gain(df: pd.DataFrame, path) -> None:
    expect = df["score"] - df["baseline_score"]
    bad = ~np.isclose(df["gain"], expect, atol=GAIN_ATOL, rtol=GAIN_RTOL)
    if bad.any():
        r = df[bad].iloc[0]
        raise DataError(path, f"gain = score - baseline_score = {r['score']:g} - "
                        f"{r['baseline_score']:g} = {r['score'] - r['baseline_score']:g}",
                        f"{r['gain']:g} ({int(bad.sum())} such row(s))",
                        line=int(r["line"]), field="gain")
