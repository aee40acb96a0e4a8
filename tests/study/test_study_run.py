"""Running studies in-process: the same runs and gains as `taskdiff transfer`, the study
directory, status, resumption, the dry run's cost estimate, and executor choices."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from taskdiff.errors import ConfigError

from .conftest import REPO, run_records, write_config


def _app():
    from taskdiff.cli.study import register

    return register(typer.Typer())


def test_local_study_equals_transfer_pipeline(reference, fixture_data):
    """Every run the study made is one `taskdiff transfer` would reuse, and the gains agree."""
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.training import TrainConfig

    config, store, out, result = reference
    assert result.counts == {"intermediate": 2, "target": 4, "evaluation": 7, "profile": 0}
    assert len(result.schedule.ran) == 13 and (out / "gains.parquet").exists() and (out / "scores.csv").exists()
    before = sorted(p.name for p in (store / "runs").iterdir() if p.is_dir())
    cfg = TrainConfig(learning_rate=5e-4, epochs=1, batch_size=8, precision="fp32")
    req = TransferRequest(model="tiny", intermediates=["snli"], targets=["xnli", "tatoeba"], languages=["de"],
                          seeds=[1, 2], intermediate_train=cfg, target_train=cfg)
    gains = run_transfer(req, Workspace(RunStore(store), config.parent / "data", 16, progress=False))
    assert sorted(p.name for p in (store / "runs").iterdir() if p.is_dir()) == before  # all cache hits
    table = pd.read_csv(out / "gains.csv")
    pd.testing.assert_frame_equal(table, gains.reset_index(drop=True), check_dtype=False)
    assert set(table["target"]) == {"xnli", "tatoeba"} and set(table["seed"]) == {1, 2}
    manifest = json.loads((out / "study.json").read_text())
    assert len({n["run_id"] for n in manifest["nodes"]}) == 13 and manifest["store"] == str(store.resolve())


def test_status_and_rerun_repeat_nothing(reference):
    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study
    from taskdiff.study.status import study_status

    config, store, out, _ = reference
    st = study_status(out)
    assert st.complete and st.totals == {"done": 13, "running": 0, "failed": 0, "pending": 0}
    assert study_status(config, store=store).totals["done"] == 13  # from the config: resolves the ids
    records = run_records(store)
    result = run_study(load_study(config, out=out, store=store), workers=0, progress=False)
    assert len(result.schedule.done_before) == 13 and not result.schedule.ran
    assert run_records(store) == records  # no run started again: same attempts, same DONE files
    res = CliRunner().invoke(_app(), ["status", str(out)])
    assert res.exit_code == 0 and "complete" in res.output and "evaluation" in res.output


def test_failed_and_pending_runs_are_reported_and_finished(tmp_path, reference):
    """Damage one run and delete another: status says failed / pending; a rerun redoes only those."""
    import shutil

    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study
    from taskdiff.study.status import study_status

    config, store0, _, _ = reference
    store, out = tmp_path / "store", tmp_path / "out"
    shutil.copytree(store0, store)
    manifest = None
    st = load_study(config, out=out, store=store)
    run_study(st, workers=0, progress=False)  # all done: writes the manifest
    manifest = json.loads((out / "study.json").read_text())
    by_kind = {}
    for n in manifest["nodes"]:
        by_kind.setdefault(n["kind"], n["run_id"])
    (store / "runs" / by_kind["evaluation"] / "metrics.json").write_text("{}")  # checksum mismatch
    shutil.rmtree(store / "runs" / by_kind["target"])
    status = study_status(out)
    assert status.totals["failed"] == 1 and status.totals["pending"] == 1
    assert status.failed[0]["run_id"] == by_kind["evaluation"]
    before = run_records(store)
    result = run_study(load_study(config, out=out, store=store), workers=0, progress=False)
    assert sorted(result.schedule.ran) == sorted([by_kind["evaluation"], by_kind["target"]])
    after = run_records(store)
    assert after[by_kind["evaluation"]]["attempt"] == 2
    assert {k: v for k, v in after.items() if k not in by_kind.values()} == \
        {k: v for k, v in before.items() if k not in by_kind.values()}
    assert study_status(out).complete


def test_cli_study_runs_and_writes_the_study_directory(tmp_path, reference):
    import shutil

    config, store0, out0, _ = reference
    store = tmp_path / "store"
    shutil.copytree(store0, store)
    res = CliRunner().invoke(_app(), ["study", str(config), "--out", str(tmp_path / "o"), "--store", str(store),
                                      "--workers", "0", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "13 already done" in res.output and "wrote" in res.output
    assert (tmp_path / "o" / "gains.csv").read_text() == (out0 / "gains.csv").read_text()


def test_cli_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: tiny\nintermediates: [snli]\ntargets: [xnli]\nseeds: [1, 'x']\n")
    res = CliRunner().invoke(_app(), ["study", str(bad), "--dry-run"])
    assert res.exit_code == 2 and "field 'seeds[1]'" in res.output
    res = CliRunner().invoke(_app(), ["status", str(tmp_path)])
    assert res.exit_code == 2 and "not a study directory" in res.output


def test_phase_selection_stops_when_dependencies_are_missing(tmp_path, fixture_data):
    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study

    st = load_study(write_config(tmp_path, fixture_data), out=tmp_path / "o", store=tmp_path / "s")
    result = run_study(st, workers=0, phases=["evaluation"], progress=False)
    # only the base encoder's retrieval evaluation needs no training run
    ran = result.schedule.ran
    assert len(ran) == 1 and len(result.schedule.blocked) == 6 and result.incomplete == {"tiny": 6}
    assert "other shards or phases" in next(iter(result.schedule.blocked.values()))
    assert not (tmp_path / "o" / "gains.csv").exists()


def test_dry_run_of_xstilts_lists_the_grid_and_costs(tmp_path, monkeypatch):
    """No data, no model: counts by combinatorics and the estimate (stored machine measurement)."""
    monkeypatch.delenv("TASKDIFF_DATA_DIR", raising=False)
    store = tmp_path / "store"
    store.mkdir()
    from taskdiff.study.estimate import throughput_key, worker_threads
    from taskdiff.transfer.precision import resolve_precision

    key = throughput_key(worker_threads(1), resolve_precision("auto"))
    (store / "study-throughput.json").write_text(json.dumps({key: {
        "flops_per_s": 2.0e10, "seconds_per_step": 0.5, "device": "cpu", "threads": 2, "measured": "test"}}))
    res = CliRunner().invoke(_app(), ["study", str(REPO / "configs" / "xstilts.yaml"), "--dry-run", "--store",
                                      str(store), "--list"])
    assert res.exit_code == 0, res.output
    out = res.output
    for task in ["anli_plus", "mnli", "qqp", "sst2", "squad", "hellaswag", "cosmosqa", "commonsenseqa", "ccg",
                 "xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc", "tatoeba"]:
        assert task in out
    lines: dict = {}
    for line in out.splitlines():  # the phase table comes first
        if line.strip():
            lines.setdefault(line.split()[0], line.split())
    assert lines["intermediate"][1] == "27" and lines["target"][1] == "210"
    assert lines["evaluation"][1] == str(123 * 30 + 40 * 28) and lines["profile"][1] == "9"
    assert lines["total"][1] == str(27 + 210 + 123 * 30 + 40 * 28 + 9)
    assert "years" in out and "GPU-hours" in out and "reference GPU" in out and "stored in" in out
    assert "xlm-roberta-large (302.3M non-embedding parameters)" in out
    assert "eval tatoeba/af <- none seed 1" in out  # --list: every run
    assert "hub (no data_dir): published sizes" in out


def test_estimate_formula():
    from taskdiff.study.estimate import flops_per_token, non_embedding_params

    assert non_embedding_params(24, 1024, 4096) == pytest.approx(302e6, rel=0.01)  # XLM-R Large
    arch = (24, 1024, 4096)
    assert flops_per_token(arch, 128, train=True) == pytest.approx(3 * flops_per_token(arch, 128, train=False))


def test_gpu_pool_falls_back_to_local_with_a_message(capsys, monkeypatch):
    from taskdiff.study.executors.gpu_pool import GpuPoolExecutor, make_gpu_pool, visible_gpus
    from taskdiff.study.executors.local import LocalExecutor

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []
    ex = make_gpu_pool(3)
    assert type(ex) is LocalExecutor and ex.workers == 3
    assert "no GPU visible" in capsys.readouterr().err
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    ex = make_gpu_pool(1)
    assert isinstance(ex, GpuPoolExecutor) and ex.devices == ["2", "5"]


@pytest.mark.parametrize("name, words", [("slurm", "taskdiff[slurm]"), ("ray", "taskdiff[ray]")])
def test_missing_optional_executor_packages(tmp_path, fixture_data, monkeypatch, name, words):
    from taskdiff.study.config import load_study
    from taskdiff.study.executors import make_executor

    monkeypatch.setitem(sys.modules, "submitit" if name == "slurm" else "ray", None)
    st = load_study(write_config(tmp_path, fixture_data), out=tmp_path / "o", store=tmp_path / "s")
    ex = make_executor(name, st)
    with pytest.raises(ConfigError, match=f"pip install '{words.replace('[', '.').replace(']', '.')}'"):
        ex.start(st.to_payload())


def test_profiles_land_in_the_study_directory_and_the_report_reads_it(tmp_path, reference, fixture_data):
    """With measures, one profile run per intermediate; `taskdiff report --study DIR` works on DIR."""
    import shutil
    import warnings

    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study

    _, store0, _, _ = reference
    store = tmp_path / "store"
    shutil.copytree(store0, store)
    config = write_config(tmp_path, fixture_data, measures=["size"])
    result = run_study(load_study(config, out=tmp_path / "out", store=store), workers=0, progress=False)
    assert result.ok and result.counts["profile"] == 1 and len(result.schedule.ran) == 1
    profile = json.loads((tmp_path / "out" / "profiles" / "snli.json").read_text())
    assert profile["task"] == "snli"
    assert [r for r in (store / "runs").iterdir() if r.name.startswith("study_profile-")]

    from taskdiff.analysis.api import report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        html, md = report(tmp_path / "out", tmp_path / "report")
    assert html.exists() and md.exists()


def test_failed_job_message_is_the_exception_line():
    from taskdiff.study.executors.slurm import _last_trace_line

    msg = ("Job (task=0) failed during processing with trace:\n----------------------\nTraceback (most recent call "
           "last):\n  File \"x\", line 1\ntaskdiff.study.run.StudyError: data changed\n\n----------------------\n"
           "You can check full logs with 'job.stderr(0)'\n  - /a\n  - /b")
    assert _last_trace_line(msg) == "taskdiff.study.run.StudyError: data changed"
