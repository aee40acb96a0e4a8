"""The Slurm executor's submissions, checked against a fake ``sbatch`` on the PATH: one job
array per phase with the parallelism cap, the phase's time limit, submitit's requeue
signal, and ``afterok`` dependencies between phases."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from taskdiff.study.config import SlurmOptions
from taskdiff.study.graph import Node

submitit = pytest.importorskip("submitit")

FAKE_SBATCH = """#!/bin/sh
n=$(cat "$RECORD/count" 2>/dev/null || echo 1000)
n=$((n + 1))
echo "$n" > "$RECORD/count"
cp "$1" "$RECORD/sbatch-$n.sh"
echo "Submitted batch job $n"
"""


def _node(kind: str, i: int, deps=()) -> Node:
    return Node(f"{kind}{i}", kind, "m", "t", 1, run_id=f"{kind}-{i:016x}", deps=tuple(deps))


@pytest.fixture
def fake_sbatch(tmp_path, monkeypatch) -> Path:
    bin_dir, record = tmp_path / "bin", tmp_path / "record"
    bin_dir.mkdir()
    record.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", "#!/bin/sh\nexit 0\n")):  # submitit looks for srun
        script = bin_dir / name
        script.write_text(text)
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("RECORD", str(record))
    return record


def test_job_arrays_per_phase_chained_with_afterok(tmp_path, fake_sbatch):
    from taskdiff.study.executors.slurm import SlurmExecutor

    opts = SlurmOptions(cluster="slurm", partition="gpu", dependencies="afterok", array_parallelism=3,
                        time={"intermediate": 600, "target": 300, "evaluation": 30}, max_num_timeout=4)
    ex = SlurmExecutor(opts, tmp_path / "slurm", study_name="demo", detach=True)
    ex.start({"config": {}})
    assert ex.chains and ex.detached and "afterok" in ex.describe()
    inters = [_node("intermediate", i) for i in range(4)]
    ex.submit(inters)
    refs = {n.run_id: ex.job_ref(n.run_id) for n in inters}
    assert sorted(refs.values()) == ["1001_0", "1001_1", "1001_2", "1001_3"]
    targets = [_node("target", i, [inters[i].run_id]) for i in range(2)]
    ex.submit(targets, after=refs)
    first = (fake_sbatch / "sbatch-1001.sh").read_text()
    second = (fake_sbatch / "sbatch-1002.sh").read_text()
    assert "#SBATCH --array=0-3%3" in first and "#SBATCH --partition=gpu" in first
    assert "#SBATCH --time=600" in first and "#SBATCH --signal=USR2@" in first  # submitit's checkpoint/requeue
    assert "dependency" not in first and "taskdiff-demo-intermediate" in first
    assert "#SBATCH --dependency=afterok:1001_0:1001_1" in second and "#SBATCH --kill-on-invalid-dep=yes" in second
    assert "#SBATCH --time=300" in second
    assert ex.job_ref(targets[1].run_id) == "1002_1"


def test_wait_mode_off_slurm_and_checkpointable_jobs(tmp_path):
    from taskdiff.study.executors.slurm import NodeJob, SlurmExecutor

    ex = SlurmExecutor(SlurmOptions(cluster="local", dependencies="afterok"), tmp_path / "slurm")
    ex.start({"config": {}})
    assert not ex.chains and not ex.detached  # afterok needs a real Slurm: phase by phase instead
    job = NodeJob({"x": 1})
    again = job.__submitit_checkpoint__({"run_id": "target-0123456789abcdef"})
    assert isinstance(again, submitit.helpers.DelayedSubmission) and again.function is job
    assert again.args == ({"run_id": "target-0123456789abcdef"},)
