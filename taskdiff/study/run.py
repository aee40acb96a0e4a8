"""Running a study: resolve the graph, schedule its pending runs on an executor, collect.

:func:`run_study` is what ``taskdiff study CONFIG`` calls: it resolves the run graph
(:mod:`taskdiff.study.graph`), writes the study manifest ``OUT/study.json`` (so
``taskdiff status OUT`` works while the study runs), hands every pending node of the
selected shard / phases to the executor as soon as its dependencies are done
(:func:`schedule`), and writes ``gains.csv``, ``scores.csv``, ``gains.parquet``,
``targets.json`` and ``profiles/<task>.json`` once every evaluation is done (:func:`collect`).

What runs per node is the job of :mod:`taskdiff.study.node`
(:func:`~taskdiff.study.node.execute_node`), handed to the executor by :func:`run_study`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from taskdiff.io import atomic_write_json, atomic_write_text
from taskdiff.progress import format_seconds
from taskdiff.study.executors import make_executor
from taskdiff.study.graph import StudyGraph, plan_study, resolve
from taskdiff.study.node import DependencyNotDoneError, Job, StudyError, execute_node
from taskdiff.study.targets import write_targets
from taskdiff.transfer.gains import score_rows, write_tables
from taskdiff.transfer.models import resolve_model
from taskdiff.transfer.store import RunResult

log = logging.getLogger(__name__)

__all__ = ["DependencyNotDoneError", "ScheduleResult", "StudyError", "StudyResult", "collect", "execute_node",
           "run_study", "schedule", "study_scores", "write_manifest"]

MANIFEST = "study.json"
_ORDER = {"intermediate": 0, "target": 1, "evaluation": 2, "profile": 3}


# ------------------------------------------------------------------------------ scheduling
@dataclass
class ScheduleResult:
    """What :func:`schedule` did with the selected nodes."""

    done_before: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    submitted: list[str] = field(default_factory=list)
    retried: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.blocked


def verified_states(store, run_ids: Iterable[str], threads: int = 8) -> dict[str, str]:
    """:meth:`RunStore.state` of many runs; checksums are computed in parallel threads."""
    run_ids = list(run_ids)
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(run_ids)))) as pool:
        return dict(zip(run_ids, pool.map(store.state, run_ids)))


def schedule(graph, selected, executor, store, *, retries: int = 1, poll_s: float = 2.0,
             wait_external: float | None = None, on_event: Callable[[str, object, object], None] | None = None,
             states: dict[str, str] | None = None) -> ScheduleResult:
    """Run the ``selected`` nodes of ``graph`` on a started ``executor``.

    A node is submitted once every run it needs is done (verified in the store), or, for
    an executor that chains (Slurm ``afterok``), submitted to it. Runs needed by selected
    nodes but not selected themselves (other shards or phases) are *external*: they are
    polled in the store every ``poll_s`` seconds, for at most ``wait_external`` seconds
    (None: as long as it takes; 0: not at all). A node whose worker died is resubmitted
    up to ``retries`` times; a node that failed blocks its dependents, the rest goes on.
    ``states`` are the verified states of the selected nodes and their dependencies, if
    already known (:func:`verified_states`).
    """
    event = on_event or (lambda *a: None)
    res = ScheduleResult()
    sel = {n.run_id: n for n in selected}
    needed = set(sel) | {d for n in selected for d in n.deps}
    if states is None or not needed <= set(states):
        states = verified_states(store, needed)
    done = {rid for rid, s in states.items() if s == "done"}
    res.done_before = [rid for rid in sel if rid in done]
    todo = [rid for rid in sel if rid not in done]
    handled: set[str] = set()
    inflight: set[str] = set()
    waited_since: float | None = None
    last_refresh = time.monotonic()

    def refresh_external() -> None:
        for d in {d for rid in todo if rid not in handled for d in sel[rid].deps} - set(sel) - done:
            if store.is_done(d):
                done.add(d)

    while True:
        for rid in todo:  # a failed or blocked dependency blocks its dependents
            if rid in handled or rid in inflight:
                continue
            bad = [d for d in sel[rid].deps if d in res.failed or d in res.blocked]
            if bad:
                res.blocked[rid] = f"needs {sel[bad[0]].label} ({bad[0]}), which did not finish"
                handled.add(rid)
                event("blocked", sel[rid], res.blocked[rid])
        ready = [sel[rid] for rid in todo if rid not in handled and rid not in inflight and all(
            d in done or (executor.chains and d in inflight) for d in sel[rid].deps)]
        if ready:
            ready.sort(key=lambda n: _ORDER[n.kind])
            after = {d: executor.job_ref(d) for n in ready for d in n.deps if d in inflight}
            executor.submit(ready, after={k: v for k, v in after.items() if v is not None})
            for n in ready:
                inflight.add(n.run_id)
                res.submitted.append(n.run_id)
                event("submitted", n, None)
            continue
        remaining = [rid for rid in todo if rid not in handled and rid not in inflight]
        if executor.detached:
            break
        if not inflight:
            if not remaining:
                break
            external = {d for rid in remaining for d in sel[rid].deps if d not in done} - set(sel)
            if not external:  # pragma: no cover - cannot happen for a DAG
                for rid in remaining:
                    res.blocked[rid] = "unreachable"
                break
            now = time.monotonic()
            waited_since = waited_since or now
            if wait_external is not None and now - waited_since >= wait_external:
                for rid in remaining:
                    res.blocked[rid] = (f"waits for {len([d for d in sel[rid].deps if d not in done])} run(s) of other "
                                        "shards or phases")
                    event("blocked", sel[rid], res.blocked[rid])
                break
            event("waiting", None, external)
            time.sleep(poll_s)
            refresh_external()
            continue
        waited_since = None
        for o in executor.wait(timeout=poll_s):
            inflight.discard(o.run_id)
            node = sel[o.run_id]
            if o.ok:
                done.add(o.run_id)
                handled.add(o.run_id)
                (res.hits if o.hit else res.ran).append(o.run_id)
                event("done", node, o)
            elif o.worker_died and res.retried[o.run_id] < retries:
                res.retried[o.run_id] += 1
                event("retry", node, o)
            else:
                res.failed[o.run_id] = o.error or "failed"
                handled.add(o.run_id)
                event("failed", node, o)
        if time.monotonic() - last_refresh > max(poll_s, 10.0):
            refresh_external()
            last_refresh = time.monotonic()
    return res


# ------------------------------------------------------------------------------ the study
@dataclass
class StudyResult:
    """What :func:`run_study` did: node counts, the schedule, and the tables written."""

    counts: dict[str, int]
    schedule: ScheduleResult
    tables: dict[str, dict] = field(default_factory=dict)
    incomplete: dict[str, int] = field(default_factory=dict)
    executor: str = ""
    manifest: Path | None = None
    detached: bool = False
    graph: StudyGraph | None = None

    @property
    def ok(self) -> bool:
        return self.schedule.ok


def write_manifest(study, graph, out: Path) -> Path:
    """``OUT/study.json``: the config, store, data dir and every node (for ``taskdiff status``)."""
    record = {"format": 1, "name": study.config.name, "config_file": study.source,
              "config": study.config.model_dump(mode="json"), "store": str(study.store),
              "data_dir": str(study.data_dir) if study.data_dir else None,
              "models": {m: str(study.out_dir(m)) for m in study.config.models},
              "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "counts": graph.counts(), "nodes": graph.to_list()}
    out.mkdir(parents=True, exist_ok=True)
    return atomic_write_json(out / MANIFEST, record)


def collect(study, graph, store) -> tuple[dict[str, dict], dict[str, int]]:
    """Write each model's tables and profiles whose runs are all done.

    Returns ``({model: {"gains": path, ...}}, {model: evaluations not done})``.
    """
    written, incomplete = {}, {}
    for model in study.config.models:
        out = study.out_dir(model)
        if out is None:
            continue
        paths: dict = {}
        scores = study_scores(graph, store, model)
        if scores is None:
            incomplete[model] = sum(n.kind == "evaluation" and n.model == model and not store.is_done(n.run_id)
                                    for n in graph.entries)
        else:
            paths.update(write_tables(scores, out), targets=write_targets(scores, out))
        for n in graph:
            if n.kind == "profile" and n.model == model and store.is_done(n.run_id):
                text = (store.run_dir(n.run_id) / "profile.json").read_text(encoding="utf-8")
                paths[f"profile:{n.task}"] = atomic_write_text(out / "profiles" / f"{n.task}.json", text)
        if paths:
            written[model] = paths
    return written, incomplete


def study_scores(graph, store, model: str) -> list[dict] | None:
    """The score rows of ``model``'s evaluations, in plan order; None while one is not done."""
    evals = [n for n in graph.entries if n.kind == "evaluation" and n.model == model]
    if any(not store.is_done(n.run_id) for n in evals):
        return None
    scores: list[dict] = []
    for n in evals:
        result = RunResult(store.load_metrics(n.run_id), True, n.run_id, store.run_dir(n.run_id))
        scores.extend(score_rows(n.intermediate, n.task, n.language, n.seed, result))
    return scores


def _printer(total: int, stream=None) -> Callable:
    stream = stream or sys.stderr
    count = {"done": 0}
    last_wait = {"t": 0.0}
    t0 = time.monotonic()

    def eta() -> str:
        elapsed = time.monotonic() - t0
        left = total - count["done"]
        if not count["done"] or not left:
            return f"elapsed {format_seconds(elapsed)}"
        return f"elapsed {format_seconds(elapsed)}, ETA {format_seconds(elapsed / count['done'] * left)}"

    def on_event(kind: str, node, info) -> None:
        if kind == "submitted":  # a run starts: say so, so that hours of training are not silent
            print(f"[{count['done']}/{total}] start  {node.label} ({eta()})", file=stream, flush=True)
        elif kind == "done":
            count["done"] += 1
            what = "cached" if info.hit else format_seconds(info.seconds)
            print(f"[{count['done']}/{total}] done   {node.label} ({what}; {eta()})", file=stream, flush=True)
        elif kind == "failed":
            print(f"[{count['done']}/{total}] FAILED {node.label} ({node.run_id}): {info.error}", file=stream, flush=True)
        elif kind == "retry":
            print(f"retrying {node.label}: {info.error}", file=stream, flush=True)
        elif kind == "blocked":
            print(f"blocked  {node.label}: {info}", file=stream, flush=True)
        elif kind == "waiting" and time.monotonic() - last_wait["t"] > 60:
            last_wait["t"] = time.monotonic()
            print(f"waiting for {len(info)} run(s) of other shards or phases", file=stream, flush=True)

    return on_event


def run_study(study, *, executor=None, workers: int | None = None, shard: tuple[int, int] | None = None,
              phases: Iterable[str] | None = None, progress: bool = True, wait_external: float | None = None,
              detach: bool = False, on_event: Callable | None = None, ws=None,
              job: Job = execute_node, revisit_done: bool = False) -> StudyResult:
    """Run (or finish) a study; returns a :class:`StudyResult`.

    Parameters
    ----------
    study : Study
        From :func:`taskdiff.study.config.load_study`.
    executor : str or Executor, optional
        ``local``, ``gpu-pool``, ``slurm`` or ``ray`` (default: the config's
        ``executor.kind``), or an :class:`~taskdiff.study.executors.base.Executor`.
    workers : int, optional
        Worker processes of the local executor (default: the config's).
    shard : (i, n), optional
        Run only the nodes whose run id falls in shard ``i`` of ``n``
        (:func:`~taskdiff.study.graph.shard_index`); the others are waited for.
    phases : iterable of str, optional
        Run only nodes of these kinds (``intermediate``, ``target``, ``evaluation``, ``profile``).
    wait_external : float, optional
        Seconds to wait for needed runs outside the selection. Default: as long as it takes
        when ``shard`` is given (the other shards are running), else 0 (a ``phases``
        selection whose dependencies are not done stops at once and says so).
    detach : bool
        Slurm with ``dependencies: afterok``: submit everything and return.
    on_event : callable, optional
        ``on_event(kind, node, info)`` for every scheduling event (default: progress lines).
    ws : Workspace, optional
        The workspace that plans the study (default: ``study.workspace()``).
    job : callable, default :func:`~taskdiff.study.node.execute_node`
        What the executor runs per node (see :mod:`taskdiff.study.node`).
    revisit_done : bool
        Hand the selected runs that are already done to the job too (each is a cache hit
        of :meth:`~taskdiff.transfer.store.RunStore.get_or_run`, which warns about a run made
        with other library versions and is counted as reused); ``run_transfer`` does.
    """
    ws = ws if ws is not None else study.workspace(progress=False)
    graph = resolve(plan_study(study), study, ws)
    manifest = write_manifest(study, graph, study.out) if study.out is not None else None
    selected = graph.select(shard, phases)
    if wait_external is None and shard is None:
        wait_external = 0.0
    ex = executor if executor is not None and not isinstance(executor, str) else make_executor(
        executor or study.config.executor.kind, study, workers=workers, detach=detach)
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if progress else (lambda text: None)
    say(f"study {study.config.name}: {len(graph)} runs ({', '.join(f'{v} {k}' for k, v in graph.counts().items())})"
        f"; {len(selected)} selected, on {ex.describe()}")
    needed = {n.run_id for n in selected} | {d for n in selected for d in n.deps}
    states = verified_states(ws.store, needed)
    pending = [n for n in selected if states[n.run_id] != "done"]
    say(f"  {len(selected) - len(pending)} of them are done; {len(pending)} to run")
    if revisit_done:  # every selected node goes to the job; a done one is a cache hit there
        states = {**states, **{n.run_id: "pending" for n in selected}}
        pending = list(selected)
    for model in sorted({n.model for n in pending}):  # fail early on a bad name; build tiny / e5 once, here
        resolve_model(model, ws.store.root)
    if pending:
        sched = _run_pending(study, graph, selected, ex, ws.store, states, wait_external, job,
                             on_event or (_printer(len(pending)) if progress else None))
    else:  # nothing to run: no worker, job or cluster is started
        sched = ScheduleResult(done_before=[n.run_id for n in selected])
    tables, incomplete = (collect(study, graph, ws.store) if study.out is not None and not ex.detached else ({}, {}))
    return StudyResult(graph.counts(), sched, tables, incomplete, ex.describe(), manifest, bool(ex.detached), graph)


def _run_pending(study, graph, selected, ex, store, states, wait_external, job, on_event) -> ScheduleResult:
    """Start ``ex`` with the job, schedule the selection, close it (cancelling work on an error)."""
    opts = study.config.executor
    ex.start(study.to_payload(), job)
    try:
        sched = schedule(graph, selected, ex, store, retries=opts.retries, poll_s=opts.poll_s,
                         wait_external=wait_external, states=states, on_event=on_event)
        ex.close()
    except BaseException:
        ex.close(cancel=True)
        raise
    return sched
