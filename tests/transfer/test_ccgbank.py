"""The CCGbank AUTO reader and the ccg task on user-supplied files."""

from __future__ import annotations

import pytest

from taskdiff.errors import DataError
from taskdiff.transfer.readers import get_reader

AUTO = """ID=wsj_0001.1 PARSER=GOLD NUMPARSE=1
(<T S[dcl] 0 2> (<T NP 0 1> (<L N NNP NNP Pierre N_73>) ) (<T S[dcl]\\NP 0 2> (<L (S[dcl]\\NP)/NP VBZ VBZ likes (S[dcl]\\NP_1)/NP_2> ) (<L NP NNP NNP Vinken NP>) ) )
ID=wsj_0001.2 PARSER=GOLD NUMPARSE=1
(<L N NN NN dogs N>)
"""


def test_auto_file_known_answer(tmp_path):
    f = tmp_path / "wsj_0001.auto"
    f.write_text(AUTO)
    rows = get_reader("ccgbank_auto")(f)
    assert rows[0] == {"id": "wsj_0001.1", "tokens": ["Pierre", "likes", "Vinken"],
                       "tags": ["N", "(S[dcl]\\NP)/NP", "NP"]}
    assert rows[1]["tokens"] == ["dogs"] and len(rows) == 2


def test_derivation_without_header_names_the_line(tmp_path):
    f = tmp_path / "bad.auto"
    f.write_text("(<L N NN NN dogs N>)\n")
    with pytest.raises(DataError, match=r"bad.auto:1: expected an 'ID=...' header"):
        get_reader("ccgbank_auto")(f)


def test_ccg_task_reads_the_auto_layout(tmp_path):
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import get_task

    for section in ("02", "15", "00", "23"):
        d = tmp_path / "intermediate" / "ccg" / "data" / "AUTO" / section
        d.mkdir(parents=True)
        (d / f"wsj_{section}01.auto").write_text(AUTO.replace("wsj_0001", f"wsj_{section}01"))
    rows = load_role(get_task("ccg"), "train", "en", tmp_path).rows
    assert len(rows) == 4 and rows[0]["tags"][1] == "(S[dcl]\\NP)/NP"  # sections 02 and 15
