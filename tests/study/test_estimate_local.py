"""The dry run's estimate from local data and from finished runs (issue 15.6, issue 17)."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

import pytest
import yaml

from taskdiff.study.calibrate import Calibration, calibration, run_records

LOCAL = {"flops_per_s": 1e10, "seconds_per_step": 0.1, "device": "cpu", "threads": 1, "source": "test"}


def _study(tmp_path, data_dir, **changes):
    from taskdiff.study.config import load_study

    cfg = {"name": "t", "model": "tiny", "intermediates": ["snli"], "targets": ["xnli"], "languages": ["de"],
           "seeds": [1], "intermediate_train": {"epochs": 2, "batch_size": 8},
           "target_train": {"epochs": 1, "batch_size": 8}, "executor": {"workers": 2}, **changes}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return load_study(path, data_dir=data_dir, store=tmp_path / "store")


def _rows(est):
    return {(r["phase"], r["task"]): r for r in est.tasks}


def test_local_data_counts_replace_the_published_sizes(tmp_path, monkeypatch):
    from taskdiff.study.estimate import estimate_plan
    from taskdiff.study.graph import plan_study
    from taskdiff.testing.fixtures import make_fixture_data_dir
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import get_task

    monkeypatch.delenv("TASKDIFF_DATA_DIR", raising=False)
    data = make_fixture_data_dir(tmp_path / "data", n_train=48, n_eval=20, languages=("en", "de"))
    study = _study(tmp_path, data)
    rows = _rows(estimate_plan(study, plan_study(study), local=LOCAL))
    n_snli = len(load_role(get_task("snli"), "train", "en", data).rows)
    assert rows[("intermediate", "snli")]["examples"] == n_snli < 100  # the slice, not 549,367 pairs
    assert rows[("intermediate", "snli")]["source"] == "local data"
    assert rows[("evaluation", "xnli")]["examples"] == len(load_role(get_task("xnli"), "evaluation", "de", data).rows)
    capped = _rows(estimate_plan(s := _study(tmp_path, data, max_examples=10), plan_study(s), local=LOCAL))
    assert capped[("intermediate", "snli")]["examples"] == 10  # max_examples caps like the runs
    hub = _rows(estimate_plan(s := _study(tmp_path, None), plan_study(s), local=LOCAL))
    assert hub[("intermediate", "snli")]["examples"] == 549_367 and hub[("intermediate", "snli")]["source"] == "table"


def test_wall_time_spreads_cpu_over_workers_and_includes_overheads(tmp_path, monkeypatch):
    from taskdiff.study.estimate import estimate_plan
    from taskdiff.study.graph import plan_study
    from taskdiff.testing.fixtures import make_fixture_data_dir

    monkeypatch.delenv("TASKDIFF_DATA_DIR", raising=False)
    data = make_fixture_data_dir(tmp_path / "data", n_train=16, n_eval=8, languages=("en", "de"))
    study = _study(tmp_path, data, max_examples=8)
    est = estimate_plan(study, plan_study(study), local=LOCAL)
    cpu = sum(p["cpu_hours"] for p in est.phases.values())
    assert est.workers == 2 and est.wall_hours == pytest.approx(cpu / 2)
    # tiny runs are all fixed cost: at least the default overhead of every run
    cal = Calibration()
    floor = sum(cal.overhead[{"intermediate": "train", "target": "train"}.get(k, k)] * p["runs"]
                for k, p in est.phases.items())
    assert cpu * 3600 >= floor


def test_calibration_recovers_overhead_and_factor():
    records = [{"kind": "target", "seconds": 10 + 2 * x, "x": x} for x in (5, 20, 40, 80)]
    records += [{"kind": "evaluation", "seconds": 3 + 0.5 * x, "x": x} for x in (10, 30, 90)]
    cal = calibration(records, lambda r: r["x"])
    assert cal.overhead["train"] == pytest.approx(10) and cal.factor["train"] == pytest.approx(2)
    assert cal.overhead["evaluation"] == pytest.approx(3) and cal.factor["evaluation"] == pytest.approx(0.5)
    assert cal.factor["profile"] in (2, 0.5)  # no profile runs: the machine's speed from the fitted groups
    assert "fitted" in cal.source and cal.seconds("intermediate", 30) == pytest.approx(70)


def test_too_few_runs_keep_the_defaults():
    cal = calibration([{"kind": "target", "seconds": 50, "x": 10}], lambda r: r["x"])
    assert cal.factor == Calibration().factor and "defaults" in cal.source


def test_run_records_time_a_run_from_created_to_done(tmp_path):
    run = tmp_path / "runs" / "target-abc"
    run.mkdir(parents=True)
    start = time.time() - 100
    created = datetime.fromtimestamp(start, timezone.utc).isoformat(timespec="seconds")
    (run / "config.json").write_text(json.dumps({"kind": "target", "created": created, "config": {
        "task": {"name": "xnli"}, "train": {"epochs": 3}}}))
    (run / "DONE").write_text("{}")
    os.utime(run / "DONE", (start + 60, start + 60))
    (tmp_path / "runs" / "profile-x").mkdir()  # a measure's run: not a study run, not read
    [rec] = run_records(tmp_path)
    assert rec["kind"] == "target" and rec["task"] == "xnli" and rec["epochs"] == 3
    assert rec["seconds"] == pytest.approx(60, abs=1.5)


def test_probe_threads_follow_the_workers(monkeypatch):
    from taskdiff import threads
    from taskdiff.study.estimate import worker_threads

    monkeypatch.delenv("TASKDIFF_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "load_average", lambda: 0.1)
    assert worker_threads(1) == 2 and worker_threads(2) == 1
    monkeypatch.setattr(threads, "load_average", lambda: 5.0)
    assert worker_threads(1) == 1
