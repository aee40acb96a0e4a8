"""The ``taskdiff`` command line: a thin typer layer over library calls.

Every command is a few lines that call functions a user could call from Python the same
way. Errors of bad input (:class:`~taskdiff.errors.TaskdiffError`) print one line naming
the file, field, what was expected and what was found, and exit with status 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from taskdiff.cli_common import friendly, int_list, quiet_libraries, setup, split_list  # noqa: F401

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Which English intermediate task helps zero-shot cross-lingual transfer?")


_split = split_list
_setup = setup
_ints = int_list


TaskFile = typer.Option(None, "--task-file", help="extra task YAML file(s)")
DataDir = typer.Option(None, "--data-dir", envvar="TASKDIFF_DATA_DIR", help="local data root (xtreme/, intermediate/)")
Store = typer.Option(None, "--store", help="run store (default $TASKDIFF_HOME or ~/.cache/taskdiff)")


@app.command("tasks")
@friendly
def tasks_cmd(task_file: Optional[list[Path]] = TaskFile, verbose: bool = False):
    """List tasks: format, role, languages, metric and where their data comes from."""
    _setup(task_file, verbose)
    from rich.console import Console
    from rich.table import Table

    from taskdiff.transfer.tasks import data_origin, list_tasks

    table = Table("task", "format", "role", "metric", "languages", "data")
    for t in list_tasks():
        langs = ",".join(t.languages) if len(t.languages) <= 8 else f"{len(t.languages)}: {','.join(t.languages[:6])},..."
        table.add_row(t.name, t.format, t.role, t.metric, langs, data_origin(t))
    Console(width=200).print(table)


@app.command("transfer")
@friendly
def transfer_cmd(
    model: str = typer.Option(..., help="hub id, local path, 'tiny' or 'e5-small-offline'"),
    intermediate: str = typer.Option(..., help="intermediate task(s), comma-separated"),
    target: str = typer.Option(..., help="target task(s), comma-separated"),
    languages: Optional[str] = typer.Option(None, help="evaluation languages (default: each target's)"),
    seeds: str = typer.Option("1,2,3", help="seeds, comma-separated"),
    data_dir: Optional[Path] = DataDir,
    max_examples: Optional[int] = typer.Option(None, help="cap every split (smoke runs)"),
    out: Path = typer.Option(..., help="output directory for gains.csv"),
    store: Optional[Path] = Store,
    lr: Optional[float] = typer.Option(None, help="learning rate of both phases (default 1e-5)"),
    epochs: Optional[float] = typer.Option(None, help="epochs of both phases (default 3)"),
    batch_size: Optional[int] = typer.Option(None, help="batch size of both phases (default 16)"),
    precision: str = typer.Option("auto", help="auto, fp32, bf16 or fp16"),
    freeze_embeddings: bool = typer.Option(True, help="freeze the word-embedding matrix"),
    task_file: Optional[list[Path]] = TaskFile,
    trust_remote_code: bool = typer.Option(False, help="allow model code from the hub"),
    quiet: bool = typer.Option(False, help="no progress bars"),
    verbose: bool = False,
):
    """Train intermediate -> target and evaluate zero-shot per language; writes OUT/gains.csv."""
    _setup(task_file, verbose)
    from taskdiff.transfer.pipeline import TransferRequest, run_transfer
    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.training import TrainConfig

    overrides = {k: v for k, v in {"learning_rate": lr, "epochs": epochs, "batch_size": batch_size}.items() if v is not None}
    from pydantic import ValidationError

    try:
        cfg = TrainConfig(precision=precision, freeze_embeddings=freeze_embeddings, **overrides)
        req = TransferRequest(model=model, intermediates=_split(intermediate), targets=_split(target),
                              languages=_split(languages), seeds=_ints(seeds, "--seeds"),
                              intermediate_train=cfg, target_train=cfg)
    except ValidationError as exc:  # an option value out of range: one line, like every input error
        err = exc.errors()[0]
        from taskdiff.errors import ConfigError

        raise ConfigError(f"option {'.'.join(str(p) for p in err['loc'])!r}: {err['msg']} "
                          f"(found {err.get('input')!r})") from None
    ws = Workspace(RunStore(store), data_dir, max_examples, progress=not quiet, trust_remote_code=trust_remote_code)
    gains = run_transfer(req, ws, out)
    typer.echo(f"wrote {out / 'gains.csv'} ({len(gains)} rows)")


@app.command("profile")
@friendly
def profile_cmd(
    task: str = typer.Argument(..., help="registered task name (or one from --task-file)"),
    model: str = typer.Option(..., help="hub id, local path, 'tiny' or 'e5-small-offline'"),
    measures: Optional[str] = typer.Option(None, help="measures, comma-separated (default: all)"),
    data_dir: Optional[Path] = DataDir,
    max_examples: Optional[int] = typer.Option(None, help="cap every split"),
    seed: int = typer.Option(0, help="seed of the measures' training runs"),
    out: Optional[Path] = typer.Option(None, help="write the profile JSON here"),
    store: Optional[Path] = Store,
    task_file: Optional[list[Path]] = TaskFile,
    quiet: bool = typer.Option(False, help="no progress bars"),
    verbose: bool = False,
):
    """A difficulty profile of TASK: size, baseline loss, V-information, cartography, probing, LogME."""
    _setup(task_file, verbose)
    from taskdiff.difficulty.api import format_profile_table, profile_task

    prof = profile_task(task, model, measures=_split(measures), data_dir=data_dir, store=store,
                        max_examples=max_examples, seed=seed, progress=not quiet)
    typer.echo(format_profile_table(prof))
    if out is not None:
        from taskdiff.io import atomic_write_text

        atomic_write_text(out, prof.to_json())
        typer.echo(f"wrote {out}")


@app.command("predict")
@friendly
def predict_cmd(
    study: Path = typer.Option(..., help="study directory (gains.csv, profiles/)"),
    profile: Optional[Path] = typer.Option(None, help="profile JSON of the new task"),
    task: Optional[str] = typer.Option(None, help="or: a task to profile first"),
    model: Optional[str] = typer.Option(None, help="model for profiling --task"),
    data_dir: Optional[Path] = DataDir,
    max_examples: Optional[int] = typer.Option(None, help="cap every split when profiling"),
    store: Optional[Path] = Store,
    task_file: Optional[list[Path]] = TaskFile,
    verbose: bool = False,
):
    """Predict the gain of a new intermediate task per target, and its rank among the known ones."""
    _setup(task_file, verbose)
    from taskdiff.errors import ConfigError

    if (profile is None) == (task is None):
        raise ConfigError("give exactly one of --profile FILE or --task NAME (with --model)")
    if task is not None:
        if model is None:
            raise ConfigError("--task needs --model to profile it")
        from taskdiff.difficulty.api import profile_task
        from taskdiff.io import atomic_write_text

        prof = profile_task(task, model, data_dir=data_dir, store=store, max_examples=max_examples)
        profile = study / "profiles" / f"{task}.candidate.json"
        profile.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(profile, prof.to_json())
    from taskdiff.analysis.api import format_prediction_table, predict

    typer.echo(format_prediction_table(predict(study, profile)))


@app.command("report")
@friendly
def report_cmd(
    study: Path = typer.Option(..., help="study directory (gains.csv, profiles/)"),
    out: Path = typer.Option(..., help="output directory for report.html and report.md"),
    verbose: bool = False,
):
    """Write report.html (self-contained) and report.md with figures and statistics."""
    _setup(None, verbose)
    from taskdiff.analysis.api import report

    html, md = report(study, out)
    typer.echo(f"wrote {html}\nwrote {md}")


@app.command("demo")
@friendly
def demo_cmd(
    out: Path = typer.Option(Path("demo-output"), help="output directory"),
    store: Optional[Path] = Store,
    quiet: bool = typer.Option(False, help="no progress bars"),
    verbose: bool = False,
):
    """Run the whole study offline on the embedded default and write OUT/report.html."""
    _setup(None, verbose)
    from taskdiff.demo import run_demo

    run_demo(out, store, progress=not quiet)


from taskdiff.study.cli import register as _register_study  # noqa: E402  (adds `study` and `status`)

_register_study(app)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
