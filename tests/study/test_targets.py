"""``targets.json``: the study describes its targets so that the report reads files only."""

from __future__ import annotations

import pytest

from taskdiff.analysis.report.records import chance_level, read_targets
from taskdiff.study.targets import target_record, write_targets


def test_target_record_gives_the_chance_level_of_a_label_set():
    assert target_record("xnli") == {"format": "pair_classification", "labels": 3, "chance": pytest.approx(100 / 3)}
    assert target_record("tatoeba")["chance"] is None


def test_the_report_reads_what_the_study_writes(tmp_path):
    rows = [{"target": "pawsx"}, {"target": "tatoeba"}, {"target": "pawsx"}]
    path = write_targets(rows, tmp_path)
    described = read_targets(tmp_path)
    assert path.name == "targets.json" and list(described) == ["pawsx", "tatoeba"]
    assert chance_level("pawsx", "accuracy", described) == 50.0
    assert chance_level("pawsx", "f1", described) is None and chance_level("tatoeba", "accuracy", described) is None


def test_an_older_study_folder_has_no_chance_level(tmp_path):
    assert read_targets(tmp_path) == {} and read_targets(None) == {}
    (tmp_path / "targets.json").write_text("not json")
    assert read_targets(tmp_path) == {} and chance_level("xnli", "accuracy", read_targets(tmp_path)) is None
