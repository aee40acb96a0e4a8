"""``taskdiff study`` and ``taskdiff status``: plain typer command functions.

Add them to the main app with :func:`register` (``register(app)`` in ``taskdiff/cli.py``),
or use them in any ``typer.Typer()``. Each command is a few lines over
:func:`taskdiff.study.config.load_study`, :func:`taskdiff.study.run.run_study`,
:func:`taskdiff.study.estimate.estimate_plan` and :func:`taskdiff.study.status.study_status`.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from taskdiff.cli_common import friendly, setup, split_list

__all__ = ["register", "status_cmd", "study_cmd"]


_friendly = friendly


def _setup(task_files: list[Path] | None, verbose: bool) -> None:
    setup(None, verbose)
    if not verbose:  # data notes repeat per run and are kept in every run's metrics
        for name in ("taskdiff.transfer.data", "taskdiff.transfer.phases"):
            logging.getLogger(name).setLevel(logging.ERROR)
    else:
        import os

        os.environ["TASKDIFF_STUDY_VERBOSE"] = "1"  # workers inherit it
    from taskdiff.transfer.tasks import register_task_file

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
    task_file: Optional[list[Path]] = typer.Option(None, "--task-file", help="extra task YAML file(s)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress lines"),
    verbose: bool = typer.Option(False, "--verbose"),
):
    """Run a declarative study (or its --dry-run plan): intermediates x targets x languages x seeds."""
    _setup(task_file, verbose)
    from taskdiff.study.config import load_study
    from taskdiff.study.graph import parse_shard

    study = load_study(config, data_dir=data_dir, out=out, store=store)
    if dry_run:
        from taskdiff.study.estimate import estimate_plan, format_plan, local_flops
        from taskdiff.study.graph import plan_study

        plan = plan_study(study)
        cfg = study.config
        local = None
        if not no_measure and any(m not in cfg.estimate.tokens_per_s for m in cfg.models):
            local = local_flops(study.store, remeasure=remeasure)
        typer.echo(format_plan(study, plan, estimate_plan(study, plan, local=local), list_nodes=list_runs))
        return
    from taskdiff.study.run import run_study

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
    if s.failed or s.blocked:
        for rid, err in list(s.failed.items())[:10]:
            typer.secho(f"failed {rid}: {err}", err=True, fg="red")
        raise typer.Exit(1)


@_friendly
def status_cmd(
    target: Path = typer.Argument(..., help="study directory (with study.json) or study YAML file"),
    store: Optional[Path] = typer.Option(None, "--store", help="run store (default: the study's)"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="for a config file: its data root"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    verbose: bool = typer.Option(False, "--verbose"),
):
    """Done / running / failed / pending runs of a study, per phase."""
    _setup(None, verbose)
    from taskdiff.study.status import format_status, study_status

    st = study_status(target, store=store, data_dir=data_dir)
    typer.echo(json.dumps(st.to_dict(), indent=2) if as_json else format_status(st))


def register(app: typer.Typer) -> typer.Typer:
    """Add ``study`` and ``status`` to ``app``; returns it."""
    app.command("study")(study_cmd)
    app.command("status")(status_cmd)
    return app


def main() -> None:  # pragma: no cover - `python -m taskdiff.study.cli`
    app = typer.Typer(add_completion=False, no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
