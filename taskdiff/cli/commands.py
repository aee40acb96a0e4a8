"""The ``taskdiff`` commands ``tasks``, ``transfer``, ``profile``, ``predict``, ``report``, ``demo``.

The ``taskdiff`` command line is a thin typer layer over library calls; ``study`` and
``status`` are added from :mod:`taskdiff.cli.study`. The app is ``taskdiff.cli:app`` (the
console entry point) and ``python -m taskdiff.cli`` runs it (:mod:`taskdiff.cli.__main__`).

Every command is a few lines that call functions a user could call from Python the same
way. Conventions (``docs/cli.md``): the one thing a command acts on is positional
(``profile TASK``, ``study CONFIG``, ``status STUDY``); lists are comma-separated options
with plural names (``--seeds 1,2``); flags have no ``--no-`` twin unless the default is on;
every option is checked before any work (data folder, output folders, model name), bad
input (:class:`~taskdiff.errors.TaskdiffError`) prints one line and exits 2; progress goes
to stderr, results and the final summary to stdout.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from taskdiff.analysis.api import report
from taskdiff.cli.checks import check_data_dir, check_languages, check_model, check_writable, parse_params
from taskdiff.cli.common import (QUIET_HELP, VERBOSE_HELP, friendly, int_list, quiet_libraries, setup,  # noqa: F401
                                 show_notes_for, split_list)
from taskdiff.cli.predict import check_study_for_report, predict_report, study_profile_settings
from taskdiff.cli.study import register as register_study
from taskdiff.cli.tables import tasks_table
from taskdiff.demo import run_demo
from taskdiff.difficulty.api import format_profile_table, profile_task
from taskdiff.errors import ConfigError
from taskdiff.io import atomic_write_text
from taskdiff.paths import default_home
from taskdiff.progress import set_plain_lines, stderr_is_terminal, summary_line
from taskdiff.study.transfer import TransferRequest, run_transfer
from taskdiff.transfer.phases import Workspace
from taskdiff.transfer.store import CountingStore
from taskdiff.transfer.training import TrainConfig

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                  context_settings={"max_content_width": 100, "help_option_names": ["-h", "--help"]},
                  help="Which English intermediate task helps zero-shot cross-lingual transfer?")


_split = split_list
_setup = setup
_ints = int_list


TaskFile = typer.Option(None, "--task-file", help="extra task YAML file(s)")
DataDir = typer.Option(None, "--data-dir", envvar="TASKDIFF_DATA_DIR",
                       help="local data root (xtreme/, intermediate/); default $TASKDIFF_DATA_DIR")
Store = typer.Option(None, "--store", help="run store (default $TASKDIFF_HOME or ~/.cache/taskdiff)")
Model = typer.Option(..., "--model", help="'tiny', 'e5-small-offline', a local folder or a hub id")
Quiet = typer.Option(False, "--quiet", "-q", help=QUIET_HELP)
Verbose = typer.Option(False, "--verbose", "-v", help=VERBOSE_HELP)
Params = typer.Option(None, "--param", help="a measure setting, MEASURE.SETTING=VALUE (repeatable), "
                                            "e.g. probing.mdl=true; '*' for every measure")


def _store(store: Optional[Path]):


    check_writable(default_home(store), "--store")
    return CountingStore(store)


def _bars(quiet: bool) -> bool:
    """Progress bars on a terminal; off a terminal (a log file) plain progress lines instead."""

    set_plain_lines(not quiet and not stderr_is_terminal())
    return not quiet and stderr_is_terminal()


def _echo_summary(started: float, store=None, extra: str = "") -> None:

    typer.echo(summary_line(started, store, extra))


@app.command("tasks", short_help="List tasks and whether their data is local.")
@friendly
def tasks_cmd(task_file: Optional[list[Path]] = TaskFile, data_dir: Optional[Path] = DataDir,
              verbose: bool = Verbose):
    """List tasks: format, role, languages, metric, whether their data is local, and its source."""
    _setup(task_file, verbose)

    data_dir = check_data_dir(data_dir)
    typer.echo(tasks_table(data_dir))


@app.command("transfer", short_help="Train, evaluate zero-shot; write gains.csv.")
@friendly
def transfer_cmd(
    model: str = Model,
    intermediate: str = typer.Option(..., help="intermediate task(s), comma-separated"),
    target: str = typer.Option(..., help="target task(s), comma-separated"),
    languages: Optional[str] = typer.Option(None, help="evaluation languages (default: each target's)"),
    seeds: str = typer.Option("1,2,3", help="seeds, comma-separated"),
    data_dir: Optional[Path] = DataDir,
    max_examples: Optional[int] = typer.Option(None, help="cap every split (smoke runs)"),
    out: Path = typer.Option(..., help="output folder for gains.csv and scores.csv"),
    store: Optional[Path] = Store,
    lr: Optional[float] = typer.Option(None, help="learning rate, both phases (default 1e-5)"),
    epochs: Optional[float] = typer.Option(None, help="epochs, both phases (default 3)"),
    batch_size: Optional[int] = typer.Option(None, help="batch size, both phases (default 16; configs/xstilts.yaml: 4)"),
    precision: str = typer.Option("auto", help="auto, fp32, bf16 or fp16"),
    freeze_embeddings: bool = typer.Option(True, help="freeze the word embeddings"),
    task_file: Optional[list[Path]] = TaskFile,
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="run model code from the hub"),
    quiet: bool = Quiet,
    verbose: bool = Verbose,
):
    """Train intermediate -> target, evaluate zero-shot per language; write OUT/gains.csv."""
    started = time.monotonic()
    _setup(task_file, verbose)

    data_dir = check_data_dir(data_dir)
    check_writable(out, "--out")
    rs = _store(store)
    check_model(model)

    req = _transfer_request(model, intermediate, target, languages, seeds, lr, epochs, batch_size, precision,
                            freeze_embeddings)
    check_languages(req.languages, req.targets)
    ws = Workspace(rs, data_dir, max_examples, progress=_bars(quiet), trust_remote_code=trust_remote_code)
    with show_notes_for(req.intermediates + req.targets, verbose):
        gains = run_transfer(req, ws, out)  # a study of one model, run in this process
    typer.echo(f"wrote {out / 'gains.csv'} ({len(gains)} row{'s' if len(gains) != 1 else ''})")
    _echo_summary(started, rs)


def _transfer_request(model, intermediate, target, languages, seeds, lr, epochs, batch_size, precision,
                      freeze_embeddings):
    from pydantic import ValidationError


    overrides = {k: v for k, v in {"learning_rate": lr, "epochs": epochs, "batch_size": batch_size}.items()
                 if v is not None}
    try:
        cfg = TrainConfig(precision=precision, freeze_embeddings=freeze_embeddings, **overrides)
        return TransferRequest(model=model, intermediates=_split(intermediate), targets=_split(target),
                               languages=_split(languages), seeds=_ints(seeds, "--seeds"),
                               intermediate_train=cfg, target_train=cfg)
    except ValidationError as exc:  # an option value out of range: one line, like every input error
        err = exc.errors()[0]
        raise ConfigError(f"option {'.'.join(str(p) for p in err['loc'])!r}: {err['msg']} "
                          f"(found {err.get('input')!r})") from None


@app.command("profile", short_help="The difficulty profile of a task.")
@friendly
def profile_cmd(
    task: str = typer.Argument(..., help="registered task name (or one from --task-file)"),
    model: str = Model,
    measures: Optional[str] = typer.Option(None, help="measures, comma-separated (default: all)"),
    param: Optional[list[str]] = Params,
    data_dir: Optional[Path] = DataDir,
    max_examples: Optional[int] = typer.Option(None, help="cap every split"),
    seed: int = typer.Option(0, help="seed of the measures' training runs"),
    out: Optional[Path] = typer.Option(None, help="write the profile JSON here"),
    store: Optional[Path] = Store,
    task_file: Optional[list[Path]] = TaskFile,
    quiet: bool = Quiet,
    verbose: bool = Verbose,
):
    """A difficulty profile of TASK: size, baseline loss, V-information, cartography, probing, LogME."""
    started = time.monotonic()
    _setup(task_file, verbose)

    data_dir = check_data_dir(data_dir)
    check_writable(out, "--out", is_file=True)
    rs = _store(store)
    names = _split(measures)
    params = parse_params(param, names)
    check_model(model)
    with show_notes_for([task], verbose):
        prof = profile_task(task, model, measures=names, data_dir=data_dir, store=rs, max_examples=max_examples,
                            seed=seed, progress=_bars(quiet), params=params)
    typer.echo(format_profile_table(prof))
    if out is not None:

        atomic_write_text(out, prof.to_json())
        typer.echo(f"wrote {out}")
    failed = prof.provenance.get("errors") or {}
    _echo_summary(started, rs, f"{len(failed)} measure(s) without a value" if failed else "")


@app.command("predict", short_help="Predict a new task's gain per target.")
@friendly
def predict_cmd(
    study: Path = typer.Option(..., help="study folder (gains.csv, profiles/)"),
    profile: Optional[Path] = typer.Option(None, help="profile JSON of the new task"),
    task: Optional[str] = typer.Option(None, help="or: a task to profile first (with --model)"),
    model: Optional[str] = typer.Option(None, help="model for profiling --task (default: the study's)"),
    param: Optional[list[str]] = Params,
    level: float = typer.Option(0.9, help="level of the prediction intervals, in (0, 1)"),
    data_dir: Optional[Path] = DataDir,
    max_examples: Optional[int] = typer.Option(None, help="cap every split when profiling (default: the study's)"),
    store: Optional[Path] = Store,
    task_file: Optional[list[Path]] = TaskFile,
    quiet: bool = Quiet,
    verbose: bool = Verbose,
):
    """Predict the gain of a new intermediate task per target, and its rank among the known ones."""
    started = time.monotonic()
    _setup(task_file, verbose)

    data_dir = check_data_dir(data_dir)
    if (profile is None) == (task is None):
        raise ConfigError("give exactly one of --profile FILE or --task NAME")
    rs = None
    if task is not None:
        settings = study_profile_settings(study)
        model = model or settings["model"]
        if model is None:
            raise ConfigError("--task needs --model (the study's profiles do not name their model)")
        check_writable(study / "profiles", "--study")
        rs = _store(store)
        params = parse_params(param, settings["measures"])
        check_model(model)

        cap = max_examples if max_examples is not None else settings["max_examples"]
        prof = profile_task(task, model, measures=settings["measures"], data_dir=data_dir, store=rs,
                            max_examples=cap, seed=settings["seed"], progress=_bars(quiet), params=params)
        profile = study / "profiles" / f"{task}.candidate.json"
        atomic_write_text(profile, prof.to_json())
    typer.echo(predict_report(study, profile, level=level))
    _echo_summary(started, rs)


@app.command("report", short_help="Write report.html and report.md.")
@friendly
def report_cmd(
    study: Path = typer.Option(..., help="study folder (gains.csv, profiles/)"),
    out: Path = typer.Option(..., help="output folder for report.html and report.md"),
    verbose: bool = Verbose,
):
    """Write report.html (self-contained) and report.md with figures and statistics."""
    started = time.monotonic()
    _setup(None, verbose)

    check_writable(out, "--out")
    for note in check_study_for_report(study):
        typer.secho(f"taskdiff: note: {note}", err=True)
    html, md = report(study, out)
    typer.echo(f"wrote {html}\nwrote {md}")
    _echo_summary(started)


@app.command("demo", short_help="The whole study offline, with a report.")
@friendly
def demo_cmd(
    out: Path = typer.Option(Path("demo-output"), help="output folder"),
    store: Optional[Path] = Store,
    quiet: bool = Quiet,
    verbose: bool = Verbose,
):
    """Run the whole study offline on the embedded default and write OUT/report.html."""
    started = time.monotonic()
    _setup(None, verbose)

    check_writable(out, "--out")
    check_writable(default_home(store), "--store")
    run_demo(out, store, progress=not quiet)
    _echo_summary(started)


register_study(app)  # adds `study` and `status` (taskdiff/cli/study.py)


def main() -> None:  # pragma: no cover - console entry
    app()

