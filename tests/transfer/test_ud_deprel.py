"""``ud_en_deprel``: dependency relations as word tags, subtypes mapped to the universal relation."""

from __future__ import annotations

import pytest

from taskdiff.errors import ConfigError, DataError
from taskdiff.transfer.readers import get_reader
from taskdiff.transfer.tasks import get_task

CONLLU = """# sent_id = s1
# text = It was sold yesterday.
1\tIt\tit\tPRON\tPRP\t_\t3\tnsubj:pass\t_\t_
2\twas\tbe\tAUX\tVBD\t_\t3\taux:pass\t_\t_
3\tsold\tsell\tVERB\tVBN\t_\t0\troot\t_\t_
4\tyesterday\tyesterday\tNOUN\tNN\t_\t3\tobl:tmod\t_\tSpaceAfter=No
5\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

"""


def test_deprel_subtypes_mapped_to_universal_relations(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    read = get_reader("conllu")
    assert read(path, tag_field="deprel")[0]["tags"] == ["nsubj:pass", "aux:pass", "root", "obl:tmod", "punct"]
    rows = read(path, tag_field="deprel", strip_subtypes=True, labels=get_task("ud_en_deprel").labels)
    assert rows == [{"id": "s1", "tokens": ["It", "was", "sold", "yesterday", "."],
                     "tags": ["nsubj", "aux", "root", "obl", "punct"]}]


def test_deprel_label_outside_the_set_names_its_line(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text(CONLLU.replace("\tpunct\t", "\tpunkt\t"), encoding="utf-8")
    with pytest.raises(DataError, match=r"x.conllu:7 .*'punkt'"):
        get_reader("conllu")(path, tag_field="deprel", strip_subtypes=True, labels=get_task("ud_en_deprel").labels)


def test_strip_subtypes_only_for_deprel(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    with pytest.raises(ConfigError, match="deprel"):
        get_reader("conllu")(path, tag_field="upos", strip_subtypes=True)


def test_ud_en_deprel_task_on_fixture(tmp_path):
    from taskdiff.testing.fixtures import make_fixture_data_dir
    from taskdiff.transfer.data import load_role

    root = make_fixture_data_dir(tmp_path, n_train=8, n_eval=10)
    task = get_task("ud_en_deprel")
    assert len(task.labels) == 37 and task.metric == "tag_accuracy" and task.format == "tagging"
    train = load_role(task, "train", "en", root)
    assert train.rows and all(t in task.labels and ":" not in t for r in train.rows for t in r["tags"])
    ev = load_role(task, "evaluation", "en", root)
    pos = load_role(get_task("ud_en_pos"), "evaluation", "en", root)
    assert [r["id"] for r in ev.rows] == [r["id"] for r in pos.rows]  # the same sentences as ud_en_pos
