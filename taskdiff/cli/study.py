"""``taskdiff study`` and ``taskdiff status``: plain typer command functions.

Add them to the main app with :func:`register` (``register(app)`` in ``taskdiff/cli/commands.py``),
or use them in any ``typer.Typer()``. Each command is a few lines over
:func:`taskdiff.study.config.load_study`, :func:`taskdiff.study.run.run_study`,
:func:`taskdiff.study.estimate.estimate_plan` and :func:`taskdiff.study.status.study_status`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Optional

import typer

from taskdiff.cli.checks import check_data_dir, check_writable
from taskdiff.cli.common import QUIET_HELP, VERBOSE_HELP, friendly, int_list, setup, split_list
from taskdiff.progress import format_seconds
from taskdiff.study.config import load_study
from taskdiff.study.estimate import estimate_plan, format_plan, local_flops
from taskdiff.study.graph import parse_shard, plan_study
from taskdiff.study.run import run_study
from taskdiff.study.status import format_status, study_status
from taskdiff.transfer.tasks import register_task_file
from taskdiff.transfer.tasks.config import read_yaml

__all__ = ["register", "status_cmd", "study_cmd"]


_friendly = friendly


def _setup(task_files: list[Path] | None, verbose: bool) -> None:
    setup(None, verbose)  # also silences the data notes, which repeat per run and are kept in its metrics
    if verbose:
        import os

        os.environ["TASKDIFF_STUDY_VERBOSE"] = "1"  # workers inherit it

    for f in task_files or []:
        register_task_file(f)


_split = split_list


@_friendly
def study_cmd(
    config: Path = typer.Argument(..., help="study YAML file"),
    out: Optional[Path] = typer.Option(None, "--out", help="study directory (default: the config's 'out')"),
    executor: Optional[str] = typer.Option(
        None, "--executor", help="local, gpu-pool, slurm or ray (default: the config's)"),
    workers: Optional[int] = typer.Option(None, "--workers", help="local worker processes (0: in this process)"),
    shard: Optional[str] = typer.Option(None, "--shard", help="run only shard i/n of the runs (0 <= i < n), by run id"),
    phase: Optional[str] = typer.Option(
        None, "--phase", help="run only these phases: intermediate,target,evaluation,profile"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="print the plan and its cost estimate; read no data, run nothing"),
    list_runs: bool = typer.Option(False, "--list", help="with --dry-run: list every run"),
    no_measure: bool = typer.Option(
        False, "--no-measure", help="with --dry-run: no timing on this machine (GPU hours only)"),
    remeasure: bool = typer.Option(False, "--remeasure", help="with --dry-run: time this machine again"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="data root (wins over the config's data_dir)"),
    store: Optional[Path] = typer.Option(
        None, "--store", help="run store (default: config 'store', $TASKDIFF_HOME, ~/.cache/taskdiff)"),
    wait_external: Optional[float] = typer.Option(
        None, "--wait-external",
        help="seconds to wait for needed runs of other shards/phases (default: forever with --shard, else 0)"),
    detach: bool = typer.Option(False, "--detach", help="slurm with dependencies: afterok - submit everything and exit"),
    model: Optional[str] = typer.Option(None, "--model", help="model(s), comma-separated (wins over the config's)"),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="seeds, comma-separated (wins over the config's)"),
    max_examples: Optional[int] = typer.Option(
        None, "--max-examples", help="cap every split (wins over the config's)"),
    task_file: Optional[list[Path]] = typer.Option(None, "--task-file", help="extra task YAML file(s)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
):
    """Run a declarative study (or its --dry-run plan): intermediates x targets x languages x seeds."""
    import time

    started = time.monotonic()
    _setup(task_file, verbose)

    check_data_dir(data_dir)
    study = load_study(config, data_dir=data_dir, out=out, store=store,
                       overrides=_overrides(config, model, seeds, max_examples))
    check_data_dir(study.data_dir, "data_dir")
    if not dry_run:
        check_writable(study.out, "--out")
        check_writable(study.store, "--store")
    if dry_run:

        plan = plan_study(study)
        cfg = study.config
        local = None
        if not no_measure and any(m not in cfg.estimate.tokens_per_s for m in cfg.models):
            local = local_flops(study.store, remeasure=remeasure, workers=workers or cfg.executor.workers or 1)
        typer.echo(format_plan(study, plan, estimate_plan(study, plan, local=local), list_nodes=list_runs))
        return

    shard_t = parse_shard(shard) if shard else None
    result = run_study(study, executor=executor, workers=workers, shard=shard_t, phases=_split(phase),
                       progress=not quiet, wait_external=wait_external, detach=detach)
    s = result.schedule
    if result.detached:
        typer.echo(f"submitted {len(s.submitted)} run(s) ({result.executor}); follow them with `taskdiff status`, "
                   "then run this command again to write the tables")
    typer.echo(f"{len(s.ran)} run, {len(s.hits)} found done by a worker, {len(s.done_before)} already done, "
               f"{len(s.failed)} failed, {len(s.blocked)} blocked ({result.executor}"
               f"{f', shard {shard}' if shard else ''})")
    if result.manifest:
        typer.echo(f"study directory: {result.manifest.parent}  (taskdiff status {result.manifest.parent})")
    for model, paths in result.tables.items():
        if "gains" in paths:
            typer.echo(f"wrote {paths['gains']} ({model})")
    for model, n in result.incomplete.items():
        typer.echo(f"{model}: {n} evaluation(s) not done yet - tables not written; re-run to finish")
    if study.out is None:
        typer.echo("no --out: tables not written (runs are in the store)")

    typer.echo(f"done in {format_seconds(time.monotonic() - started)}: {len(s.ran)} run(s) computed, "
               f"{len(s.hits) + len(s.done_before)} reused, {len(s.failed)} failed")
    if s.failed or s.blocked:
        for rid, err in list(s.failed.items())[:10]:
            typer.secho(f"failed {rid}: {err}", err=True, fg="red")
        raise typer.Exit(1)


def _overrides(config: Path, model: str | None, seeds: str | None, max_examples: int | None) -> dict:
    """Config fields replaced by command-line options (``model``/``models``: the key the file uses)."""

    out: dict = {}
    if model is not None:
        key = "models"
        try:

            raw = read_yaml(config) if config.is_file() else {}
            key = "model" if isinstance(raw, dict) and "model" in raw else "models"
        except Exception:  # noqa: BLE001 - load_study reports a broken file itself
            pass
        out[key] = split_list(model)
    if seeds is not None:
        out["seeds"] = int_list(seeds, "--seeds")
    if max_examples is not None:
        out["max_examples"] = max_examples
    return out


@_friendly
def status_cmd(
    study: Path = typer.Argument(...,
                                 help="study folder (`study --out` or `transfer --out`) or study YAML file"),
    store: Optional[Path] = typer.Option(None, "--store", help="run store (default: the study's)"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="for a config file: its data root"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP),
):
    """Done / running / failed / pending runs of a study, per phase."""
    _setup(None, verbose)

    st = study_status(study, store=store, data_dir=data_dir)
    typer.echo(json.dumps(st.to_dict(), indent=2) if as_json else format_status(st))


def register(app: typer.Typer) -> typer.Typer:
    """Add ``study`` and ``status`` to ``app``; returns it."""
    app.command("study", short_help="Run a declarative study (or its --dry-run plan).")(study_cmd)
    app.command("status", short_help="Done / running / failed / pending runs of a study.")(status_cmd)
    return app

