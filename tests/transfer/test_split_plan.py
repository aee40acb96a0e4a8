"""The declared split rules: which split and id-hash range serves each role."""

from __future__ import annotations

import pytest

from taskdiff.errors import ZeroShotViolation
from taskdiff.transfer.data import SplitPlan, check_zero_shot, id_hash, plan_roles
from taskdiff.transfer.tasks import get_task


def test_id_hash_is_stable_and_uniform():
    assert id_hash("17") == id_hash("17") and 0 <= id_hash("17") < 1
    values = [id_hash(str(i)) for i in range(4000)]
    assert abs(sum(v < 0.5 for v in values) / 4000 - 0.5) < 0.03


def test_xnli_offline_carves_train_selection_and_evaluation_from_dev():
    plans = plan_roles(get_task("xnli"), {"validation": ("dev-en",)})
    assert plans["train"] == SplitPlan("train", "validation", 0.0, 0.5, "carved from validation")
    assert (plans["selection"].lo, plans["selection"].hi) == (0.5, pytest.approx(0.6))
    assert plans["evaluation"].split == "validation" and plans["evaluation"].lo == pytest.approx(0.6)


def test_xnli_with_a_real_train_split_uses_it_and_the_test_set():
    plans = plan_roles(get_task("xnli"), {"train": ("t",), "validation": ("v",), "test": ("x",)})
    assert plans["train"] == SplitPlan("train", "train")
    assert plans["selection"] == SplitPlan("selection", "validation")
    assert plans["evaluation"] == SplitPlan("evaluation", "test")


def test_xquad_validation_and_test_are_one_file():
    plans = plan_roles(get_task("xquad"), {"validation": ("q",), "test": ("q",)})
    assert plans["train"].hi == 0.5 and plans["evaluation"].lo == pytest.approx(0.6)


def test_snli_trains_on_dev_and_carves_selection_from_test():
    plans = plan_roles(get_task("snli"), {"validation": ("dev",), "test": ("test",)})
    assert plans["train"].split == "validation" and (plans["train"].lo, plans["train"].hi) == (0.0, 1.0)
    assert plans["selection"] == SplitPlan("selection", "test", 0.0, 0.2, "carved from test")
    assert plans["evaluation"].split == "test" and plans["evaluation"].lo == pytest.approx(0.2)


def test_tydiqa_never_evaluates_english_on_its_training_ids():
    plans = plan_roles(get_task("tydiqa"), {"train": ("tr",)})
    assert (plans["train"].lo, plans["train"].hi) == (0.0, 0.8)
    assert plans["evaluation"].split == "train" and plans["evaluation"].lo == pytest.approx(0.9)


def test_roles_are_disjoint_by_construction():
    for name in ("xnli", "pawsx", "mlqa", "cosmosqa", "commonsenseqa"):
        task = get_task(name)
        plans = plan_roles(task, {task.carve.source: ("f",)})
        ranges = [(p.lo, p.hi) for p in plans.values() if p is not None and p.split == task.carve.source]
        ranges.sort()
        assert all(a[1] <= b[0] + 1e-12 for a, b in zip(ranges, ranges[1:])), name


def test_zero_shot_check_catches_non_english_and_overlap():
    train = [{"id": "1", "language": "en"}, {"id": "2", "language": "en"}]
    check_zero_shot(train, [{"id": "3", "language": "de"}])
    with pytest.raises(ZeroShotViolation, match="non-en"):
        check_zero_shot(train + [{"id": "9", "language": "de"}], [])
    with pytest.raises(ZeroShotViolation, match="trained on"):
        check_zero_shot(train, [{"id": "2", "language": "de"}])
