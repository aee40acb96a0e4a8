"""Files of dataset cartography: training dynamics in the allenai/cartography layout, data maps.

The measure (:mod:`taskdiff.difficulty.cartography`) writes, per recorded epoch,
``dynamics_epoch_{E}.jsonl`` as ``cartography.selection.selection_utils.log_training_dynamics``
does (one record per example: ``guid``, ``logits_epoch_{E}``, ``gold``), readable by allenai's
own scripts and by :func:`read_dynamics`, and ``data_map.png`` (:func:`plot_data_map`).
Every file is written atomically (:mod:`taskdiff.io`). The statistics themselves are pure
array functions in :mod:`taskdiff.difficulty.maths.cartography`.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taskdiff.errors import DataError
from taskdiff.io import atomic_write_bytes, atomic_write_text

__all__ = ["TrainingDynamics", "write_dynamics", "read_dynamics", "plot_data_map"]

_EPOCH_FILE = re.compile(r"^dynamics_epoch_(\d+)\.jsonl?$")


@dataclass(frozen=True)
class TrainingDynamics:
    """Logged dynamics: ``logits`` (E, N, K), ``golds`` (N,), ``guids`` (N), ``epochs``."""

    guids: list
    logits: np.ndarray
    golds: np.ndarray
    epochs: list[int]


def write_dynamics(directory, epoch: int, guids, logits, golds) -> Path:
    """Write one epoch in the allenai/cartography layout (atomically).

    File ``{directory}/dynamics_epoch_{epoch}.jsonl``, one JSON record per example with
    keys ``guid``, ``logits_epoch_{epoch}`` (list of floats) and ``gold`` (int), as
    ``cartography.selection.selection_utils.log_training_dynamics`` writes them.
    """
    guids, golds = list(guids), np.asarray(golds)
    z = [np.asarray(row, dtype=np.float64).ravel().tolist() for row in logits]
    if not len(guids) == len(z) == len(golds):
        raise ValueError(f"guids ({len(guids)}), logits ({len(z)}) and golds ({len(golds)}) "
                         "must have the same length")
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = f"logits_epoch_{int(epoch)}"
    lines = [json.dumps({"guid": guid.item() if isinstance(guid, np.generic) else guid, key: row,
                         "gold": int(gold)}) + "\n" for guid, row, gold in zip(guids, z, golds)]
    return atomic_write_text(out_dir / f"dynamics_epoch_{int(epoch)}.jsonl", "".join(lines))


def _read_epoch(path: Path, epoch: int) -> dict:
    key, records = f"logits_epoch_{epoch}", {}
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                records[rec["guid"]] = (rec[key], int(rec["gold"]))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise DataError(path, f"a JSON object with keys guid, {key}, gold",
                                f"{type(exc).__name__}: {exc}", line=line_no) from exc
    return records


def read_dynamics(directory) -> TrainingDynamics:
    """Read every ``dynamics_epoch_{E}.jsonl`` (or ``.json``) file of ``directory``.

    Examples keep the order of the first epoch's file; every epoch must hold the same
    guids with the same gold label and the same number of logits.

    Raises
    ------
    DataError
        No epoch files, a malformed record, or epochs that disagree.
    """
    directory = Path(directory)
    files = {int(m.group(1)): directory / f.name for f in sorted(directory.iterdir())
             if (m := _EPOCH_FILE.match(f.name))} if directory.is_dir() else {}
    if not files:
        raise DataError(directory, "files named dynamics_epoch_{E}.jsonl", "none")
    epochs = sorted(files)
    first = _read_epoch(files[epochs[0]], epochs[0])
    guids = list(first)
    golds = np.array([first[g][1] for g in guids], dtype=np.int64)
    logits = []
    for e in epochs:
        rec = first if e == epochs[0] else _read_epoch(files[e], e)
        if set(rec) != set(guids) or any(rec[g][1] != first[g][1] for g in guids):
            raise DataError(files[e], f"the guids and gold labels of epoch {epochs[0]}",
                            "a different set")
        try:
            logits.append(np.array([rec[g][0] for g in guids], dtype=np.float64))
        except ValueError as exc:
            raise DataError(files[e], "the same number of logits for every example",
                            "ragged logits") from exc
    return TrainingDynamics(guids, np.stack(logits), golds, epochs)


def plot_data_map(confidence, variability, correctness, path, *, title: str = "",
                  max_points: int = 25000, seed: int = 0) -> Path:
    """Scatter confidence (y) against variability (x), coloured by correctness; write a PNG.

    Uses matplotlib's Agg canvas (imported here, no global pyplot state); at most
    ``max_points`` examples, a seeded subsample, are drawn. The file is written
    atomically. Returns ``Path(path)``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mu, sd = np.asarray(confidence), np.asarray(variability)
    corr = np.asarray(correctness, dtype=np.float64)
    idx = np.arange(mu.size)
    if mu.size > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(mu.size, max_points, replace=False))
    fig = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    points = ax.scatter(sd[idx], mu[idx], c=corr[idx], cmap="coolwarm_r", vmin=0, vmax=1,
                        s=8, alpha=0.7, linewidths=0)
    fig.colorbar(points, ax=ax, label="correctness")
    for text, xy in (("ambiguous", (0.85, 0.5)), ("easy-to-learn", (0.25, 0.9)),
                     ("hard-to-learn", (0.25, 0.1))):
        ax.annotate(text, xy=xy, xycoords="axes fraction", ha="center", va="center",
                    bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="grey"))
    ax.set_xlabel("variability")
    ax.set_ylabel("confidence")
    ax.set_ylim(0, 1)
    ax.set_title(title or f"data map ({mu.size} examples)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, buf.getvalue())
