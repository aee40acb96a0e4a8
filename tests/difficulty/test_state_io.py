"""The learned state of a measure round-trips through typed JSON, and no pickle is involved."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from taskdiff.difficulty.state_io import decode, encode, load_state, save_state


def test_round_trip_keeps_types_and_values(tmp_path):
    state = {
        "pvi_": np.array([0.5, -1.25, 3.0], dtype=np.float32),
        "regions_": np.array([[1, 2], [3, 4]], dtype=np.int64),
        "ids_": ["a", "b"],
        "types_": {"the", "cat"},
        "shape_": (3, 768),
        "files_": [Path("/x/y.jsonl")],
        "curve_": [(0.1, 2.5), (1.0, float("nan"))],
        "nested_": {"k": {"v": np.float64(1.5), "flag": np.bool_(True)}},
    }
    path = tmp_path / "state.json"
    assert save_state(state, path) == []
    back = load_state(path)
    assert back["pvi_"].dtype == np.float32 and back["pvi_"].tolist() == [0.5, -1.25, 3.0]
    assert back["regions_"].shape == (2, 2) and back["regions_"].dtype == np.int64
    assert back["types_"] == {"the", "cat"} and back["shape_"] == (3, 768)
    assert back["files_"] == [Path("/x/y.jsonl")]
    assert back["curve_"][0] == (0.1, 2.5) and np.isnan(back["curve_"][1][1])
    assert back["nested_"] == {"k": {"v": 1.5, "flag": True}}
    json.loads(path.read_text())  # plain, strict JSON (no NaN literal)


def test_unencodable_attributes_are_left_out_not_pickled(tmp_path):
    path = tmp_path / "state.json"
    skipped = save_state({"model_": LogisticRegression(), "obj_": np.array([object()]), "ok_": 1}, path)
    assert skipped == ["model_", "obj_"]
    assert load_state(path) == {"ok_": 1}


def test_a_tag_lookalike_dict_is_refused_and_a_broken_file_reads_as_none(tmp_path):
    with pytest.raises(TypeError, match="tag"):
        encode({"__set__": [1]})
    assert decode({"a": 1, "__set__": [1]}) == {"a": 1, "__set__": [1]}  # two keys: not a tag
    broken = tmp_path / "state.json"
    broken.write_text("{not json")
    assert load_state(broken) is None
    assert load_state(tmp_path / "absent.json") is None
