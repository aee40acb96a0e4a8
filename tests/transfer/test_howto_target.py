"""docs/howto.md, "How to add a target task": one YAML file and its data, no code.

A user's task file includes the built-in XTREME target base (``include:
builtin:_xtreme_target.yaml``: role target, English training, zero-shot test with a
validation fallback), reads JSON lines next to it, and ``taskdiff transfer --task-file``
evaluates it as a target in every language it lists.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from taskdiff.transfer.tasks import get_task, register_task_file

TASK_FILE = """\
include: builtin:_xtreme_target.yaml
name: howto_sentix
format: classification
labels: [neg, pos]
languages: [en, de, sw]
metric: accuracy
local:
  root: data
  reader: jsonl
  files: {train: train-en.jsonl, validation: "dev-{lang}.jsonl", test: "test-{lang}.jsonl"}
  options: {columns: {id: uid, text: review, label: polarity}}
"""


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory):
    """The fixture data of the intermediate task (SNLI)."""
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=16, n_eval=4, languages=("en", "de"))


def _write_task(tmp_path):
    words = {"pos": ["good", "great", "fine"], "neg": ["bad", "awful", "poor"]}
    data = tmp_path / "task" / "data"
    data.mkdir(parents=True)

    def write(name, lang, n):
        rows = [{"uid": f"{name[:3]}{i}", "review": f"{lang} " + " ".join(words[y] * 2), "polarity": y}
                for i, y in enumerate(["pos", "neg"] * (n // 2))]
        (data / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    write("train-en.jsonl", "en", 16)
    for lang in ("en", "de", "sw"):
        write(f"dev-{lang}.jsonl", lang, 6)
        write(f"test-{lang}.jsonl", lang, 6)
    path = tmp_path / "task" / "howto_sentix.yaml"
    path.write_text(TASK_FILE, encoding="utf-8")
    return path


def test_a_task_file_including_the_xtreme_base_is_a_target(tmp_path, fixture_data):
    from taskdiff.cli import app

    path = _write_task(tmp_path)
    task = register_task_file(path)
    assert (task.role, task.train_language, task.split_fallbacks) == ("target", "en", {"test": "validation"})
    assert get_task("howto_sentix").role == "target"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "transfer", "--task-file", str(path), "--target", "howto_sentix", "--intermediate", "snli",
        "--model", "tiny", "--seeds", "1", "--epochs", "1", "--max-examples", "16", "-q",
        "--data-dir", str(fixture_data), "--out", str(out), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    gains = pd.read_csv(out / "gains.csv")
    assert set(gains["target"]) == {"howto_sentix"}
    assert sorted(gains["language"]) == ["de", "en", "sw"] and (gains["metric"] == "accuracy").all()
