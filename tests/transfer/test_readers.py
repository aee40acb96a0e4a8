"""Readers: known-answer reads of hand-written files, every error case, and fuzzing.

The fuzz tests assert the reader contract: any input gives canonical rows or a DataError,
never another exception.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdiff.errors import ConfigError, DataError, DuplicateNameError, UnknownNameError
from taskdiff.transfer.readers import (
    READERS, get_reader, read_conllu_sentences, read_xtreme, register_reader, xtreme_files,
)
from taskdiff.transfer.formats import format_names, get_format

FORMATS = {name: get_format(name).columns for name in format_names()}

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NLI = {"format": "pair_classification", "columns": {"text_a": "s1", "text_b": "s2", "label": "y"}}


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def assert_canonical(rows: list[dict], fmt: str, spans: bool = True) -> None:
    """An independent check of the schema (not the readers' own validator)."""
    assert rows
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    for row in rows:
        assert tuple(row) == FORMATS[fmt] and isinstance(row["id"], str)
        if fmt in ("classification", "pair_classification"):
            assert all(isinstance(row[c], str) for c in row)
        elif fmt == "tagging":
            assert len(row["tokens"]) == len(row["tags"]) > 0
            assert all(isinstance(t, str) for t in row["tokens"] + row["tags"])
        elif fmt == "extractive_qa":
            ans = row["answers"]
            for text, start in zip(ans["text"], ans["answer_start"], strict=True):
                assert isinstance(text, str) and type(start) is int
                assert not spans or row["context"][start:start + len(text)] == text
        elif fmt == "multiple_choice":
            assert all(isinstance(c, str) for c in row["choices"])
            assert type(row["label"]) is int and 0 <= row["label"] < len(row["choices"])
        elif fmt == "retrieval":
            assert row["side"] in ("source", "target") and isinstance(row["gold"], str)


def raises_at(func, *args, line=None, field=None, match=None, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        func(*args, **kwargs)
    err, msg = info.value, str(info.value)
    assert err.path in msg
    if line is not None:
        assert err.line == line and f":{line}" in msg
    if field is not None:
        assert err.field == field and repr(field) in msg
    if match is not None:
        assert match in msg, msg
    return err


# --------------------------------------------------------------------------- registry
def test_registry_lists_builtin_readers_and_suggests_names():
    assert {"jsonl", "csv", "tsv", "conllu", "token_tsv", "squad_json", "bucc", "tatoeba"} <= set(READERS)
    with pytest.raises(UnknownNameError, match="did you mean 'jsonl'"):
        get_reader("jsnl")


def test_register_reader_refuses_a_second_function_under_a_taken_name():
    with pytest.raises(DuplicateNameError, match="reader 'jsonl' is already registered"):
        register_reader("jsonl")(lambda path: [])
    assert register_reader("jsonl")(get_reader("jsonl")) is get_reader("jsonl")  # the same one again: a no-op


def test_invalid_options_are_config_errors(tmp_path):
    path = write(tmp_path / "a.jsonl", '{"s1": "a", "s2": "b", "y": "x"}\n')
    with pytest.raises(ConfigError, match="format"):
        get_reader("jsonl")(path, format="nope", columns={})
    with pytest.raises(ConfigError, match="text_b"):
        get_reader("jsonl")(path, format="pair_classification", columns={"text_a": "s1", "label": "y"})
    with pytest.raises(ConfigError, match="colums"):
        get_reader("jsonl")(path, **NLI, colums={})


# --------------------------------------------------------------------------- jsonl
def test_jsonl_known_answer_with_drop_maps_nested_and_list_specs(tmp_path):
    lines = [
        {"q": {"stem": "Where?", "choices": [{"text": "park"}, {"text": "home"}]}, "key": "B", "uid": 7},
        {"q": {"stem": "Who?", "choices": [{"text": "me"}, {"text": "you"}]}, "key": "A", "uid": 8, "skip": "-"},
        {"q": {"stem": "What?", "choices": [{"text": "x"}, {"text": "y"}]}, "key": "A", "uid": 9},
    ]
    path = write(tmp_path / "d.jsonl", "".join(json.dumps(x) + "\n" for x in lines) + "\n")
    rows = get_reader("jsonl")(path, format="multiple_choice", label_map={"A": 0, "B": 1}, drop={"skip": ["-"]},
                               columns={"id": "uid", "question": "q.stem", "choices": "q.choices.text", "label": "key"},
                               id_prefix="cs-")
    assert rows == [
        {"id": "cs-7", "context": "", "question": "Where?", "choices": ["park", "home"], "label": 1},
        {"id": "cs-9", "context": "", "question": "What?", "choices": ["x", "y"], "label": 0},
    ]


def test_jsonl_ids_default_to_line_index_and_maps_translate_values(tmp_path):
    recs = [{"p": "P", "a": "x", "b": "y", "q": "cause", "label": 1}, {"p": "Q", "a": "u", "b": "v", "q": "effect", "label": 0}]
    path = write(tmp_path / "c.jsonl", "\n".join(json.dumps(r) for r in recs))
    rows = get_reader("jsonl")(path, format="multiple_choice", maps={"question": {"cause": "Why?", "effect": "Then?"}},
                               columns={"context": "p", "question": "q", "choices": ["a", "b"], "label": "label"})
    assert [r["id"] for r in rows] == ["0", "1"] and rows[0]["question"] == "Why?" and rows[0]["choices"] == ["x", "y"]


def test_jsonl_integer_labels_become_strings_and_label_map_keys_match_numbers(tmp_path):
    path = write(tmp_path / "n.jsonl", '{"s1": "a", "s2": "b", "y": 1}\n{"s1": "c", "s2": "d", "y": 0}\n')
    assert [r["label"] for r in get_reader("jsonl")(path, **NLI)] == ["1", "0"]
    rows = get_reader("jsonl")(path, **NLI, label_map={1: "entailment", "0": "neutral"})
    assert [r["label"] for r in rows] == ["entailment", "neutral"]


@pytest.mark.parametrize("content, line, field, match", [
    ('{"s1": "a", "s2": "b", "y": "e"}\n{"s1": "a", "s2"\n', 2, None, "invalid JSON"),
    ('{"s1": "a", "s2": "b", "y": "e"}\n[1, 2]\n', 2, None, "JSON object"),
    ('{"s1": "a", "s2": "b", "y": "e"}\n\n{"s1": "a", "y": "e"}\n', 3, "s2", "a field 's2'"),
    ('{"s1": "a", "s2": 5, "y": "e"}\n', 1, "s2", "a string"),
    ('{"s1": "a", "s2": "b", "y": "maybe"}\n', 1, "y", "one of ['e', 'n']"),
    ('{"s1": "a", "s2": "b", "y": ["e"]}\n', 1, "y", "expected a string, found list"),
])
def test_jsonl_errors_name_file_line_and_field(tmp_path, content, line, field, match):
    path = write(tmp_path / "bad.jsonl", content)
    raises_at(get_reader("jsonl"), path, **NLI, labels=["e", "n"], line=line, field=field, match=match)


def test_jsonl_unmapped_value_and_duplicate_id(tmp_path):
    path = write(tmp_path / "m.jsonl", '{"s1": "a", "s2": "b", "y": "e"}\n{"s1": "a", "s2": "b", "y": "z"}\n')
    raises_at(get_reader("jsonl"), path, **NLI, label_map={"e": "entailment"}, line=2, field="y", match="label map")
    dup = write(tmp_path / "d.jsonl", '{"i": "x", "s1": "a", "s2": "b", "y": "e"}\n' * 2)
    opts = {**NLI, "columns": {**NLI["columns"], "id": "i"}}
    raises_at(get_reader("jsonl"), dup, **opts, line=2, field="id", match="duplicate id 'x'")


def test_undecodable_bytes_name_the_line(tmp_path):
    path = write(tmp_path / "u.jsonl", b'{"s1": "a", "s2": "b", "y": "e"}\n{"s1": "\xff"}\n')
    raises_at(get_reader("jsonl"), path, **NLI, line=2, match="UTF-8")


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_empty_files_are_data_errors(tmp_path, content):
    path = write(tmp_path / "e.jsonl", content)
    raises_at(get_reader("jsonl"), path, **NLI, match="expected at least one example")


def test_all_rows_dropped_and_missing_file(tmp_path):
    path = write(tmp_path / "s.jsonl", '{"s1": "a", "s2": "b", "y": "-"}\n')
    raises_at(get_reader("jsonl"), path, **NLI, drop={"y": ["-"]}, match="1 dropped")
    raises_at(get_reader("jsonl"), tmp_path / "absent.jsonl", **NLI, match="readable file")


# --------------------------------------------------------------------------- csv / tsv
def test_tsv_without_header_crlf_and_bare_quotes(tmp_path):
    path = write(tmp_path / "dev-en.tsv", 'He said "hi\tA "quote\tneutral\r\nx\ty\tentailment\r\n')
    rows = get_reader("tsv")(path, format="pair_classification", header=False,
                             columns={"text_a": 0, "text_b": 1, "label": 2}, labels=["neutral", "entailment"])
    assert rows == [{"id": "0", "text_a": 'He said "hi', "text_b": 'A "quote', "label": "neutral"},
                    {"id": "1", "text_a": "x", "text_b": "y", "label": "entailment"}]


def test_csv_with_header_quoted_commas_and_digit_labels(tmp_path):
    path = write(tmp_path / "valid.csv", 'id,context,question,a0,a1,label\nq1,"a, b",why?,x,"y ""z""",1\n')
    rows = get_reader("csv")(path, format="multiple_choice",
                             columns={"id": "id", "context": "context", "question": "question",
                                      "choices": ["a0", "a1"], "label": "label"})
    assert rows == [{"id": "q1", "context": "a, b", "question": "why?", "choices": ["x", 'y "z"'], "label": 1}]


def test_delimited_errors(tmp_path):
    tsv = get_reader("tsv")
    opts = {"format": "classification", "header": False, "columns": {"text": 0, "label": 1}}
    raises_at(tsv, write(tmp_path / "a.tsv", "a\t1\nb\t1\textra\n"), **opts, line=2, match="2 tsv columns")
    raises_at(tsv, write(tmp_path / "b.tsv", "a\n"), **opts, line=1, field="1")
    hdr = {"format": "classification", "columns": {"text": "sentence", "label": "label"}}
    raises_at(tsv, write(tmp_path / "c.tsv", "sentence\tlabel\n"), **hdr, match="at least one example")
    raises_at(tsv, write(tmp_path / "d.tsv", "sentence\tlabel\nok\t1\nbad\t2\n"), **hdr, labels=["0", "1"],
              line=3, field="label")
    raises_at(get_reader("csv"), write(tmp_path / "e.csv", 'text,label\n"open,1\n'), format="classification",
              columns={"text": "text", "label": "label"}, match="well-formed")
    raises_at(tsv, write(tmp_path / "f.tsv", "x\tx\n1\t2\n"), **hdr | {"columns": {"text": "x", "label": "x"}},
              line=1, field="x", match="repeated")


# --------------------------------------------------------------------------- conllu
CONLLU = """# sent_id = s1
# text = I don't know.
1\tI\tI\tPRON\tPRP\tCase=Nom|Number=Sing\t4\tnsubj\t4:nsubj\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\tMood=Ind|Tense=Pres\t4\taux\t4:aux\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t4:advmod\t_
4\tknow\tknow\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\t_
4.1\tit\tit\tPRON\tPRP\t_\t_\t_\t4:obj\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_

# text = Go.
1\tGo\tgo\tVERB\tVB\tMood=Imp\t0\troot\t0:root\t_
2\t.\t.\tPUNCT\t.\t_\t1\tpunct\t1:punct\t_
"""


def test_conllu_skips_ranges_and_empty_nodes_and_uses_sent_id(tmp_path):
    path = write(tmp_path / "x.conllu", CONLLU)
    rows = get_reader("conllu")(path)
    assert rows == [{"id": "s1", "tokens": ["I", "do", "n't", "know", "."], "tags": ["PRON", "AUX", "PART", "VERB", "PUNCT"]},
                    {"id": "1", "tokens": ["Go", "."], "tags": ["VERB", "PUNCT"]}]
    assert get_reader("conllu")(path, tag_field="deprel")[1]["tags"] == ["root", "punct"]
    sentences = read_conllu_sentences(path)
    assert len(sentences) == 2 and sentences[0][0]["feats"] == {"Case": "Nom", "Number": "Sing"}


def test_conllu_errors_name_the_line(tmp_path):
    lines = CONLLU.splitlines()
    bad_cols = "\n".join(lines[:3] + ["2\tdo\tdo\tAUX"] + lines[4:])
    raises_at(get_reader("conllu"), write(tmp_path / "a.conllu", bad_cols), line=4, match="10 tab-separated")
    bad_id = CONLLU.replace("5\t.\t.\tPUNCT", "x\t.\t.\tPUNCT")
    raises_at(get_reader("conllu"), write(tmp_path / "b.conllu", bad_id), line=9, match="valid CoNLL-U")
    raises_at(get_reader("conllu"), write(tmp_path / "c.conllu", CONLLU), tag_field="upos", labels=["PRON"],
              line=5, field="upos")
    no_xpos = CONLLU.replace("\tPRP\tCase", "\t_\tCase")
    raises_at(get_reader("conllu"), write(tmp_path / "d.conllu", no_xpos), tag_field="xpos", line=3, field="xpos")
    raises_at(read_conllu_sentences, write(tmp_path / "e.conllu", "# only a comment\n"), match="at least one sentence")


def test_token_tsv_known_answer_and_errors(tmp_path):
    path = write(tmp_path / "dev-de.tsv", "Der\tDET\nHund\tNOUN\n\n\nLäuft\tVERB\n")
    assert get_reader("token_tsv")(path) == [{"id": "0", "tokens": ["Der", "Hund"], "tags": ["DET", "NOUN"]},
                                           {"id": "1", "tokens": ["Läuft"], "tags": ["VERB"]}]
    raises_at(get_reader("token_tsv"), write(tmp_path / "t.tsv", "a\tX\nb\n"), line=2, match="token<TAB>tag")
    raises_at(get_reader("token_tsv"), path, labels=["DET", "NOUN"], line=5, field="tag")


# --------------------------------------------------------------------------- squad
def squad(context: str, answers: list[dict], qid: str = "q1") -> str:
    qa = {"id": qid, "question": "Who?", "answers": answers}
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [qa]}]}]})


def test_squad_json_known_answer(tmp_path):
    path = write(tmp_path / "xquad.de.json", squad("Äpfel von Anna.", [{"text": "Anna", "answer_start": 10}]))
    assert get_reader("squad_json")(path) == [{"id": "q1", "context": "Äpfel von Anna.", "question": "Who?",
                                               "answers": {"text": ["Anna"], "answer_start": [10]}}]


def test_squad_json_errors(tmp_path):
    read = get_reader("squad_json")
    wrong = write(tmp_path / "w.json", squad("Anna ate.", [{"text": "Anna", "answer_start": 3}]))
    raises_at(read, wrong, line=1, field="data[0].paragraphs[0].qas[0].answers", match="check_answers")
    assert read(wrong, check_answers=False)[0]["answers"]["answer_start"] == [3]
    typed = write(tmp_path / "t.json", squad("Anna", [{"text": "Anna", "answer_start": "0"}]))
    raises_at(read, typed, line=1, field="data[0].paragraphs[0].qas[0].answers[0].answer_start", match="integer")
    raises_at(read, write(tmp_path / "s.json", '{"data": [\n{]}'), line=2, match="invalid JSON")
    raises_at(read, write(tmp_path / "k.json", '{"version": 1}'), field="data")
    raises_at(read, write(tmp_path / "e.json", '{"data": []}'), match="expected at least one example")


# --------------------------------------------------------------------------- retrieval
def test_bucc_and_tatoeba_known_answer(tmp_path):
    src = write(tmp_path / "zh-en.dev.zh", 'zh-1\t你好 "\nzh-2\t再见\n')
    write(tmp_path / "zh-en.dev.en", "en-1\tbye\nen-2\tsomething\nen-3\thello\n")
    write(tmp_path / "zh-en.dev.gold", "zh-1\ten-3\n")
    rows = get_reader("bucc")(src)
    assert rows[0] == {"id": "zh-1", "text": '你好 "', "side": "source", "gold": "en-3"}
    assert [r["gold"] for r in rows] == ["en-3", "", "", "", "zh-1"]
    tat = write(tmp_path / "de-en.de", "Hallo\nTschüss\n")
    write(tmp_path / "de-en.en", "Hello\nBye\n")
    assert get_reader("tatoeba")(tat)[1] == {"id": "de-1", "text": "Tschüss", "side": "source", "gold": "en-1"}


def test_retrieval_errors(tmp_path):
    src = write(tmp_path / "zh-en.dev.zh", "zh-1\ta\n")
    write(tmp_path / "zh-en.dev.en", "en-1\tb\nen-2\n")
    raises_at(get_reader("bucc"), src, line=2, match="id<TAB>sentence")
    write(tmp_path / "zh-en.dev.en", "en-1\tb\n")
    raises_at(get_reader("bucc"), src, match="readable file")  # no gold file
    assert get_reader("bucc")(src, require_gold=False)[0]["gold"] == ""
    write(tmp_path / "zh-en.dev.gold", "zh-1\ten-9\n")
    raises_at(get_reader("bucc"), src, line=1, field="target")
    tat = write(tmp_path / "de-en.de", "a\nb\n")
    write(tmp_path / "de-en.en", "a\n")
    raises_at(get_reader("tatoeba"), tat, match="2 lines")


# --------------------------------------------------------------------------- layouts
def test_xtreme_files_and_read_xtreme(tmp_path):
    write(tmp_path / "xtreme/xnli/dev-de.tsv", "a\tb\tcontradictory\n")
    write(tmp_path / "xtreme/bucc2018/zh-en.dev.zh", "zh-1\ta\n")
    write(tmp_path / "xtreme/bucc2018/zh-en.dev.en", "en-1\ta\n")
    write(tmp_path / "xtreme/bucc2018/zh-en.dev.gold", "zh-1\ten-1\n")
    assert xtreme_files("xnli", tmp_path) == {("validation", "de"): tmp_path / "xtreme/xnli/dev-de.tsv"}
    assert list(xtreme_files("bucc2018", tmp_path)) == [("validation", "zh")]
    assert read_xtreme("xnli", tmp_path, "de", "validation")[0]["label"] == "contradiction"
    raises_at(read_xtreme, "xnli", tmp_path, "fr", "validation", match="present for validation: de")
    with pytest.raises(UnknownNameError, match="xnli"):
        read_xtreme("xnlii", tmp_path, "de", "validation")
    with pytest.raises(ConfigError, match="no 'train' split"):
        read_xtreme("xquad", tmp_path, "de", "train")
    with pytest.raises(ConfigError, match="language code"):
        read_xtreme("xnli", tmp_path, "../../etc", "validation")


# --------------------------------------------------------------------------- fuzzing
def fuzz_read(reader: str, content: bytes, name: str = "f.txt", fmt: str = "tagging", **options) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / name, content)
        if reader in ("jsonl", "csv", "tsv"):
            options["format"] = fmt
        try:
            rows = get_reader(reader)(path, **options)
        except DataError:
            return
        assert_canonical(rows, fmt, spans=options.get("check_answers", True))


LINE_TEXT = st.text(alphabet=st.sampled_from(list("ab1_-.=|#\t \"',é\r") + ["\n", "\u2028"]), max_size=200)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=5), st.sampled_from(["A", "B", "0"]))
JSON_VALUES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
    st.sampled_from(["text", "answer_start", "a", "b"]), kids, max_size=3), max_leaves=8)


@st.composite
def records(draw):
    """Mostly well-formed records for the jsonl options below; sometimes a key is missing or odd."""
    good = {"a": st.text(max_size=3), "b": st.fixed_dictionaries({"text": st.text(max_size=3)}) | st.text(max_size=3),
            "c": st.sampled_from(["x", "y"]), "d": st.sampled_from(["A", "B"]), "id": st.text("pq", min_size=1, max_size=3)}
    out = {}
    for key, strategy in good.items():
        roll = draw(st.integers(0, 24))
        if roll:
            out[key] = draw(strategy if roll > 1 else JSON_VALUES)
    return out


RECORDS = records()


@FUZZ
@given(st.binary(max_size=300) | LINE_TEXT.map(str.encode))
def test_fuzz_line_readers_raise_only_data_errors(content):
    fuzz_read("token_tsv", content)
    fuzz_read("conllu", content)
    fuzz_read("tsv", content, fmt="classification", header=False, columns={"text": 0, "label": 1})
    fuzz_read("csv", content, fmt="multiple_choice", columns={"question": "a", "choices": ["a", "b"], "label": "b"})
    fuzz_read("tatoeba", content, name="de-en.de", fmt="retrieval")
    fuzz_read("bucc", content, name="zh-en.dev.zh", fmt="retrieval", require_gold=False)


@FUZZ
@given(st.lists(RECORDS, max_size=6), st.sampled_from(["\n", "\r\n"]))
def test_fuzz_jsonl_raises_only_data_errors(records, eol):
    content = eol.join(json.dumps(r) for r in records).encode()
    fuzz_read("jsonl", content, fmt="multiple_choice", label_map={"A": 0, "B": 1},
              columns={"id": "id", "question": "a", "choices": ["b", "c"], "label": "d"})
    fuzz_read("jsonl", content, fmt="pair_classification", columns={"text_a": "a", "text_b": "b.text", "label": "c"})
    fuzz_read("jsonl", content, fmt="extractive_qa", columns={"context": "a", "question": "b", "answers": "c"})


@st.composite
def squad_docs(draw):
    """Mostly well-formed SQuAD documents, with any JSON value in some places."""
    def maybe(strategy):
        return draw(JSON_VALUES) if draw(st.integers(0, 19)) == 0 else draw(strategy)

    def qa():
        answer = st.fixed_dictionaries({"text": st.sampled_from(["ab", "b", ""]), "answer_start": st.integers(-1, 4)})
        return {"id": maybe(st.text("q123456789", min_size=2, max_size=2)), "question": maybe(st.just("Q?")),
                "answers": maybe(st.lists(answer, max_size=2))}

    def paragraph():
        return {"context": maybe(st.sampled_from(["abab", "bab"])),
                "qas": maybe(st.builds(lambda n: [qa() for _ in range(n)], st.integers(1, 2)))}

    paragraphs = st.builds(lambda n: [paragraph() for _ in range(n)], st.integers(1, 2))
    return {"data": maybe(st.builds(lambda n: [{"paragraphs": maybe(paragraphs)} for _ in range(n)],
                                    st.integers(1, 2)))}


@FUZZ
@given(squad_docs() | JSON_VALUES)
def test_fuzz_squad_json_raises_only_data_errors(doc):
    fuzz_read("squad_json", json.dumps(doc).encode(), fmt="extractive_qa")
    fuzz_read("squad_json", json.dumps(doc).encode(), fmt="extractive_qa", check_answers=False, ids="index")


FIELD = st.text(alphabet=st.sampled_from(list("0123-._=|:aX#")), min_size=0, max_size=4)


@st.composite
def conllu_lines(draw):
    """Mostly well-formed CoNLL-U token lines, with garbage in some fields."""
    def pick(*good):
        return draw(FIELD) if draw(st.integers(0, 9)) == 0 else draw(st.sampled_from(good))
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        lines += draw(st.lists(st.sampled_from(["# sent_id = a", "# text = x", "#"]), max_size=2))
        n = draw(st.integers(1, 4))
        for i in range(1, n + 1):
            fields = [pick(str(i), f"{i}-{i + 1}", f"{i}.1"), pick("w", "_"), pick("w", "_"),
                      pick("NOUN", "VERB", "_"), pick("NN", "_"), pick("_", "A=b", "A=b|C=d"),
                      pick(str(i - 1), "0", "_"), pick("root", "nsubj", "_"), pick("_", "0:root"), pick("_")]
            lines.append("\t".join(fields) if draw(st.integers(0, 15)) else "\t".join(fields[:draw(st.integers(1, 9))]))
        lines.append("")
    return lines


CONLLU_LINES = conllu_lines()


@FUZZ
@given(CONLLU_LINES)
def test_fuzz_conllu_like_lines_raise_only_data_errors(lines):
    content = "\n".join(lines).encode()
    fuzz_read("conllu", content)
    fuzz_read("conllu", content, tag_field="deprel")
    fuzz_read("token_tsv", content)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            read_conllu_sentences(write(Path(tmp) / "x.conllu", content))
        except DataError:
            pass


# --------------------------------------------------------------------------- intermediate layouts
LAYOUT_SAMPLES = {
    "mnli": ("multinli_1.0_dev_matched.jsonl",
             '{"pairID": "1e", "sentence1": "a", "sentence2": "b", "gold_label": "neutral"}\n'
             '{"pairID": "2e", "sentence1": "a", "sentence2": "b", "gold_label": "-"}\n', 1),
    "qqp": ("dev.tsv", 'id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n7\t1\t2\tHow "so"?\tWhy?\t1\n', 1),
    "sst2": ("dev.tsv", "sentence\tlabel\nit 's a \"gem\" \t1\n", 1),
    "squad": ("dev-v1.1.json", squad("Anna ate.", [{"text": "Anna", "answer_start": 0}]), 1),
    "hellaswag": ("hellaswag_val.jsonl", '{"ind": 4, "ctx": "A man", "activity_label": "Run", "endings": ["a", "b"], '
                                         '"label": 1}\n', 1),
    "anli_r2": ("anli_v1.0/R2/dev.jsonl", '{"uid": "u1", "context": "a", "hypothesis": "b", "label": "c"}\n', 1),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_SAMPLES))
def test_intermediate_layouts_read_their_release_files(tmp_path, name):
    from taskdiff.transfer.readers import INTERMEDIATE_LAYOUTS, read_intermediate

    filename, content, n = LAYOUT_SAMPLES[name]
    write(tmp_path / INTERMEDIATE_LAYOUTS[name].folder / filename, content)
    rows = read_intermediate(name, tmp_path, "validation")
    assert len(rows) == n
    assert_canonical(rows, next(f for f, cols in FORMATS.items() if tuple(rows[0]) == cols))
    with pytest.raises(ConfigError, match="English-only"):
        INTERMEDIATE_LAYOUTS[name].path(tmp_path, "validation", "de")
