"""End to end on the tiny model and project-made fixtures in every reader's real format."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from taskdiff.transfer.phases import Workspace
from taskdiff.study.transfer import TransferRequest, run_transfer
from taskdiff.transfer.store import RunStore
from taskdiff.transfer.training import TrainConfig

FAST = TrainConfig(learning_rate=5e-4, epochs=1, batch_size=8, precision="fp32")


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=32, n_eval=24)


def _request(**kw):
    base = dict(model="tiny", intermediates=["snli", "ud_en_pos", "cosmosqa"],
                targets=["xnli", "panx", "xquad", "xcopa", "tatoeba", "bucc"], languages=["de", "sw"],
                seeds=[1, 2], intermediate_train=FAST, target_train=FAST)
    base.update(kw)
    return TransferRequest(**base)


def test_transfer_end_to_end_then_cache_hit(tmp_path, fixture_dir):
    store = RunStore(tmp_path / "store")
    ws = Workspace(store, fixture_dir, max_examples=24, progress=False)
    start = time.perf_counter()
    gains = run_transfer(_request(), ws, tmp_path / "out")
    first = time.perf_counter() - start
    table = pd.read_csv(tmp_path / "out" / "gains.csv")
    assert list(table.columns) == ["intermediate", "target", "language", "seed", "metric", "score",
                                   "baseline_score", "gain"]
    assert set(table["intermediate"]) == {"snli", "ud_en_pos", "cosmosqa"}
    assert set(table["target"]) == {"xnli", "panx", "xquad", "xcopa", "tatoeba", "bucc"}
    assert set(table["language"]) == {"de", "sw"} and set(table["seed"]) == {1, 2}
    assert {"accuracy", "f1", "exact_match"} <= set(table["metric"])
    assert (table["gain"] - (table["score"] - table["baseline_score"])).abs().max() < 1e-9
    assert (tmp_path / "out" / "gains.parquet").exists() and len(gains) == len(table)
    n_runs = len(store.list_runs())
    # 3 intermediates x 2 seeds + 4 trained targets x 4 encoders x 2 seeds + evaluations
    assert sum(r.startswith("intermediate-") for r in store.list_runs()) == 6
    assert sum(r.startswith("target-") for r in store.list_runs()) == 32

    start = time.perf_counter()
    again = run_transfer(_request(), Workspace(store, fixture_dir, 24, progress=False), tmp_path / "out2")
    assert len(store.list_runs()) == n_runs  # nothing new was run
    assert time.perf_counter() - start < first / 2
    pd.testing.assert_frame_equal(again, gains)


def test_identical_seed_gives_identical_numbers(tmp_path, fixture_dir):
    req = _request(intermediates=["snli"], targets=["xnli"], seeds=[3])
    a = run_transfer(req, Workspace(RunStore(tmp_path / "a"), fixture_dir, 24, progress=False))
    b = run_transfer(req, Workspace(RunStore(tmp_path / "b"), fixture_dir, 24, progress=False))
    pd.testing.assert_frame_equal(a, b)


def test_cli_transfer_writes_gains(tmp_path, fixture_dir):
    from typer.testing import CliRunner

    from taskdiff.cli import app

    result = CliRunner().invoke(app, [
        "transfer", "--model", "tiny", "--intermediate", "snli", "--target", "xnli", "--languages", "de",
        "--seeds", "1", "--data-dir", str(fixture_dir), "--max-examples", "16", "--out", str(tmp_path / "o"),
        "--store", str(tmp_path / "s"), "--epochs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "gains.csv").read_text().startswith("intermediate,target,language,seed,metric")


def test_cli_unknown_task_is_one_line_with_suggestion(tmp_path):
    from typer.testing import CliRunner

    from taskdiff.cli import app

    result = CliRunner().invoke(app, ["transfer", "--model", "tiny", "--intermediate", "snil", "--target", "xnli",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "did you mean 'snli'" in result.output and "Traceback" not in result.output
