"""The cartography files (allenai/cartography layout) and the data map: :mod:`taskdiff.difficulty.cartography_io`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from taskdiff.difficulty import cartography_io as M
from taskdiff.difficulty.maths import dynamics_from_logits, dynamics_metrics
from taskdiff.errors import DataError

GOLD = np.array([[0.2, 0.9, 0.1], [0.4, 0.8, 0.1], [0.6, 0.9, 0.2]])
CORRECT = GOLD > 0.5


def test_dynamics_jsonl_round_trip_with_reference_keys(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4, 3))
    golds = np.array([0, 2, 1, 2])
    guids = [4734364254410, 1355224458312, 7, 8]
    for e in range(3):
        path = M.write_dynamics(tmp_path, e, guids, logits[e], golds)
        assert path.name == f"dynamics_epoch_{e}.jsonl"
    first = json.loads((tmp_path / "dynamics_epoch_1.jsonl").read_text().splitlines()[0])
    assert set(first) == {"guid", "logits_epoch_1", "gold"}  # allenai/cartography layout
    dyn = M.read_dynamics(tmp_path)
    assert dyn.guids == guids and dyn.epochs == [0, 1, 2]
    np.testing.assert_allclose(dyn.logits, logits)
    np.testing.assert_array_equal(dyn.golds, golds)
    probs, correct = dynamics_from_logits(dyn.logits, dyn.golds)
    assert probs.shape == correct.shape == (3, 4)


def test_read_dynamics_accepts_reference_written_line_and_rejects_bad(tmp_path):
    # a line as the reference repository's sample/training_dynamics files have them
    (tmp_path / "dynamics_epoch_0.json").write_text(
        '{"guid":13042995210,"logits_epoch_0":[-0.19,0.08,0.72],"gold":0}\n')
    dyn = M.read_dynamics(tmp_path)
    assert dyn.guids == [13042995210] and dyn.logits.shape == (1, 1, 3)
    (tmp_path / "dynamics_epoch_1.json").write_text('{"guid":13042995210,"gold":0}\n')
    with pytest.raises(DataError, match="logits_epoch_1"):
        M.read_dynamics(tmp_path)
    with pytest.raises(DataError):
        M.read_dynamics(tmp_path / "missing")


def test_plot_data_map_writes_file(tmp_path):
    m = dynamics_metrics(GOLD, CORRECT)
    out = M.plot_data_map(m.confidence, m.variability, m.correctness, tmp_path / "map.png")
    assert out.exists() and out.stat().st_size > 1000
