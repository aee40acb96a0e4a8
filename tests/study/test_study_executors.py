"""Executors on the tiny study: worker processes (and their SIGKILL), a killed study process,
submitit's local executor and a local Ray instance all end with the reference gains table,
and a rerun repeats no finished run.

These start fresh Python processes (each imports torch), so they are slow-marked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import PYTHON, child_env, run_records, write_config

pytestmark = pytest.mark.slow


def _study_cmd(config: Path, out: Path, store: Path, *extra: str) -> list[str]:
    return [PYTHON, "-m", "taskdiff.cli", "study", str(config), "--out", str(out), "--store", str(store),
            *extra]


def _assert_same_gains(out: Path, reference_out: Path) -> None:
    assert (out / "gains.csv").read_text() == (reference_out / "gains.csv").read_text()
    assert (out / "scores.csv").exists() and (out / "gains.parquet").exists()


def _rerun_repeats_nothing(config: Path, out: Path, store: Path) -> None:
    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study

    before = run_records(store)
    result = run_study(load_study(config, out=out, store=store), workers=0, progress=False)
    assert not result.schedule.ran and len(result.schedule.done_before) == 13
    assert run_records(store) == before


def _running_run(store: Path, prefix: str):
    """(run id, pid) of a run whose lock a process holds, if any."""
    import json

    from taskdiff.transfer.store import RunStore

    rs = RunStore(store)
    for rid in rs.list_runs():
        if rid.startswith(prefix) and rs.state(rid) == "running":
            try:
                return rid, json.loads((store / "runs" / rid / "config.json").read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue
    return None


def test_local_workers_survive_a_sigkilled_worker(tmp_path, fixture_data, reference):
    _, _, ref_out, _ = reference
    config = write_config(tmp_path, fixture_data)
    out, store = tmp_path / "out", tmp_path / "store"
    proc = subprocess.Popen(_study_cmd(config, out, store, "--workers", "2"), env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    victim, deadline = None, time.time() + 400
    try:
        while victim is None and time.time() < deadline and proc.poll() is None:
            victim = _running_run(store, "target-") or _running_run(store, "intermediate-")
            time.sleep(0.05)
        assert victim is not None, "never saw a running run"
        rid, pid = victim
        assert pid != proc.pid  # a worker process, not the study process
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, stderr[-3000:]
    assert "retrying" in stderr and "died" in stderr
    records = run_records(store)
    assert all(r["done_mtime"] for r in records.values()) and len(records) == 13
    if records[rid]["done_mtime"] / 1e9 > killed_at:  # it was still running when killed
        assert records[rid]["attempt"] == 2
    assert all(r["attempt"] == 1 for k, r in records.items() if k != rid)
    _assert_same_gains(out, ref_out)
    _rerun_repeats_nothing(config, out, store)


def test_a_killed_study_resumes_without_repeating_finished_runs(tmp_path, fixture_data, reference):
    _, _, ref_out, _ = reference
    config = write_config(tmp_path, fixture_data)
    out, store = tmp_path / "out", tmp_path / "store"
    proc = subprocess.Popen(_study_cmd(config, out, store, "--workers", "1", "--quiet"), env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 400
    try:
        while time.time() < deadline and proc.poll() is None:
            if len(list(store.glob("runs/*/DONE"))) >= 4:
                break
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the study process and its workers
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.5)
    before = run_records(store)
    finished = {k: r for k, r in before.items() if r["done_mtime"]}
    assert 4 <= len(finished) < 13, f"the kill came too late to test anything ({len(finished)} done)"
    assert not (out / "gains.csv").exists()

    from taskdiff.study.status import study_status

    st = study_status(out)
    assert st.totals["done"] == len(finished) and st.totals["running"] == 0
    assert st.totals["failed"] == len(before) - len(finished)  # interrupted runs (no DONE, no lock holder)

    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study

    result = run_study(load_study(config, out=out, store=store), workers=0, progress=False)
    assert result.ok and sorted(result.schedule.done_before) == sorted(finished)
    after = run_records(store)
    for rid, rec in finished.items():  # nothing finished was run again
        assert after[rid] == rec and rec["attempt"] == 1
    for rid in set(before) - set(finished):  # interrupted runs were resumed as a second attempt
        assert after[rid]["attempt"] == 2
    assert all(r["attempt"] == 1 for k, r in after.items() if k not in before)
    _assert_same_gains(out, ref_out)


def test_submitit_local_executor_gives_the_reference_gains(tmp_path, fixture_data, reference):
    pytest.importorskip("submitit")
    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study

    _, _, ref_out, _ = reference
    config = write_config(tmp_path, fixture_data, executor={
        "kind": "slurm", "poll_s": 0.2,
        "slurm": {"cluster": "local", "array_parallelism": 4, "time": 20, "gpus_per_node": 0}})
    out, store = tmp_path / "out", tmp_path / "store"
    result = run_study(load_study(config, out=out, store=store), progress=False)
    assert result.ok, (result.schedule.failed, result.schedule.blocked)
    assert "submitit" in result.executor and len(result.schedule.ran) == 13
    assert len(list((out / "slurm").glob("*/*_result.pkl"))) == 13  # one submitit job per run
    _assert_same_gains(out, ref_out)
    _rerun_repeats_nothing(config, out, store)


def test_ray_local_instance_gives_the_reference_gains(tmp_path, fixture_data, reference):
    pytest.importorskip("ray")
    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study

    _, _, ref_out, _ = reference
    config = write_config(tmp_path, fixture_data, executor={
        "kind": "ray", "poll_s": 0.2, "ray": {"local_num_cpus": 2, "num_cpus": 1}})
    out, store = tmp_path / "out", tmp_path / "store"
    result = run_study(load_study(config, out=out, store=store), progress=False)
    assert result.ok, (result.schedule.failed, result.schedule.blocked)
    assert result.executor.startswith("ray") and len(result.schedule.ran) == 13
    _assert_same_gains(out, ref_out)
    _rerun_repeats_nothing(config, out, store)
