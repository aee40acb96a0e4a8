"""tydiqa_en and xcopa_en (English intermediates carved from XTREME's English training files),
and a slow read of the real slices of every task added with them (stsb, ud_en_deprel)."""

from __future__ import annotations

import pytest

from taskdiff.transfer.data import MissingDataError, load_role
from taskdiff.transfer.tasks import get_task


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=60, n_eval=12, languages=("de",))


def _ids(task, role, root):
    return {r["id"] for r in load_role(task, role, "en", root).rows}


def _copa_key(r):
    return (r["context"], r["question"], tuple(r["choices"]))


def test_tydiqa_en_stays_inside_the_targets_training_part(fixture_dir):
    mine, target = get_task("tydiqa_en"), get_task("tydiqa")
    assert mine.format == "extractive_qa" and mine.role == "intermediate" and mine.languages == ["en"]
    train, sel = _ids(mine, "train", fixture_dir), _ids(mine, "selection", fixture_dir)
    assert train and sel and not train & sel
    assert train | sel <= _ids(target, "train", fixture_dir)  # never the target's selection or evaluation
    with pytest.raises(MissingDataError):  # no evaluation split of its own
        load_role(mine, "evaluation", "en", fixture_dir)
    rows = load_role(mine, "train", "en", fixture_dir).rows
    by_id = {r["id"]: r for r in load_role(target, "train", "en", fixture_dir).rows}
    assert all(r["question"] == by_id[r["id"]]["question"] for r in rows)  # same ids = same questions


def test_xcopa_en_reads_train_en_only_with_the_targets_prompts(fixture_dir):
    mine, target = get_task("xcopa_en"), get_task("xcopa")
    roles = {role: load_role(mine, role, "en", fixture_dir).rows for role in ("train", "selection", "evaluation")}
    ids = [r["id"] for rows in roles.values() for r in rows]
    assert len(ids) == len(set(ids)) == 60  # train-en carved into three disjoint parts
    assert {r["question"] for rows in roles.values() for r in rows} <= {"What was the cause?",
                                                                        "What happened as a result?"}
    same = load_role(target, "train", "en", fixture_dir).rows  # the target reads the same file
    assert sorted(map(_copa_key, same)) == sorted(_copa_key(r) for rows in roles.values() for r in rows)


# --------------------------------------------------------------------------- real slices
@pytest.mark.slow
def test_real_slices_of_the_new_tasks(shared_data):
    stsb = get_task("stsb")
    train = load_role(stsb, "train", "en", shared_data).rows
    dev = load_role(stsb, "selection", "en", shared_data).rows
    assert (len(train), len(dev)) == (5749, 1500)
    assert all(0.0 <= r["label"] <= 5.0 for r in train + dev)
    assert train[1]["label"] == 3.8 and train[1]["text_b"] == "A man is playing a flute."

    deprel = get_task("ud_en_deprel")
    rows = load_role(deprel, "train", "en", shared_data).rows
    tags = {t for r in rows for t in r["tags"]}
    assert len(rows) == 2001 and tags <= set(deprel.labels) and {"nsubj", "obl", "root", "punct"} <= tags
    pos = load_role(get_task("ud_en_pos"), "train", "en", shared_data).rows
    assert [r["tokens"] for r in rows] == [r["tokens"] for r in pos]

    tydi, target = get_task("tydiqa_en"), get_task("tydiqa")
    mine = _ids(tydi, "train", shared_data) | _ids(tydi, "selection", shared_data)
    assert 2500 < len(mine) < 3300  # about 80 % of 3,696 questions
    assert not mine & (_ids(target, "selection", shared_data) | _ids(target, "evaluation", shared_data))

    copa = [r for role in ("train", "selection", "evaluation")
            for r in load_role(get_task("xcopa_en"), role, "en", shared_data).rows]
    assert len(copa) == 400
    evaluated = {_copa_key(r) for role in ("selection", "evaluation")
                 for r in load_role(get_task("xcopa"), role, "en", shared_data).rows}
    assert not {_copa_key(r) for r in copa} & evaluated
