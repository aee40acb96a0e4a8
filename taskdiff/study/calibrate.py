"""What the dry-run's estimate learns from the data and from finished runs.

* :func:`local_stats` - when a study has a local ``data_dir``, the real number of examples
  of each role (training, English selection, evaluation per language), capped by
  ``max_examples`` exactly as the runs cap them, and the mean number of tokens per example
  under the model's own tokenizer (a sample of at most :data:`TOKEN_SAMPLE` rows; all
  choices of a multiple-choice item). Reading a slice costs well under a second; issue 15
  found the dry run estimating 549k SNLI pairs where the slice has 1,273.
* :func:`calibration` - per-run costs measured in the run store: every finished run's wall
  seconds (its ``DONE`` marker's time minus the ``created`` time in its ``config.json``:
  model loading, tokenising, training, selection passes, saving), fitted against the
  compute the estimate predicts for it, ``seconds = overhead + factor x predicted`` per
  group of run kinds (Theil-Sen, robust to runs slowed by other processes). Without enough
  runs the defaults :data:`DEFAULT_OVERHEAD_S` apply (measured on the 2-core development
  machine, see ``docs/studies.md``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from taskdiff.transfer.data import load_role
from taskdiff.transfer.formats import get_format
from taskdiff.transfer.tasks import get_task

log = logging.getLogger(__name__)

__all__ = ["Calibration", "LocalStats", "calibration", "local_stats", "run_records"]

#: Rows whose tokens are counted for the mean tokens per example.
TOKEN_SAMPLE = 200
#: Per-run fixed costs (seconds) when the store has no finished runs to fit them: loading the
#: model and tokenizer, building the head, tokenising, saving the model (training) - for
#: e5-small-offline on the 2-core development machine, one thread per worker (2026-12-05:
#: the fit to the real-mini study's first 20 training runs; evaluation and profile: rough).
DEFAULT_OVERHEAD_S = {"train": 25.0, "evaluation": 4.0, "profile": 60.0}
#: Measured seconds per predicted compute second (the probe's FLOP/s is a best case: short
#: sequences, dynamic padding and the optimiser make real steps slower), same source.
DEFAULT_FACTOR = {"train": 1.3, "evaluation": 1.3, "profile": 1.3}
#: run kind -> calibration group (a study's profile node is one ``study_profile`` run).
GROUPS = {"intermediate": "train", "target": "train", "evaluation": "evaluation", "study_profile": "profile",
          "profile": "profile"}
#: run kinds read from the store (a measure's own ``profile`` run is part of a ``study_profile``).
RECORDED = ("intermediate", "target", "evaluation", "study_profile")


@dataclass
class LocalStats:
    """Examples and tokens of a task's local data (``n_eval``: language -> examples)."""

    n_train: int
    n_selection: int
    n_eval: dict[str, int] = field(default_factory=dict)
    tokens_per_example: float = 0.0
    choices: int = 1


def _rows(task, role: str, language: str, data_dir, cap):

    try:
        return load_role(task, role, language, data_dir, cap).rows
    except Exception as exc:  # noqa: BLE001 - no local split: the estimate falls back on its table
        log.debug("dry run: no %s rows of %s/%s: %s", role, task.name, language, exc)
        return None


def _tokens(rows: list[dict], fmt, tokenizer, max_length: int) -> tuple[float, int]:
    """Mean tokens per example (all texts of a row; each sequence capped at ``max_length``) and choices."""
    sample = rows[:TOKEN_SAMPLE]
    choices = max((len(r["choices"]) for r in sample if isinstance(r.get("choices"), list)), default=1)
    total = 0
    for row in sample:
        texts = _texts(row, fmt)
        if tokenizer is None:
            total += min(int(1.3 * sum(len(t.split()) for t in texts)) + 3, max_length * choices)
        else:
            n = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts) + 3 * choices
            total += min(n, max_length * choices)
    return (total / len(sample) if sample else 0.0), choices


_NOT_TEXT = {"id", "label", "labels", "tags", "answers", "answer", "language", "idx", "gold"}


def _texts(row: dict, fmt) -> list[str]:
    """The texts of a row: the format's ``text_fields`` where it names them, else every string
    field (a token list joined; each choice of a list) except ids and gold answers."""
    try:
        return [t for t in fmt.text_fields(row) if isinstance(t, str)]
    except (NotImplementedError, KeyError, TypeError):
        pass
    out = []
    for key, value in row.items():
        if key in _NOT_TEXT:
            continue
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out += [" ".join(value)] if key == "tokens" else list(value)
    return out


def local_stats(study, name: str, languages: list[str], tokenizer=None) -> LocalStats | None:
    """Counts of ``name``'s local data as the study's runs would read them (None: not local)."""

    if study.data_dir is None:
        return None
    task = get_task(name)
    cap = study.config.max_examples
    train = _rows(task, "train", task.train_language, study.data_dir, cap) if task.trainable else []
    evals = {l: _rows(task, "evaluation", l, study.data_dir, cap) for l in languages}
    evals = {l: r for l, r in evals.items() if r is not None}
    if train is None or (not train and not evals):
        return None
    sel = _rows(task, "selection", task.train_language, study.data_dir, cap) if task.trainable else []
    sample = train or next(iter(evals.values()))
    tokens, choices = _tokens(sample, get_format(task.format), tokenizer, task.max_length)
    return LocalStats(len(train), len(sel or []), {l: len(r) for l, r in evals.items()}, tokens, choices)


# ------------------------------------------------------------------------------ finished runs
def run_records(store_root) -> list[dict]:
    """Finished runs of a store: ``kind``, ``task``, ``language``, ``epochs``, ``seconds`` (wall)."""
    runs = Path(store_root) / "runs" if store_root is not None else None
    out: list[dict] = []
    if runs is None or not runs.is_dir():
        return out
    for done in runs.glob("*/DONE"):
        try:
            cfg = json.loads((done.parent / "config.json").read_text(encoding="utf-8"))
            created = datetime.fromisoformat(cfg["created"]).timestamp()
        except (OSError, ValueError, KeyError):
            continue
        kind = cfg.get("kind")
        if kind not in RECORDED:
            continue
        spec = cfg.get("config") or {}
        task = spec.get("task")
        train = spec.get("train") if isinstance(spec.get("train"), dict) else {}
        out.append({"kind": kind, "task": task.get("name") if isinstance(task, dict) else task,
                    "language": spec.get("language"), "epochs": train.get("epochs"),
                    "seconds": done.stat().st_mtime - created, "run_id": done.parent.name})
    return out


@dataclass
class Calibration:
    """``seconds = overhead + factor x predicted`` per group (``train``, ``evaluation``, ``profile``)."""

    overhead: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_OVERHEAD_S))
    factor: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FACTOR))
    runs: dict[str, int] = field(default_factory=dict)
    source: str = "defaults (no finished runs in the store)"

    def seconds(self, kind: str, predicted: float) -> float:
        group = GROUPS[kind]
        return self.overhead[group] + self.factor[group] * predicted


def calibration(records: list[dict], predict, min_runs: int = 3) -> Calibration:
    """Fit :class:`Calibration` to finished runs; ``predict(record) -> seconds`` (None: skip)."""
    from scipy.stats import theilslopes

    cal = Calibration()
    fitted = []
    for group in sorted(set(GROUPS.values())):
        pts = [(p, r["seconds"]) for r in records if GROUPS[r["kind"]] == group
               for p in [predict(r)] if p is not None and p > 0 and r["seconds"] > 0]
        cal.runs[group] = len(pts)
        if len(pts) < min_runs:
            continue
        xs, ys = [p for p, _ in pts], [s for _, s in pts]
        if max(xs) > 1.5 * min(xs):  # enough spread to separate the fixed cost from the rate
            slope, intercept, _, _ = theilslopes(ys, xs)
            if slope > 0 and intercept >= 0:
                cal.overhead[group], cal.factor[group] = float(intercept), float(slope)
                fitted.append(f"{group} {len(pts)}")
                continue
        over = cal.overhead[group]  # too little spread: keep the fixed cost, fit the rate (median)
        ratios = sorted((s - over) / p for p, s in pts if s > over)
        if ratios:
            cal.factor[group] = float(ratios[len(ratios) // 2])
            fitted.append(f"{group} {len(pts)}")
    if fitted:
        cal.source = f"fitted to finished runs in the store ({', '.join(fitted)} runs)"
        done = {f.split()[0] for f in fitted}
        machine = sorted(cal.factor[g] for g in done)[len(done) // 2]  # this machine vs the probe
        for group in set(cal.factor) - done:  # no runs of this kind yet: the same machine speed
            cal.factor[group] = machine
    return cal
