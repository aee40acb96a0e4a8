"""Several real processes on one run store and one output folder at the same time.

Protection under test: the run store's per-run lock with the done check repeated under it
(:meth:`RunStore.get_or_run`), and atomic table writes (:func:`taskdiff.io.atomic_write_csv`
in :func:`taskdiff.transfer.gains.write_tables`).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from .conftest import FAST, MAX_EXAMPLES, PYTHON, attempts, child_env

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX file locks and processes")

# A worker: imports everything, says it is ready, waits for "go", then runs the study. Every
# call of the training function appends a line to the marker file, so the trainings that
# really happened are counted whatever the store says.
WORKER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    store, data, out, own, marker, ready, go, max_examples = sys.argv[1:9]
    from taskdiff.transfer import phases
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.training import TrainConfig
    import torch, transformers  # noqa: F401 (import before the race starts)

    original = phases._train
    def counted(ws, handle, *args, **kwargs):
        with open(marker, "a") as fh:
            fh.write(f"{handle.run_id} {os.getpid()}\\n")
        return original(ws, handle, *args, **kwargs)
    phases._train = counted

    cfg = TrainConfig(**FAST)
    req = TransferRequest(model="tiny", intermediates=["snli"], targets=["xnli"], languages=["de"], seeds=[1],
                          intermediate_train=cfg, target_train=cfg)
    Path(ready).touch()
    deadline = time.time() + 120
    while not Path(go).exists() and time.time() < deadline:
        time.sleep(0.01)
    gains = run_transfer(req, Workspace(RunStore(store), data, int(max_examples), progress=False), out)
    gains.to_csv(own, index=False)
""").replace("FAST", repr(FAST))


def _race(tmp_path: Path, data: Path, n: int, shared_out: bool = True) -> list[Path]:
    """Start ``n`` workers on one store, release them together, wait; return their tables."""
    store, marker, go = tmp_path / "store", tmp_path / "trainings.txt", tmp_path / "go"
    procs, owns, readies = [], [], []
    for k in range(n):
        own, ready = tmp_path / f"own{k}.csv", tmp_path / f"ready{k}"
        out = tmp_path / ("out" if shared_out else f"out{k}")
        procs.append(subprocess.Popen(
            [PYTHON, "-c", WORKER, str(store), str(data), str(out), str(own), str(marker), str(ready), str(go),
             str(MAX_EXAMPLES)], env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        owns.append(own)
        readies.append(ready)
    deadline = time.time() + 120
    while not all(r.exists() for r in readies) and time.time() < deadline:
        if any(p.poll() not in (None, 0) for p in procs):
            break
        time.sleep(0.02)
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
    return owns


def _check_race(tmp_path: Path, owns: list[Path]) -> None:
    store = tmp_path / "store"
    trained = (tmp_path / "trainings.txt").read_text().split("\n")
    run_ids = [line.split()[0] for line in trained if line]
    # snli (intermediate), xnli on snli's encoder, xnli on the base encoder: each trained once
    assert len(run_ids) == 3 and len(set(run_ids)) == 3, trained
    runs = attempts(store)
    assert sorted(r.split("-")[0] for r in runs) == ["evaluation", "evaluation", "intermediate", "target", "target"]
    assert set(runs.values()) == {1}, runs  # nobody restarted a run another process had begun or finished
    assert not list(store.glob("runs/*/ERROR.json"))
    for run in store.glob("runs/*/"):
        done = json.loads((run / "DONE").read_text())
        assert done["run_id"] == run.name
    tables = [pd.read_csv(own) for own in owns]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    assert len(tables[0]) == 1 and tables[0]["language"].tolist() == ["de"]


def test_two_processes_same_study_train_each_run_once(tmp_path, fixture_data):
    owns = _race(tmp_path, fixture_data, 2, shared_out=True)
    _check_race(tmp_path, owns)
    shared = pd.read_csv(tmp_path / "out" / "gains.csv")  # both wrote it; it parses and is the same table
    pd.testing.assert_frame_equal(shared, pd.read_csv(owns[0]))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "gains.parquet"), shared)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_three_processes_same_study_train_each_run_once(tmp_path, fixture_data):
    owns = _race(tmp_path, fixture_data, 3, shared_out=False)
    _check_race(tmp_path, owns)


# ------------------------------------------------------------------ concurrent table writes
WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from taskdiff.transfer.gains import write_tables
    out, n_rows, rounds, ready, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    rows = [{"intermediate": inter, "target": "xnli", "language": f"l{i:05d}", "seed": 1, "metric": "accuracy",
             "score": float(i % 97), "n": 10, "run_id": "evaluation-0123456789abcdef"}
            for i in range(n_rows) for inter in ("none", "snli")]
    Path(ready).touch()
    while not Path(go).exists():
        pass
    for _ in range(rounds):
        write_tables(rows, Path(out))
""")


def test_concurrent_writers_never_leave_a_torn_gains_csv(tmp_path):
    """Two processes rewrite the same gains.csv (different sizes) while this one reads it."""
    out, go = tmp_path / "out", tmp_path / "go"
    sizes, procs = (3000, 1200), []
    for k, n_rows in enumerate(sizes):
        procs.append(subprocess.Popen([PYTHON, "-c", WRITER, str(out), str(n_rows), "25", str(tmp_path / f"r{k}"),
                                       str(go)], env=child_env(), stderr=subprocess.PIPE))
    deadline = time.time() + 60
    while not all((tmp_path / f"r{k}").exists() for k in range(2)) and time.time() < deadline:
        time.sleep(0.01)
    go.touch()
    seen, reads = set(), 0
    while any(p.poll() is None for p in procs):
        try:
            text = (out / "gains.csv").read_text()
        except FileNotFoundError:
            continue
        reads += 1
        lines = text.split("\n")
        assert lines[0] == "intermediate,target,language,seed,metric,score,baseline_score,gain", lines[0][:200]
        assert text.endswith("\n") and len(lines) - 2 in sizes, (len(lines), text[-200:])
        seen.add(len(lines) - 2)
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()[-3000:]
    assert reads > 0
    final = pd.read_csv(out / "gains.csv")
    assert len(final) in sizes and pd.read_parquet(out / "gains.parquet").equals(final)
