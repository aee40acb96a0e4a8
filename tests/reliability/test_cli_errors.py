"""Bad names, options and task files through the CLI: one line, exit 2, a suggestion, no work.

Protections under test: :class:`~taskdiff.errors.UnknownNameError` suggestions (tasks,
metrics, readers, models, measures, languages), task-file validation
(:mod:`taskdiff.transfer.tasks.config`), the pipeline's up-front checks, and the CLI's
one-line handler (also for option values that fail validation).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_one_line_error, run_cli

GOOD_TASK = ("format: classification\nlabels: [neg, pos]\nrole: target\nlanguages: [en, de]\n"
             "local: {root: data, reader: jsonl, files: {train: 'train-{lang}.jsonl', test: 'test-{lang}.jsonl'},"
             " options: {columns: {text: text, label: label}}}\n")


def _task(tmp_path: Path, name: str, text: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for f in ("train-en.jsonl", "test-en.jsonl", "test-de.jsonl"):
        (data / f).write_text("".join(f'{{"text": "t{i}", "label": "{"neg pos".split()[i % 2]}"}}\n' for i in range(6)))
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def _transfer(tmp_path: Path, *args: str, model: str = "tiny", inter: str = "snli", target: str = "xnli"):
    return run_cli("transfer", "--model", model, "--intermediate", inter, "--target", target, "--languages", "de",
                   "--seeds", "1", "--store", tmp_path / "store", "--out", tmp_path / "out", "--quiet", *args)


def _no_runs(tmp_path: Path) -> bool:
    runs = tmp_path / "store" / "runs"
    return not runs.exists() or not [p for p in runs.iterdir() if p.is_dir()]


@pytest.mark.parametrize("inter,target,wrong,right", [("snil", "xnli", "snil", "snli"),
                                                       ("snli", "xnil", "xnil", "xnli")])
def test_unknown_task_suggests_the_nearest(tmp_path, inter, target, wrong, right):
    result = _transfer(tmp_path, inter=inter, target=target)
    assert_one_line_error(result, f"unknown task '{wrong}'", f"did you mean '{right}'")
    assert _no_runs(tmp_path)


def test_unknown_metric_in_a_task_file_fails_before_training(tmp_path):
    task = _task(tmp_path, "m", "name: rel_bad_metric\nmetric: acuracy\n" + GOOD_TASK)
    result = _transfer(tmp_path, "--task-file", str(task), target="rel_bad_metric", inter="rel_bad_metric")
    assert_one_line_error(result, "task 'rel_bad_metric': field 'metric'", "unknown metric 'acuracy'",
                          "did you mean 'accuracy'")
    assert _no_runs(tmp_path)


def test_unknown_reader_in_a_task_file_suggests_the_nearest(tmp_path):
    task = _task(tmp_path, "r", "name: rel_bad_reader\n" + GOOD_TASK.replace("reader: jsonl", "reader: jsonll"))
    result = _transfer(tmp_path, "--task-file", str(task), target="rel_bad_reader", inter="rel_bad_reader")
    assert_one_line_error(result, "unknown reader 'jsonll'", "did you mean 'jsonl'")
    assert _no_runs(tmp_path)


def test_unknown_model_suggests_the_nearest_and_starts_no_run(tmp_path, fixture_data):
    result = _transfer(tmp_path, "--data-dir", str(fixture_data), "--max-examples", "12", model="tinny")
    assert_one_line_error(result, "model 'tinny'", "expected a built-in model", "did you mean 'tiny'")
    assert _no_runs(tmp_path)
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    result = _transfer(tmp_path, "--data-dir", str(fixture_data), model=str(empty))
    assert_one_line_error(result, "empty-folder", "config.json")
    assert _no_runs(tmp_path)


def test_unknown_measure_suggests_the_nearest(tmp_path, fixture_data):
    pytest.importorskip("taskdiff.difficulty.api")
    result = run_cli("profile", "snli", "--model", "tiny", "--measures", "vinfoo", "--data-dir", fixture_data,
                     "--store", tmp_path / "store", "--quiet")
    assert_one_line_error(result, "unknown measure 'vinfoo'", "did you mean 'vinfo'")


TASK_FILE_CASES = {
    "invalid-yaml": ("name: x\nformat: [unclosed\n", [r"broken\.yaml:\d+: invalid YAML"]),
    "not-a-mapping": ("- just\n- a list\n", [r"broken\.yaml: expected a YAML mapping of task fields, found list"]),
    "unknown-format": ("name: rel_f\nformat: clasification\nlabels: [a]\nlocal: {reader: jsonl, files: {train: t}}\n",
                       [r"broken\.yaml: field 'format'", "unknown format 'clasification'"]),
    "wrong-type": ("name: rel_t\nmax_length: lots\n" + GOOD_TASK, [r"broken\.yaml: field 'max_length'", "lots"]),
    "misspelt-field": ("name: rel_m\nlables: [a]\n" + GOOD_TASK, [r"broken\.yaml: field 'lables'", "not permitted"]),
    "missing-labels": ("name: rel_l\nformat: classification\nlocal: {reader: jsonl, files: {train: t}}\n",
                       [r"broken\.yaml", "needs 'labels'"]),
    "python-tag": ("name: !!python/object/apply:os.system ['echo pwned']\n", [r"broken\.yaml:\d+: invalid YAML"]),
    "include-escapes": ("include: ../../../etc/passwd\nname: rel_e\n", ["escapes its base directory"]),
}


@pytest.mark.parametrize("case", sorted(TASK_FILE_CASES))
@pytest.mark.parametrize("command", ["tasks", "transfer"])
def test_invalid_task_file_is_one_line(tmp_path, case, command):
    text, patterns = TASK_FILE_CASES[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    if command == "tasks":
        result = run_cli("tasks", "--task-file", path)
    else:
        result = _transfer(tmp_path, "--task-file", str(path))
    assert_one_line_error(result, *patterns)
    assert _no_runs(tmp_path)


def test_missing_task_file_is_one_line(tmp_path):
    assert_one_line_error(run_cli("tasks", "--task-file", tmp_path / "nope.yaml"), r"nope\.yaml: cannot read task file")


@pytest.mark.parametrize("args,patterns", [
    (["--seeds", "1,x"], ["--seeds", "expected integers", "'x'"]),
    (["--precision", "fp64"], ["precision", "fp64"]),
    (["--lr", "-1"], ["learning_rate", "greater than 0", "-1"]),
    (["--epochs", "0"], ["epochs", "greater than 0"]),
    (["--batch-size", "0"], ["batch_size", "greater than 0"]),
])
def test_invalid_option_values_are_one_line(tmp_path, args, patterns):
    assert_one_line_error(_transfer(tmp_path, *args), *patterns)
    assert _no_runs(tmp_path)
