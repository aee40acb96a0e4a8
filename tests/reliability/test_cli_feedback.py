"""The CLI fails loudly and fast, and says what it is doing (issue 15; --param: issue 14.7).

Each test meets the tool where a user does: exit codes, one-line messages naming the file,
line, option or field, nothing written on failure, time-to-error for typos (< 5 s offline),
and short readable output.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import N_TRAIN, assert_one_line_error, run_cli

FEATURES = ("n_examples", "baseline_loss", "v_information", "logme")


# ----------------------------------------------------------------------------- a simulated study
def _profile(name: str, rng, model: str = "tiny") -> dict:
    return {"task": name, "n_examples": int(rng.integers(1000, 90000)), "baseline_loss": float(rng.uniform(0.2, 1.5)),
            "v_information": float(rng.uniform(0.1, 1.2)), "logme": float(rng.uniform(-1, 1)),
            "provenance": {"model": model, "max_examples": None, "seed": 0,
                           "measures": {"size": {"params": {}}, "logme": {"params": {}}}, "errors": {}}}


def _study(root: Path, n_tasks: int = 5, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    profiles = {f"task{i}": _profile(f"task{i}", rng) for i in range(n_tasks)}
    rows = []
    for t, prof in profiles.items():
        for target in ("xnli", "pawsx"):
            for lang in ("de", "sw"):
                for s in (1, 2):
                    gain = prof["baseline_loss"] + rng.normal(0, 0.2)
                    rows.append((t, target, lang, s, "accuracy", 60 + gain, 60.0, gain))
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["intermediate", "target", "language", "seed", "metric", "score", "baseline_score",
                                "gain"]).to_csv(root / "gains.csv", index=False)
    (root / "profiles").mkdir(exist_ok=True)
    for t, prof in profiles.items():
        (root / "profiles" / f"{t}.json").write_text(json.dumps(prof))
    new = _profile("newtask", rng)
    (root / "new.json").write_text(json.dumps(new))
    return root


def _empty_profile(name: str) -> dict:
    return {"task": name, "n_examples": None, "baseline_loss": None, "v_information": None, "logme": None,
            "provenance": {"model": "tiny", "errors": {
                "size": "DataError: train.jsonl:80: expected a JSON object, found invalid JSON"}}}


# ----------------------------------------------------------------------------- 15.1 profile input errors
def _broken_copy(tmp_path: Path, fixture_data: Path) -> Path:
    data = Path(shutil.copytree(fixture_data, tmp_path / "data"))
    train = data / "intermediate" / "snli" / "snli_1.0_train.jsonl"
    lines = train.read_text().splitlines(keepends=True)
    lines[4] = "{broken\n"
    train.write_text("".join(lines))
    return data


def test_profile_of_broken_data_stops_with_exit_2_and_writes_nothing(tmp_path, fixture_data):
    data = _broken_copy(tmp_path, fixture_data)
    out = tmp_path / "p.json"
    result = run_cli("profile", "snli", "--model", "tiny", "--data-dir", data, "--store", tmp_path / "store",
                     "--max-examples", "12", "--out", out, "--quiet")
    assert_one_line_error(result, r"snli_1\.0_train\.jsonl:5", "expected a JSON object")
    assert not out.exists()


def test_a_measures_own_numerical_failure_is_recorded_with_its_reason(tmp_path, fixture_data):
    from taskdiff.difficulty.api import profile_task
    from taskdiff.difficulty.base import Measure
    from taskdiff.errors import DataError, NumericalError

    class Diverges(Measure):
        name = "rel_diverges"
        higher_is_harder = True

        def cache_key(self, task, context):
            return {}

        def _fit(self, task, model, context, cost):
            raise NumericalError("the evidence iteration diverged (alpha = 1e18)")

    class BadInput(Diverges):
        name = "rel_bad_input"

        def _fit(self, task, model, context, cost):
            raise DataError("train.jsonl", "a JSON object", "invalid JSON", line=3)

    prof = profile_task("snli", "tiny", measures=[Diverges(), "size"], data_dir=fixture_data,
                        store=tmp_path / "store", max_examples=12, progress=False, skip_errors=True)
    assert "diverged" in prof.provenance["errors"]["rel_diverges"]
    assert prof.to_flat()["n_examples"] == N_TRAIN  # size counts the whole training file
    with pytest.raises(DataError, match=r"train\.jsonl:3"):  # input errors stop even with skip_errors
        profile_task("snli", "tiny", measures=[BadInput(), "size"], data_dir=fixture_data,
                     store=tmp_path / "store", max_examples=12, progress=False, skip_errors=True)


def test_report_refuses_a_profile_without_features_in_one_line(tmp_path):
    study = _study(tmp_path / "study")
    (study / "profiles" / "task1.json").write_text(json.dumps(_empty_profile("task1")))
    result = run_cli("report", "--study", study, "--out", tmp_path / "report")
    assert_one_line_error(result, r"task1\.json", "no feature value", r"train\.jsonl:80")
    assert not (tmp_path / "report" / "report.html").exists()


# ----------------------------------------------------------------------------- 15.2 predict
def test_predict_refuses_a_profile_of_another_model_or_without_features(tmp_path):
    study = _study(tmp_path / "study")
    other = _profile("other", np.random.default_rng(1), model="e5-small-offline")
    (tmp_path / "other.json").write_text(json.dumps(other))
    result = run_cli("predict", "--study", study, "--profile", tmp_path / "other.json")
    assert_one_line_error(result, r"other\.json", "model 'e5-small-offline'", "study's profiles with tiny")
    (tmp_path / "empty.json").write_text(json.dumps(_empty_profile("empty")))
    result = run_cli("predict", "--study", study, "--profile", tmp_path / "empty.json")
    assert_one_line_error(result, r"empty\.json", "none of them", "size: DataError")


def test_predict_explains_unbounded_intervals_takes_level_and_shows_loto_quality(tmp_path):
    study = _study(tmp_path / "study", n_tasks=5)
    result = run_cli("predict", "--study", study, "--profile", study / "new.json")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "intervals are unbounded" in out and "n >= 9 tasks" in out and "this study has 5" in out
    assert "--level 0.83" in out
    assert "same model, measures and settings" in out
    assert "Quality of this predictor on this study" in out
    for method in ("predictor", "data size", "random"):
        assert method in out
    assert "regret@3" in out and "spearman" in out
    bounded = run_cli("predict", "--study", study, "--profile", study / "new.json", "--level", "0.8")
    assert bounded.exit_code == 0, bounded.output
    assert "80% interval" in bounded.stdout and "unbounded" not in bounded.stdout
    assert_one_line_error(run_cli("predict", "--study", study, "--profile", study / "new.json", "--level", "1.5"),
                          "--level", "between 0 and 1")


def test_min_tasks_for_level_known_answers():
    from taskdiff.cli.predict import min_tasks_for_level

    # ceil(0.9 (n+1)) <= n first holds at n = 9; ceil(0.8 (n+1)) <= n at n = 4; 0.5: n = 1
    assert [min_tasks_for_level(x) for x in (0.9, 0.8, 0.5, 0.95)] == [9, 4, 1, 19]


def test_predict_task_uses_the_studys_measures(tmp_path):
    from taskdiff.cli.predict import study_profile_settings

    study = _study(tmp_path / "study")
    s = study_profile_settings(study)
    assert s["measures"] == ["size", "logme"] and s["model"] == "tiny" and s["seed"] == 0


# ----------------------------------------------------------------------------- 15.3 / 15.4 fast failures
@pytest.mark.parametrize("model,pattern", [("tinny", "did you mean 'tiny'"),
                                           ("./models/nope", "path that does not exist")])
def test_unknown_model_fails_at_once(tmp_path, fixture_data, model, pattern):
    start = time.monotonic()
    result = run_cli("profile", "snli", "--model", model, "--data-dir", fixture_data, "--store", tmp_path / "s",
                     "--quiet")
    assert_one_line_error(result, f"model '{model}'", pattern)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("command", ["profile", "transfer", "tasks"])
def test_missing_data_dir_is_checked_before_anything(tmp_path, command):
    args = {"profile": ["profile", "snli", "--model", "tiny"],
            "transfer": ["transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli",
                         "--out", tmp_path / "out"],
            "tasks": ["tasks"]}[command]
    start = time.monotonic()
    result = run_cli(*args, "--data-dir", tmp_path / "nowhere")
    assert_one_line_error(result, "--data-dir", "nowhere", "no such directory")
    assert time.monotonic() - start < 5
    assert not (tmp_path / "out").exists()


def test_unwritable_outputs_are_refused_before_work(tmp_path, fixture_data):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_cli("transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli", "--seeds", "1",
                     "--data-dir", fixture_data, "--store", tmp_path / "store", "--out", blocker / "out", "--quiet")
    assert_one_line_error(result, "--out", "a-file is a file")
    assert not (tmp_path / "store").exists()
    result = run_cli("profile", "snli", "--model", "tiny", "--data-dir", fixture_data,
                     "--store", blocker / "store", "--quiet")
    assert_one_line_error(result, "--store", "a-file is a file")
    result = run_cli("profile", "snli", "--model", "tiny", "--data-dir", fixture_data, "--store", tmp_path / "s",
                     "--out", tmp_path, "--quiet")
    assert_one_line_error(result, "--out", "expected a file name, found a directory")
    study = _study(tmp_path / "study")
    assert_one_line_error(run_cli("report", "--study", study, "--out", blocker / "r"), "--out", "is a file")


def test_check_writable_probes_by_writing(tmp_path, monkeypatch):
    from taskdiff.cli.checks import check_writable
    from taskdiff.errors import ConfigError

    check_writable(tmp_path / "new" / "deeper", "--out")  # creatable: fine, and nothing is created
    assert not (tmp_path / "new").exists()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(ConfigError, match="not writable .Permission denied"):
        check_writable(tmp_path / "out", "--out")


# ----------------------------------------------------------------------------- 15.5 quiet, informative output
def test_training_progress_plain_lines_have_start_rate_eta_and_no_log_dicts(capsys):
    import io
    from types import SimpleNamespace

    from taskdiff.transfer.trainer import training_progress

    stream = io.StringIO()
    cb = training_progress("intermediate snli seed 1", interval=0.0, stream=stream)
    args, state = SimpleNamespace(num_train_epochs=3), SimpleNamespace(global_step=0, max_steps=40)
    cb.on_train_begin(args, state, None)
    for step in (10, 20):
        state.global_step = step
        time.sleep(0.01)
        cb.on_step_end(args, state, None)
    cb.on_log(args, state, None, logs={"loss": 1.1})
    state.global_step = 40
    cb.on_train_end(args, state, None)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "  intermediate snli seed 1: training started, 40 steps (3 epochs)"
    assert "step 20/40 (50%)" in lines[2] and "steps/s" in lines[2] and "ETA" in lines[2]
    assert lines[-1].startswith("  intermediate snli seed 1: training done, 40 steps in")
    assert "loss" not in stream.getvalue() and capsys.readouterr().out == ""


def test_summary_line_counts_runs_computed_and_reused(tmp_path):
    from taskdiff.progress import format_seconds, summary_line
    from taskdiff.transfer.store import CountingStore, RunSpec

    store = CountingStore(tmp_path / "store")
    spec = RunSpec("evaluation", {"x": 1})
    store.get_or_run(spec, lambda h: {"score": 1.0})
    store.get_or_run(spec, lambda h: {"score": 2.0})
    line = summary_line(time.monotonic() - 75, store)
    assert line == "done in 1m 15s: 1 run computed, 1 reused from the store"
    assert format_seconds(4000) == "1h 06m" and format_seconds(12.34) == "12.3s"


def test_tiny_transfer_output_is_short_and_readable(tmp_path, finished_study):
    """A cached tiny transfer: stdout is the file written and a summary; no log dicts, no bars."""
    from .conftest import CLI_TRAIN

    study = finished_study.copy(tmp_path)
    result = run_cli("transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli", "--languages", "de",
                     "--seeds", "1", "--data-dir", study.data, "--store", study.store, "--max-examples", "12",
                     "--out", tmp_path / "out", *CLI_TRAIN)
    assert result.exit_code == 0, result.output
    out = result.stdout.strip().splitlines()
    assert len(out) == 2 and len(result.stdout) < 200, result.stdout
    assert out[0] == f"wrote {tmp_path / 'out' / 'gains.csv'} (1 row)"
    assert out[1].startswith("done in ") and out[1].endswith("0 runs computed, 5 reused from the store")
    assert "{'loss'" not in result.output and "\r" not in result.output and "WARNING" not in result.output
    assert len(result.stderr) < 500, result.stderr


# ----------------------------------------------------------------------------- 15.7 / 15.8 interface
@pytest.mark.parametrize("width", [80, 120])
def test_tasks_table_fits_the_terminal_and_says_what_is_local(fixture_data, width):
    from taskdiff.cli.tables import tasks_table

    text = tasks_table(fixture_data, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert "yes" in rows["snli"], rows["snli"]
    assert "no" in rows["anli"] and "yes" not in rows["anli"]
    assert ("source" in text.splitlines()[0]) == (width >= 120)


def test_help_is_readable_at_80_columns_and_every_command_documents_verbose():
    from typer.testing import CliRunner

    from taskdiff.cli import app

    for command in ("transfer", "profile", "predict", "report", "study", "status", "tasks", "demo"):
        result = CliRunner().invoke(app, [command, "--help"], terminal_width=80, env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.output.splitlines()) <= 80, command
        assert "-v, --verbose" in result.output and "show library notes" in " ".join(result.output.split()), command
        assert "--no-quiet" not in result.output, command
    text = CliRunner().invoke(app, ["transfer", "--help"], terminal_width=80, env={"COLUMNS": "80"}).output
    assert "…" not in text and "evaluate zero-shot per language" in " ".join(text.split())


def test_status_accepts_a_transfer_out_folder(finished_study):
    result = run_cli("status", finished_study.out, "--store", finished_study.store)
    assert result.exit_code == 0, result.output
    assert "transfer output" in result.stdout and "complete" in result.stdout
    assert "evaluation" in result.stdout and " 2 " in result.stdout


def test_study_options_override_model_seeds_and_max_examples(tmp_path):
    import yaml

    from taskdiff.cli.study import _overrides
    from taskdiff.study.config import load_study

    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "model": "e5-small-offline", "intermediates": ["snli"],
                                    "targets": ["xnli"], "seeds": [1, 2, 3], "max_examples": 100}))
    study = load_study(path, overrides=_overrides(path, "tiny", "7", 5))
    assert study.config.models == ["tiny"] and study.config.seeds == [7] and study.config.max_examples == 5


def test_unknown_language_names_the_tasks_that_have_it_not_a_lookalike(tmp_path, fixture_data):
    result = run_cli("transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli", "--languages", "ja",
                     "--data-dir", fixture_data, "--store", tmp_path / "s", "--out", tmp_path / "o", "--quiet")
    line = assert_one_line_error(result, "--languages", "unknown evaluation language 'ja'", r"no target \(xnli\) declares it",
                                 "pawsx")
    assert "did you mean 'ar'" not in line


# ----------------------------------------------------------------------------- 14.7 --param
def test_param_parsing_is_typed_and_suggests_names():
    from taskdiff.cli.checks import parse_params
    from taskdiff.errors import ConfigError, UnknownNameError

    assert parse_params(["probing.mdl=true", "probing.layers=[1, 2]", "vinfo.null_model=prior"]) == {
        "probing": {"mdl": True, "layers": [1, 2]}, "vinfo": {"null_model": "prior"}}
    assert parse_params(["baseline_loss.budget.epochs=2"]) == {"baseline_loss": {"budget": {"epochs": 2}}}
    assert parse_params(["probing.test_fraction=1"]) == {"probing": {"test_fraction": 1.0}}
    with pytest.raises(UnknownNameError, match="did you mean 'mdl'"):
        parse_params(["probing.mld=true"])
    with pytest.raises(UnknownNameError, match="did you mean 'probing'"):
        parse_params(["probin.mdl=true"])
    with pytest.raises(ConfigError, match="expected true or false, found 'maybe'"):
        parse_params(["probing.mdl=maybe"])
    with pytest.raises(ConfigError, match="expected an integer"):
        parse_params(["probing.batch_size=8.5"])
    with pytest.raises(ConfigError, match="MEASURE.SETTING=VALUE"):
        parse_params(["mdl=true"])


def test_param_reaches_the_measure_and_its_cache_key(tmp_path, fixture_data):
    from taskdiff.cli.checks import parse_params
    from taskdiff.difficulty.api import _measure_list

    (probing,) = _measure_list(["probing"], parse_params(["probing.mdl=true", "probing.max_sentences=50"]))
    assert probing.mdl is True and probing.max_sentences == 50
    start = time.monotonic()
    result = run_cli("profile", "snli", "--model", "tiny", "--data-dir", fixture_data, "--store", tmp_path / "s",
                     "--param", "probing.mld=true", "--quiet")
    assert_one_line_error(result, "unknown setting of measure 'probing'", "did you mean 'mdl'")
    assert time.monotonic() - start < 5 and not (tmp_path / "s" / "runs").exists()


def test_data_notes_of_other_tasks_are_dropped_and_each_note_shown_once():
    import logging

    from taskdiff.cli.common import _TaskNotes

    notes = _TaskNotes(["snli", "xnli"])

    def record(*args):
        return logging.LogRecord("taskdiff.transfer.data", logging.WARNING, __file__, 1, "task %s, %s/%s: %s",
                                 args, None)

    assert notes.filter(record("xnli", "train", "en", "carved from validation"))
    assert not notes.filter(record("xnli", "train", "en", "carved from validation"))  # once
    assert not notes.filter(record("panx", "evaluation", "sw", "test missing"))  # another task's note
    assert notes.filter(record("snli", "train", "en", "carved from validation"))


def test_study_progress_says_when_a_run_starts_with_elapsed_time_and_eta():
    import io
    from types import SimpleNamespace

    from taskdiff.study.run import _printer

    stream = io.StringIO()
    on_event = _printer(2, stream)
    node = SimpleNamespace(label="intermediate snli seed 1", run_id="intermediate-1")
    on_event("submitted", node, None)
    on_event("done", node, SimpleNamespace(hit=False, seconds=75.0))
    on_event("submitted", node, None)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[0/2] start  intermediate snli seed 1 (elapsed ")
    assert lines[1].startswith("[1/2] done   intermediate snli seed 1 (1m 15s; elapsed ") and "ETA" in lines[1]
    assert "ETA" in lines[2]


def test_a_missing_data_file_is_named(tmp_path, fixture_data):
    data = Path(shutil.copytree(fixture_data, tmp_path / "data"))
    (data / "xtreme" / "xnli" / "dev-de.tsv").unlink()
    result = run_cli("transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli", "--languages", "de",
                     "--seeds", "1", "--data-dir", data, "--store", tmp_path / "s", "--out", tmp_path / "o",
                     "--max-examples", "12", "--quiet")
    assert_one_line_error(result, "task 'xnli'", r"expected .*xtreme/xnli/dev-de\.tsv")
    assert not (tmp_path / "o").exists()
