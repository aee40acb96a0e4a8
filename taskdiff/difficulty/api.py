"""``profile_task``: compute (or fetch) a task's difficulty profile; ``format_profile_table``.

Each measure of a profile is a ``profile`` run in the store, keyed by the measure's name,
version and settings, the task (name and config hash), the model, seed, ``max_examples`` and
the fingerprint of the data it reads; a second request for the same profile reads the
stored results without computing anything, and a profile of a task whose training runs
exist (the budgeted ``difficulty_train`` runs, a transfer study's intermediate run, cached
hidden states) reuses them. Artefacts (cartography files, PVI tables) are written into the
measure's profile run directory, under ``artefacts/``, and the measure's learned state
(:meth:`~taskdiff.difficulty.base.Measure.learned_state`: ``pvi_``, ``regions_`` ...) into
``state.json`` there (typed JSON, never a pickle: :mod:`taskdiff.difficulty.state_io`), so a
measure restored from the store has all of it back.
"""

from __future__ import annotations

import logging
import math
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from taskdiff.difficulty.base import Measure, MeasureContext, jsonable
from taskdiff.difficulty.profile import DifficultyProfile, _params
from taskdiff.difficulty.registry import make_measure
from taskdiff.difficulty.state_io import STATE_FILE, load_state, save_state
from taskdiff.provenance import task_ref
from taskdiff.schema import feature_get
from taskdiff.errors import ConfigError, DataError, TaskdiffError, UnknownNameError, ZeroShotViolation
from taskdiff.paths import default_data_dir
from taskdiff.progress import plain_lines
from taskdiff.provenance import library_versions
from taskdiff.threads import ensure_threads
from taskdiff.transfer.data import MissingDataError
from taskdiff.transfer.store import RunSpec
from taskdiff.transfer.tasks import get_task, register_task_file

log = logging.getLogger(__name__)
#: Measures of a profile when none are named (cheap ones first).
DEFAULT_MEASURES = ("size", "baseline_loss", "vinfo", "cartography", "logme", "embedding", "probing")
ARTEFACTS = "artefacts"


def _input_errors() -> tuple[type, ...]:

    return DataError, MissingDataError, UnknownNameError, ZeroShotViolation


def _numerical_errors() -> tuple[type, ...]:
    import numpy as np

    return ArithmeticError, np.linalg.LinAlgError


#: Errors of the input (a broken or missing data file, an unknown name): they stop a profile,
#: whatever ``skip_errors`` says, because every measure would read the same input.
INPUT_ERRORS = _input_errors()
#: Failures of a measure of its own (numerics): recorded per measure with ``skip_errors``.
NUMERICAL_ERRORS = _numerical_errors()


def _measure_list(measures, params: dict | None) -> list:
    if measures is None:
        measures = DEFAULT_MEASURES
    if isinstance(measures, str):
        measures = [m.strip() for m in measures.split(",") if m.strip()]
    params = dict(params or {})
    shared = dict(params.pop("*", {}) or {})
    out = []
    for m in measures:
        name = m if isinstance(m, str) else getattr(m, "name", "")
        measure = make_measure(m)
        settings = {} if isinstance(m, Measure) else {k: v for k, v in shared.items() if k in measure.get_params()}
        settings.update(params.pop(name, {}))
        out.append(measure.set_params(**settings) if settings else measure)
    if params:

        raise ConfigError(f"settings given for measures that are not computed: {sorted(params)}")
    return out


def profile_spec(measure, task, model: str, context: MeasureContext):
    """The ``profile`` run spec of one measure of one task."""

    return RunSpec("profile", {
        "measure": measure.name, "version": getattr(measure, "version", 1), "params": _params(measure),
        "task": task_ref(task), "model": model, "seed": context.seed, "max_examples": context.max_examples,
        "data": measure.cache_key(task, context)})


def profile_task(task_name: str | None, model: str, measures: Iterable | str | None = None,
                 data_dir: str | Path | None = None, store=None, max_examples: int | None = None, seed: int = 0,
                 progress: bool = True, task_file: str | Path | None = None, *, params: dict | None = None,
                 skip_errors: bool | None = None, context: MeasureContext | None = None) -> DifficultyProfile:
    """Compute (or read from the store) the difficulty profile of a task.

    Parameters
    ----------
    task_name : str
        A registered task (or None with ``task_file``: the file's task).
    model : str
        ``tiny``, ``e5-small-offline``, a hub id or a local folder.
    measures : list or str, optional
        Measure names (or instances), or a comma-separated string; default
        :data:`DEFAULT_MEASURES`.
    data_dir : path, optional
        Local data root (default ``$TASKDIFF_DATA_DIR``; else the hub).
    store : RunStore or path, optional
        Run store (default ``$TASKDIFF_HOME`` or ``~/.cache/taskdiff``).
    max_examples : int, optional
        Cap on every role's rows (smoke runs; ``size`` still counts the whole training set).
    seed : int
        Seed of every training and probe split. ``probing`` probes the budgeted run that
        ``baseline_loss`` trains (``encoder="budget"``); to probe the transfer study's
        intermediate encoder instead, pass ``params={"probing": {"intermediate_train": ...}}``
        (``encoder="intermediate"``) with the study's seed and ``max_examples``, which then
        reuses its runs.
    progress : bool
    task_file : path, optional
        A task YAML to register first.
    params : dict, optional
        Settings per measure, e.g. ``{"baseline_loss": {"budget": {"epochs": 2}}}``; the key
        ``"*"`` gives settings to every measure that has them, e.g.
        ``{"*": {"budget": {...}}}`` for the one budget that ``baseline_loss``, ``vinfo``,
        ``cartography`` and ``probing`` then share (a measure's own entry wins).
    skip_errors : bool, optional
        Record a measure's own failure (a numerical error, or a measure that does not apply,
        e.g. no treebank for probing) in ``provenance["errors"]`` and go on, instead of
        raising. Default: skip for the default measure list, raise for named measures.
        Errors of the input (:data:`INPUT_ERRORS`: a broken or missing data file, an unknown
        name) always raise, so that no profile is written from data that could not be read.
    context : MeasureContext, optional
        Use this context (its data dir, store, caps and seed) instead of the arguments.

    Returns
    -------
    DifficultyProfile
    """

    if task_file is not None:
        cfg = register_task_file(task_file)
        task_name = task_name or cfg.name
    if not task_name:

        raise ConfigError("profile_task needs a task name or a task file")
    task = get_task(task_name)

    ensure_threads("profile")  # thread count by load, once per process (taskdiff/threads.py)
    if skip_errors is None:
        skip_errors = measures is None
    instances = _measure_list(measures, params)
    ctx = context or MeasureContext(data_dir=default_data_dir(data_dir), store=store, max_examples=max_examples,
                                    seed=seed, progress=progress)
    profile = DifficultyProfile(task.name, model, provenance={
        "task_config": task_ref(task)["config"], "seed": ctx.seed, "max_examples": ctx.max_examples,
        "data_dir": str(ctx.data_dir) if ctx.data_dir is not None else None, "store": str(ctx.store.root),
        "versions": library_versions(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "errors": {}})

    say = progress or plain_lines()  # plain lines: the CLI writing to a file (bars off)
    for measure in instances:
        if say:
            print(f"taskdiff profile {task.name}: {measure.name} ...", file=sys.stderr, flush=True)
        try:
            run_id, hit = _fit_cached(measure, task, model, ctx)
        except INPUT_ERRORS:
            raise  # bad or missing data stops the profile: no measure could use it
        except (TaskdiffError, *NUMERICAL_ERRORS) as exc:
            if not skip_errors:
                raise
            log.warning("profile %s: measure %s skipped: %s", task.name, measure.name, exc)
            profile.provenance["errors"][measure.name] = f"{type(exc).__name__}: {exc}"
            continue
        profile.add(measure, run_id=run_id, cached=hit)
        if say:
            print(f"taskdiff profile {task.name}: {measure.name} done in {measure.cost_['seconds']:.1f} s"
                  f"{' (cached)' if hit else ''}", file=sys.stderr, flush=True)
    return profile


def _fit_cached(measure, task, model: str, ctx: MeasureContext) -> tuple[str, bool]:
    """Fit ``measure`` inside its ``profile`` run, or restore it (result and learned state) from the store."""
    spec = profile_spec(measure, task, model, ctx)

    def run(handle):
        previous = ctx.output_dir
        ctx.output_dir = handle.path / ARTEFACTS
        try:
            measure.fit(task, model, ctx)
        finally:
            ctx.output_dir = previous
        if (handle.path / ARTEFACTS).exists():
            handle.track(ARTEFACTS)
        if _save_state(measure, handle.file(STATE_FILE)):
            handle.track(STATE_FILE)
        return {"result": jsonable(measure.result_), "cost": measure.cost_, "measure": measure.name}

    result = ctx.store.get_or_run(spec, run)
    if result.hit and isinstance(measure, Measure):
        measure.restore(result.metrics, _load_state(Path(result.path) / STATE_FILE))
    elif result.hit:  # a plugin class outside the Measure hierarchy
        measure.restore(result.metrics)
    return result.run_id, result.hit


def _save_state(measure, path: Path) -> bool:
    """Write the measure's learned state atomically (typed JSON; see :mod:`~taskdiff.difficulty.state_io`)."""
    state = measure.learned_state() if isinstance(measure, Measure) else {}
    save_state(state, path, owner=f"measure {measure.name}")
    return True


def _load_state(path: Path) -> dict | None:
    """The learned state saved with a profile run (None for runs stored before it was saved)."""
    return load_state(path)


# ----------------------------------------------------------------------------- table
def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def _rows(profile: DifficultyProfile) -> list[tuple[str, str, str, str]]:
    flat = profile.to_flat()
    rows: list[tuple[str, str, str, str]] = []

    def cost(name):
        entry = profile.measures.get(name) or {}
        c = (entry.get("cost") or {}).get("seconds")
        return "-" if c is None else f"{c:.1f}" + (" (cached)" if entry.get("cached") else "")

    sections = [(name, feats) for name, feats in profile.features().items() if feats]
    for name, feats in sections:
        for i, feature in enumerate(feats):
            rows.append((name if i == 0 else "", feature.name.split(".")[-1], _fmt(feature_get(flat, feature.name)),
                         cost(name) if i == 0 else ""))
    extra = {"size": ("mean_length", "class_balance"), "baseline_loss": ("curve_area", "held_out_accuracy"),
             "embedding": ("overall_mean",)}
    for name, keys in extra.items():
        result = profile.result(name)
        if result is None:
            continue
        for key in keys:
            rows.append((name, key, _fmt(result.get(key)), cost(name) if name == "embedding" else ""))
        if name == "embedding":
            for target, value in (result.get("mean_similarity") or {}).items():
                rows.append(("embedding", f"mean similarity to {target}", _fmt(value), ""))
    for name in profile.measures:
        if name not in {s[0] for s in sections} | set(extra):
            rows.append((name, "(see the profile's provenance.measures)", "", cost(name)))
    return rows


def format_profile_table(profile: DifficultyProfile, *, rich: bool = False) -> str:
    """A readable table of a profile: measure, field, value, cost in seconds.

    Plain text by default; ``rich=True`` renders a :mod:`rich` table (as text).
    """
    header = f"difficulty profile of {profile.task} (model {profile.model})"
    rows = _rows(profile)
    footer = f"total cost {profile.cost_seconds:.1f} s"
    errors = profile.provenance.get("errors") or {}
    if rich:
        from io import StringIO

        from rich.console import Console
        from rich.table import Table

        table = Table("measure", "field", "value", "cost (s)", title=header, caption=footer)
        for row in rows:
            table.add_row(*row)
        buf = StringIO()
        Console(file=buf, width=120, force_terminal=False).print(table)
        text = buf.getvalue().rstrip()
    else:
        cols = ("measure", "field", "value", "cost (s)")
        widths = [max(len(cols[i]), *(len(r[i]) for r in rows)) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        body = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        text = "\n".join([header, "  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip(), line, *body, line,
                          footer])
    if errors:
        text += "\n" + "\n".join(f"skipped {k}: {v}" for k, v in errors.items())
    return text
