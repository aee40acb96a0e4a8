"""Hierarchical (multi-level) bootstrap of task-level mean gains.

The data of one target are nested: intermediate task > language > seed. A task-level
statistic (a correlation between a feature and the mean gain of each task) is uncertain
because of which tasks were studied *and* because each task's mean gain is itself estimated
from a few languages and noisy seeds. The hierarchical bootstrap resamples at every level:
tasks with replacement, then languages with replacement within each drawn task, then seeds
with replacement within each drawn (task, language) cell (Davison & Hinkley 1997, sec. 3.8;
Saravanan et al. 2020). Resampling every level is slightly conservative (it double-counts
the lower-level variance), which is the safe side with few tasks.

Everything here is vectorised over bootstrap replicates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["nested_values", "resample_task_means", "draw_tasks", "percentile_interval"]

_CHUNK_ELEMENTS = 4_000_000


def nested_values(df: pd.DataFrame, value: str, tasks, *, task_col: str = "intermediate",
                  cell_col: str = "language", rep_col: str = "seed") -> np.ndarray:
    """Pack long data into a padded array ``(n_tasks, max_cells, max_reps)``.

    Parameters
    ----------
    df : DataFrame
        Long rows with ``task_col``, ``cell_col``, ``rep_col`` and ``value``.
    value : str
        Column to pack.
    tasks : sequence
        Task order of the first axis; a task without rows gets an all-NaN block.
    task_col, cell_col, rep_col : str
        The three nesting levels.

    Returns
    -------
    ndarray
        Values compacted to the front along the cell and replicate axes, NaN-padded.
    """
    tasks = list(tasks)
    df = df[df[task_col].isin(tasks)]
    df = df[np.isfinite(df[value].to_numpy(dtype=float))]
    df = df.sort_values([task_col, cell_col, rep_col])
    t_pos = df[task_col].map({t: i for i, t in enumerate(tasks)}).to_numpy(dtype=np.intp)
    group = df.groupby([task_col, cell_col], sort=True).ngroup().to_numpy()
    first = pd.Series(group).groupby(t_pos).transform("min").to_numpy()
    c_pos = group - first
    r_pos = df.groupby([task_col, cell_col], sort=True).cumcount().to_numpy()
    shape = (len(tasks), int(c_pos.max()) + 1 if len(df) else 1,
             int(r_pos.max()) + 1 if len(df) else 1)
    out = np.full(shape, np.nan)
    out[t_pos, c_pos, r_pos] = df[value].to_numpy(dtype=float)
    return out


def draw_tasks(n_tasks: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Task indices of ``n_boot`` bootstrap replicates, shape ``(n_boot, n_tasks)``."""
    return rng.integers(0, n_tasks, size=(n_boot, n_tasks))


def resample_task_means(values: np.ndarray, task_idx: np.ndarray, rng: np.random.Generator,
                        *, levels: int = 3) -> np.ndarray:
    """Mean of each drawn task after resampling its cells and replicates.

    Parameters
    ----------
    values : ndarray of shape (T, C, R)
        From :func:`nested_values` (cells = languages, replicates = seeds).
    task_idx : ndarray of shape (B, T)
        Drawn tasks per replicate (:func:`draw_tasks`).
    rng : Generator
        Random source for the lower levels.
    levels : {1, 2, 3}
        Resample tasks only (1), tasks and cells (2), or tasks, cells and replicates (3).

    Returns
    -------
    ndarray of shape (B, T)
        For each replicate and slot, the mean over (resampled) cells of the mean over
        (resampled) replicates of the drawn task.
    """
    n_cells = np.isfinite(values[:, :, 0]).sum(axis=1)
    n_reps = np.isfinite(values).sum(axis=2)
    B, T = task_idx.shape
    C, R = values.shape[1:]
    step = max(1, _CHUNK_ELEMENTS // max(1, T * C * R))
    out = np.empty((B, T))
    for s in range(0, B, step):
        out[s:s + step] = _chunk_means(values, n_cells, n_reps, task_idx[s:s + step], rng, levels)
    return out


def _draw_slots(outer: np.ndarray, size: int, avail: np.ndarray, rng, resample: bool):
    """Indices of ``size`` slots under each entry of ``outer``, and which slots are used.

    ``avail`` (shape ``outer.shape + (1,)``) counts the filled slots (the first ones); with
    ``resample`` each slot draws uniformly among them, else slot ``k`` keeps index ``k``.
    """
    slots = np.arange(size)
    if resample:
        idx = np.floor(rng.random(outer.shape + (size,)) * avail).astype(np.intp)
    else:
        idx = np.broadcast_to(slots, outer.shape + (size,))
    return np.minimum(idx, np.maximum(avail - 1, 0)), slots < avail


def _chunk_means(values, n_cells, n_reps, tidx, rng, levels):
    C, R = values.shape[1:]
    cidx, cell_ok = _draw_slots(tidx, C, n_cells[tidx][..., None], rng, levels >= 2)       # (b, T, C)
    ridx, rep_ok = _draw_slots(cidx, R, n_reps[tidx[..., None], cidx][..., None], rng, levels >= 3)
    vals = values[tidx[..., None, None], cidx[..., None], ridx]   # (b, T, C, R)
    rep_ok = rep_ok & cell_ok[..., None]
    vals = np.where(rep_ok, vals, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cell_mean = vals.sum(axis=3) / rep_ok.sum(axis=3)
        cell_mean = np.where(cell_ok, cell_mean, 0.0)
        return cell_mean.sum(axis=2) / cell_ok.sum(axis=2)


def percentile_interval(samples: np.ndarray, level: float = 0.95, axis: int = 0) -> np.ndarray:
    """Percentile interval ``[(1-level)/2, (1+level)/2]`` ignoring NaN replicates.

    Returns
    -------
    ndarray of shape (2, ...)
        Lower and upper bounds (NaN where fewer than 10 finite replicates exist).
    """
    samples = np.asarray(samples, dtype=float)
    q = [50 * (1 - level), 50 * (1 + level)]
    finite = np.isfinite(samples).sum(axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanpercentile(samples, q, axis=axis)
    return np.where(finite >= 10, out, np.nan)
