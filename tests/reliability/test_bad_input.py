"""Bad data, end to end through the CLI: one clear line, exit status 2, finished runs untouched.

Every case is a user task (``--task-file``) whose files in ``tmp_path`` are broken in one
way. The error must name the file (and line or field), say what was expected and what was
found, come before any training (the pipeline reads every role up front), and leave the
finished runs of the store exactly as they were.

Protections under test: the readers' :class:`~taskdiff.errors.DataError`, the pipeline's
up-front loading and checks, the CLI's one-line error handler, the declared-label check of
tagging files, QA windowing over long contexts.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import (CLI_TRAIN, MAX_EXAMPLES, PYTHON, assert_one_line_error, attempts, child_env, run_cli,
                       snapshot)

# --------------------------------------------------------------------------- user tasks
COMMON = "role: target\nlanguages: [en, de, fr]\neval_split: test\n"
TASKS = {
    "jsonl": ("format: classification\nlabels: [neg, pos]\n"
              "local: {root: data, reader: jsonl,"
              " files: {train: 'train-{lang}.jsonl', test: 'test-{lang}.jsonl'},"
              " options: {columns: {text: text, label: label}}}\n"),
    "csv": ("format: classification\nlabels: [neg, pos]\n"
            "local: {root: data, reader: csv, files: {train: 'train-{lang}.csv', test: 'test-{lang}.csv'},"
            " options: {columns: {id: id, text: text, label: label}}}\n"),
    "tsv": ("format: pair_classification\nlabels: ['0', '1']\n"
            "local: {root: data, reader: tsv, files: {train: 'train-{lang}.tsv', test: 'test-{lang}.tsv'},"
            " options: {header: false, columns: {text_a: 0, text_b: 1, label: 2}}}\n"),
    "conllu": ("format: tagging\nlabels: [DET, NOUN, VERB, PUNCT]\nmetric: pos\n"
               "local: {root: data, reader: conllu,"
               " files: {train: 'train-{lang}.conllu', test: 'test-{lang}.conllu'}}\n"),
    "squad": ("format: extractive_qa\nmetric: squad\n"
              "local: {root: data, reader: squad_json,"
              " files: {train: 'train-{lang}.json', test: 'test-{lang}.json'}}\n"),
}
EXT = {"jsonl": "jsonl", "csv": "csv", "tsv": "tsv", "conllu": "conllu", "squad": "json"}


def good_lines(kind: str, n: int = 6) -> list[str]:
    """The lines of a valid file of ``kind`` with ``n`` examples."""
    if kind == "jsonl":
        return [json.dumps({"text": f"text number {i}", "label": "neg pos".split()[i % 2]}) for i in range(n)]
    if kind == "csv":
        return ["id,text,label"] + [f"{i},text number {i},{'neg pos'.split()[i % 2]}" for i in range(n)]
    if kind == "tsv":
        return [f"a sentence {i}\tanother one {i}\t{i % 2}" for i in range(n)]
    if kind == "conllu":
        lines = []
        for i in range(n):
            lines += [f"# sent_id = s{i}", "1\tthe\tthe\tDET\tDT\t_\t2\tdet\t_\t_",
                      "2\tman\tman\tNOUN\tNN\t_\t3\tnsubj\t_\t_", "3\truns\trun\tVERB\tVBZ\t_\t0\troot\t_\t_",
                      "4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_", ""]
        return lines
    if kind == "squad":
        qas = [{"id": f"q{i}", "question": f"who is number {i} ?",
                "answers": [{"text": "Anna", "answer_start": 0}]} for i in range(n)]
        paragraph = {"context": "Anna sees the ball .", "qas": qas}
        doc = {"version": "1.1", "data": [{"title": "t", "paragraphs": [paragraph]}]}
        return json.dumps(doc, indent=1).split("\n")
    raise ValueError(kind)


def make_task(root: Path, kind: str, name: str, broken: dict[str, str | bytes] | None = None,
              extra_yaml: str = "") -> Path:
    """Write task ``name`` of ``kind`` under ``root`` (train-en, test-en, test-de; no fr file)."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    ext = EXT[kind]
    for split, lang in (("train", "en"), ("test", "en"), ("test", "de")):
        (data / f"{split}-{lang}.{ext}").write_text("\n".join(good_lines(kind)) + "\n", encoding="utf-8")
    for file, content in (broken or {}).items():
        (data / file).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    task_file = root / f"{name}.yaml"
    task_file.write_text(f"name: {name}\n{COMMON}{TASKS[kind]}{extra_yaml}", encoding="utf-8")
    return task_file


def with_line(kind: str, number: int, line: str) -> str:
    """A valid file of ``kind`` whose 1-based line ``number`` is replaced by ``line``."""
    lines = good_lines(kind)
    lines[number - 1] = line
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory, finished_study):
    """A copy of the finished study's store: every case below must leave it as it is."""
    return finished_study.copy(tmp_path_factory.mktemp("bad-input")).store


def transfer(store: Path, data: Path, task_file: Path | None, target: str, languages: str = "de", *extra):
    args = ["transfer", "--model", "tiny", "--intermediate", "snli", "--target", target, "--languages", languages,
            "--seeds", "1", "--data-dir", data, "--max-examples", MAX_EXAMPLES, "--store", store,
            "--out", store.parent / "out", "--quiet", *CLI_TRAIN, *extra]
    if task_file is not None:
        args += ["--task-file", task_file]
    return run_cli(*args)


LATIN1 = (good_lines("jsonl")[0] + "\n").encode() + '{"text": "Grüße", "label": "pos"}\n'.encode("latin-1")
NINE_COLUMNS = "2\tman\tman\tNOUN\tNN\t_\t3\tnsubj\t_"
ADJ_TOKEN = "3\truns\trun\tADJ\tVBZ\t_\t0\troot\t_\t_"
BAD_SQUAD_SPAN = "\n".join(good_lines("squad")).replace('"answer_start": 0', '"answer_start": 5', 1) + "\n"
CASES = {
    # name: (kind, broken files, languages, patterns the one error line must match)
    "jsonl-malformed": ("jsonl", {"test-de.jsonl": with_line("jsonl", 3, '{"text": "gut", "label": "pos"')}, "de",
                        [r"test-de\.jsonl:3:", "expected a JSON object", "found invalid JSON"]),
    "jsonl-latin1": ("jsonl", {"test-de.jsonl": LATIN1}, "de",
                     [r"test-de\.jsonl:2:", "expected UTF-8 text", r"found undecodable bytes b'\\xfc"]),
    "jsonl-label-outside-set": ("jsonl", {"test-de.jsonl": with_line("jsonl", 4, '{"text": "x", "label": "neutral"}')},
                                "de", [r"test-de\.jsonl:4 \(field 'label'\)", r"expected one of \['neg', 'pos'\]",
                                       "found 'neutral'"]),
    "jsonl-missing-field": ("jsonl", {"train-en.jsonl": with_line("jsonl", 2, '{"text": "no label"}')}, "de",
                            [r"train-en\.jsonl:2", "label", "expected", "found"]),
    "jsonl-empty-split": ("jsonl", {"test-de.jsonl": ""}, "de",
                          [r"test-de\.jsonl: expected at least one example, found an empty file"]),
    "jsonl-blank-lines-only": ("jsonl", {"test-de.jsonl": "\n\n  \n"}, "de",
                               [r"test-de\.jsonl: expected at least one example"]),
    "declared-language-without-file": ("jsonl", {}, "fr",
                                       [r"no test file for language 'fr'", "under .*data"]),
    "csv-extra-column": ("csv", {"test-de.csv": with_line("csv", 3, "2,text,pos,surplus")}, "de",
                         [r"test-de\.csv:3:", "expected 3 csv columns", "found 4 columns"]),
    "csv-unclosed-quote": ("csv", {"test-de.csv": with_line("csv", 7, '6,"never closed,pos')}, "de",
                           [r"test-de\.csv:\d+:", "expected well-formed delimited text", "found .*"]),
    "tsv-missing-column": ("tsv", {"test-de.tsv": with_line("tsv", 2, "only\ttwo")}, "de",
                           [r"test-de\.tsv:2:", "expected 3 tsv columns", "found 2 columns"]),
    "tsv-label-outside-set": ("tsv", {"train-en.tsv": with_line("tsv", 5, "a\tb\t2")}, "de",
                              [r"train-en\.tsv:5 \(field '2'\)", r"expected one of \['0', '1'\]", "found '2'"]),
    "conllu-nine-columns": ("conllu", {"test-de.conllu": with_line("conllu", 9, NINE_COLUMNS)}, "de",
                            [r"test-de\.conllu:9:", "expected 10 tab-separated CoNLL-U columns", "found 9 columns"]),
    "conllu-tag-outside-set": ("conllu", {"test-de.conllu": with_line("conllu", 10, ADJ_TOKEN)}, "de",
                               [r"test-de\.conllu:10 \(field 'upos'\)", r"expected one of \['DET', 'NOUN'",
                                "found 'ADJ'"]),
    "squad-invalid-json": ("squad", {"test-de.json": with_line("squad", 4, '  "data": [,')}, "de",
                           [r"test-de\.json:4:", "expected a SQuAD JSON document", "found invalid JSON"]),
    "squad-answer-not-in-context": ("squad", {"test-de.json": BAD_SQUAD_SPAN}, "de",
                                    [r"test-de\.json:1 \(field 'data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers'\)",
                                     "expected answer text 'Anna' at answer_start 5", "found 'sees' there"]),
    "squad-missing-question": ("squad", {"train-en.json": "\n".join(good_lines("squad")).replace(
        '"question": "who is number 2 ?",', "", 1) + "\n"}, "de",
                               [r"train-en\.json:3 \(field 'data\[0\]\.paragraphs\[0\]\.qas\[2\]\.question'\)",
                                "expected a key 'question'", "found none"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_data_is_one_line_exit_2_and_touches_nothing(case, tmp_path, store, fixture_data):
    kind, broken, languages, patterns = CASES[case]
    name = "rel_" + case.replace("-", "_")
    task_file = make_task(tmp_path, kind, name, broken)
    before, runs = snapshot(store), sorted(p.name for p in (store / "runs").iterdir())
    result = transfer(store, fixture_data, task_file, name, languages)
    assert_one_line_error(result, *patterns)
    assert snapshot(store) == before and sorted(p.name for p in (store / "runs").iterdir()) == runs


def test_the_good_versions_of_the_case_files_are_valid(tmp_path):
    """The cases above fail for their one defect only."""
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import register_task_file

    for kind in TASKS:
        task = register_task_file(make_task(tmp_path / kind, kind, f"rel_good_{kind}"))
        assert len(load_role(task, "train", "en").rows) == 6
        assert len(load_role(task, "evaluation", "de").rows) == 6


def test_undeclared_language_is_an_error_not_an_empty_table(tmp_path, store, fixture_data):
    result = transfer(store, fixture_data, None, "xnli", "xx")
    assert_one_line_error(result, "unknown evaluation language", "'xx'", "known: ar, bg, de")
    result = transfer(store, fixture_data, None, "xnli", "dee")
    assert_one_line_error(result, "did you mean 'de'")


def _cli_process(store: Path, data: Path, out: Path) -> tuple[int, str]:
    """``python -m taskdiff.cli transfer ...`` as a real process: (exit status, stderr)."""
    args = [PYTHON, "-m", "taskdiff.cli", "transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli",
            "--languages", "de", "--seeds", "1", "--data-dir", str(data), "--max-examples", str(MAX_EXAMPLES),
            "--store", str(store), "--out", str(out), "--quiet", *CLI_TRAIN]
    proc = subprocess.run(args, env=child_env(), capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("process", ["in-process", pytest.param("real-process", marks=pytest.mark.slow)])
def test_broken_file_of_a_finished_study(tmp_path, finished_study, process):
    """The finished study's own German file is broken: ``taskdiff transfer`` reports it on one
    stderr line (no traceback, exit 2) and the finished runs stay exactly as they were; once
    the file is repaired, the rerun is a pure cache hit."""
    study = finished_study.copy(tmp_path, data=True)
    target = study.data / "xtreme" / "xnli" / "dev-de.tsv"
    good = target.read_bytes()
    lines = good.split(b"\r\n")
    lines[4] = b"a premise without hypothesis or label"
    target.write_bytes(b"\r\n".join(lines))
    before, runs_before = snapshot(study.store), attempts(study.store)
    if process == "real-process":
        status, stderr = _cli_process(study.store, study.data, tmp_path / "out")
        assert status == 2, stderr
        # split-plan notes are logged as WARNING lines; the error itself is one line, the last
        err = [line for line in stderr.splitlines() if line.strip() and not line.startswith("WARNING ")]
        assert len(err) == 1 and "Traceback" not in stderr and stderr.strip().splitlines()[-1] == err[0], stderr
        assert err[0].startswith("taskdiff: error: ")
        line = err[0]
    else:
        line = assert_one_line_error(transfer(study.store, study.data, None, "xnli", "de"))
    assert "dev-de.tsv:5: expected 3 tsv columns, found 1 columns" in line
    assert snapshot(study.store) == before and attempts(study.store) == runs_before
    assert not (study.store.parent / "out" / "gains.csv").exists() and not (tmp_path / "out" / "gains.csv").exists()

    target.write_bytes(good)  # repaired: nothing is rerun
    result = transfer(study.store, study.data, None, "xnli", "de")
    assert result.exit_code == 0, result.output
    assert snapshot(study.store) == before and attempts(study.store) == runs_before


# --------------------------------------------------------------------------- over-long inputs
def _long_qa_row(tail_words: int = 400) -> dict:
    filler = " ".join(["the man sees the ball ."] * (tail_words // 6))
    answer = "Omar Kato"
    context = f"{filler} Then {answer} opened the door ."
    return {"id": "long", "question": "who opened the door ?", "context": context,
            "answers": {"text": [answer], "answer_start": [context.index(answer)]}}


def test_qa_answer_beyond_the_first_window_is_found(tiny_path):
    """Long QA contexts are windowed, not truncated: the answer in a later window is trained
    on (its window points at it) and decoded back to the exact text."""
    import numpy as np

    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import load_tokenizer

    fmt, tok, row = get_format("extractive_qa"), load_tokenizer(tiny_path), _long_qa_row()
    max_length = 64
    enc = fmt.encode([row], tok, None, max_length, train=True)
    assert len(enc.features) > 3 and all(len(f["input_ids"]) <= max_length for f in enc.features)
    pointing = [k for k, f in enumerate(enc.features) if f["start_positions"] != 0]
    assert pointing and 0 not in pointing  # the first window does not hold the answer
    k = pointing[-1]
    f, offsets = enc.features[k], enc.extras[k]["offsets"]
    s, e = f["start_positions"], f["end_positions"]
    assert row["context"][offsets[s][0]:offsets[e][1]] == "Omar Kato"
    # decoding: logits that point at the answer in that window only
    n = max(len(x["input_ids"]) for x in enc.features)
    start, end = np.full((len(enc.features), n), -5.0), np.full((len(enc.features), n), -5.0)
    start[k, s], end[k, e] = 5.0, 5.0
    assert fmt.decode({"start_logits": start, "end_logits": end}, enc, [row], None) == ["Omar Kato"]


def test_over_long_classification_text_is_truncated_to_max_length(tiny_path):
    """Documented behaviour (docs/guarantees.md): classification inputs are cut at the task's
    ``max_length`` (the end of the text is dropped), not refused and not windowed."""
    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import load_tokenizer

    fmt, tok = get_format("pair_classification"), load_tokenizer(tiny_path)
    long = " ".join(["the man sees the ball ."] * 200)
    enc = fmt.encode([{"id": "1", "text_a": long, "text_b": long, "label": "b"}], tok, ["a", "b"], 48, train=True)
    ids = enc.features[0]["input_ids"]
    assert len(ids) == 48 and ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert ids.count(tok.sep_token_id) == 2  # both texts kept, each shortened
