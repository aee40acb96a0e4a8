"""Task configs: YAML with include:, validation errors, the registry and its suggestions."""

from __future__ import annotations

import pytest

from taskdiff.errors import ConfigError, DuplicateNameError, UnknownNameError
from taskdiff.transfer.tasks import get_task, list_tasks, load_task_file, register_task, register_task_file

BUILTIN = {"xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc", "tatoeba", "xcopa",
           "anli_plus", "mnli", "qqp", "sst2", "squad", "hellaswag", "cosmosqa", "commonsenseqa", "ccg",
           "snli", "siqa", "ud_en_pos"}


def test_every_builtin_task_is_registered_and_valid():
    names = {t.name for t in list_tasks()}
    assert BUILTIN <= names
    assert get_task("xnli").languages[:3] == ["ar", "bg", "de"] and len(get_task("xnli").languages) == 15
    assert len(get_task("panx").languages) == 40 and len(get_task("udpos").languages) == 33
    assert get_task("anli_plus").components == ["anli", "mnli", "snli"]
    assert not get_task("bucc").trainable and get_task("tatoeba").format == "retrieval"


def test_include_inherits_and_overrides():
    xnli = get_task("xnli")  # from _xtreme_target.yaml
    assert xnli.role == "target" and xnli.split_fallbacks == {"test": "validation"}
    snli = get_task("snli")  # _nli.yaml -> _english_intermediate.yaml, then overridden
    assert snli.role == "intermediate" and snli.labels == ["entailment", "neutral", "contradiction"]
    assert snli.split_fallbacks["train"] == "validation"


def test_typo_suggests_nearest_name():
    with pytest.raises(UnknownNameError) as info:
        get_task("xnil")
    assert "did you mean 'xnli'" in str(info.value)


def test_user_task_file_with_include_and_relative_root(tmp_path):
    (tmp_path / "base.yaml").write_text("format: classification\nlabels: [neg, pos]\nmetric: accuracy\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "mine.yaml").write_text(
        "include: base.yaml\nname: my_sentiment\nlocal:\n  root: data\n  reader: jsonl\n"
        "  files: {train: train.jsonl}\n")
    cfg = register_task_file(tmp_path / "mine.yaml")
    assert cfg.labels == ["neg", "pos"] and get_task("my_sentiment") == cfg
    assert cfg.local_root(None) == (tmp_path / "data").resolve()


def test_invalid_field_names_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nformat: clasification\nlabels: [a]\nlocal: {reader: jsonl, files: {train: t.jsonl}}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: field 'format'.*clasification"):
        load_task_file(bad)


def test_invalid_yaml_names_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nformat: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: invalid YAML"):
        load_task_file(bad)


def test_yaml_is_read_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError):
        load_task_file(evil)


def test_paths_cannot_escape_the_task_file_directory(tmp_path):
    f = tmp_path / "escape.yaml"
    f.write_text("name: esc\nformat: classification\nlabels: [a]\n"
                 "local: {root: ../../etc, reader: jsonl, files: {train: passwd}}\n")
    cfg = load_task_file(f)
    with pytest.raises(ConfigError, match="escapes"):
        cfg.local_root(None)
    g = tmp_path / "inc.yaml"
    g.write_text("include: ../../outside.yaml\nname: y\n")
    with pytest.raises(ConfigError, match="escapes"):
        load_task_file(g)


def test_include_cycle_is_reported(tmp_path):
    (tmp_path / "a.yaml").write_text("include: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("include: a.yaml\n")
    with pytest.raises(ConfigError, match="include cycle"):
        load_task_file(tmp_path / "a.yaml")


def test_user_task_file_includes_a_builtin_base(tmp_path):
    (tmp_path / "mine.yaml").write_text(
        "include: builtin:_nli.yaml\nname: my_nli\nlocal: {root: data, reader: jsonl, files: {train: t.jsonl}}\n")
    cfg = load_task_file(tmp_path / "mine.yaml")  # _nli.yaml includes _english_intermediate.yaml in turn
    assert cfg.labels == ["entailment", "neutral", "contradiction"] and cfg.role == "intermediate"
    assert cfg.split_fallbacks == {"test": "validation"} and cfg.base_dir == str(tmp_path.resolve())
    (tmp_path / "snli_copy.yaml").write_text("include: builtin:snli.yaml\nname: snli_copy\n")
    assert load_task_file(tmp_path / "snli_copy.yaml").hub == get_task("snli").hub
    for bad, message in (("builtin:../registry.py", "escapes"), ("builtin:/etc/passwd", "absolute"),
                         ("builtin:no_such_base.yaml", "cannot read")):
        (tmp_path / "bad.yaml").write_text(f"include: {bad!r}\nname: z\n")
        with pytest.raises(ConfigError, match=message):
            load_task_file(tmp_path / "bad.yaml")


def test_published_stats_are_metadata_outside_every_run_key():
    from taskdiff.provenance import task_ref  # the task part of every run key

    snli, hellaswag = get_task("snli"), get_task("hellaswag")
    assert (snli.stats.train_examples, snli.stats.eval_examples, snli.stats.tokens_per_example) == (549_367, 9_824, 30)
    assert hellaswag.stats.choices == 4 and snli.stats.choices == 1 and get_task("anli_plus").stats is None
    assert "stats" not in snli.model_dump() and "stats" not in snli.model_dump(mode="json")
    bare = snli.model_copy(update={"stats": None})
    assert task_ref(snli) == task_ref(bare)


def test_a_task_name_is_taken_once():
    snli = get_task("snli")
    register_task(snli.model_copy())  # an equal config again: accepted
    with pytest.raises(DuplicateNameError, match="task 'snli' is already registered.*overwrite=True"):
        register_task(snli.model_copy(update={"max_length": 64}))
    assert get_task("snli") is snli


def test_tiny_model_tokenizer_knows_its_vocabulary(tmp_path):
    from taskdiff.transfer.models import load_tokenizer, resolve_model

    tok = load_tokenizer(resolve_model("tiny", tmp_path))
    assert len(tok) > 1000
    pieces = tok.tokenize("the man saw Zürich")
    assert "[UNK]" not in pieces and pieces[:2] == ["the", "man"]
