"""Kill real processes (SIGKILL) at random points of a run; the store must never lie.

After every kill a run is either validly done (``DONE`` present and every listed file has
exactly the content the run wrote) or not done; a ``DONE`` next to bad files would be a
bug. Rerunning must then complete the run (the kernel frees the dead holder's lock).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from taskdiff.io import is_temp_file
from taskdiff.transfer.store import RunSpec, RunStore

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

ITERATIONS = 15
PARTS = 4
RUN_SECONDS = PARTS * 0.06  # the sleeps in fn below

# Shared by the child script and the in-process rerun: what fn writes, deterministically.
FN_SOURCE = textwrap.dedent('''
    import hashlib, time

    def content(name):
        return hashlib.sha256(name.encode()).digest() * 8192  # 256 KiB

    def fn(handle, started=None):
        if started:
            open(started, "w").close()
        (handle.checkpoint_dir / "resume.txt").write_text("step")
        for k in range(PARTS):
            name = f"part{k}.bin"
            data = content(name)
            with open(handle.file(name), "wb") as fh:  # deliberately not atomic
                fh.write(data[: len(data) // 2])
                fh.flush()
                time.sleep(0.015)
                fh.write(data[len(data) // 2:])
            time.sleep(0.015)
            handle.track(name)
            handle.write_json(f"extra{k}.json", {"k": k, "pad": "x" * 5000})
            time.sleep(0.03)
        return {"parts": PARTS, "score": 0.5}
''').replace("PARTS", str(PARTS))

CHILD = FN_SOURCE + textwrap.dedent('''
    import sys
    from taskdiff.transfer.store import RunSpec, RunStore
    root, index, started = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    RunStore(root).get_or_run(RunSpec("target", {"index": index}),
                              lambda h: fn(h, started), timeout=30)
''')

namespace: dict = {}
exec(FN_SOURCE, namespace)  # noqa: S102 - our own constant source
fn, content = namespace["fn"], namespace["content"]


def _wait_for(path: Path, proc: subprocess.Popen, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists() and proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError("child never started its run")
        time.sleep(0.002)


def _assert_consistent(store: RunStore, spec: RunSpec) -> bool:
    """Either validly done with the exact expected files, or not done; return done."""
    run = store.run_dir(spec)
    done = store.is_done(spec)
    if (run / "DONE").exists():
        assert done, f"DONE present but checksums do not match in {run}"
    if done:
        for k in range(PARTS):
            assert (run / f"part{k}.bin").read_bytes() == content(f"part{k}.bin")
        assert store.load_metrics(spec) == {"parts": PARTS, "score": 0.5}
    assert store.state(spec) in (("done",) if done else ("failed", "pending"))
    return done


def test_sigkill_at_random_points_never_leaves_a_false_done(tmp_path: Path):
    rnd = random.Random(20240611)
    store = RunStore(tmp_path / "store")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    outcomes = []
    for index in range(ITERATIONS):
        spec, started = RunSpec("target", {"index": index}), tmp_path / f"started-{index}"
        proc = subprocess.Popen([sys.executable, str(script), str(store.root), str(index), str(started)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for(started, proc)
        time.sleep(rnd.uniform(0.0, RUN_SECONDS * 1.3))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode in (0, -signal.SIGKILL), err.decode()
        outcomes.append(_assert_consistent(store, spec))

        result = store.get_or_run(spec, fn, timeout=10)  # resume: the lock was freed by the kernel
        assert result.hit == outcomes[-1]
        assert _assert_consistent(store, spec)
        assert not [p for p in store.run_dir(spec).rglob("*") if is_temp_file(p)]
    assert not all(outcomes), "no kill landed inside a run; the test proves nothing"
    assert store.status() == {"done": ITERATIONS, "running": 0, "failed": 0, "pending": 0}


def test_kill_during_finish_window(tmp_path: Path, monkeypatch):
    """Dying between metrics.json and DONE (simulated) leaves a run that is not done."""
    import taskdiff.transfer.store as store_module

    store, spec = RunStore(tmp_path / "store"), RunSpec("target", {"index": -1})
    real = store_module.atomic_write_json

    def dies_on_done(path, obj, **kwargs):
        if Path(path).name == "DONE":
            raise KeyboardInterrupt("killed")
        return real(path, obj, **kwargs)
    monkeypatch.setattr(store_module, "atomic_write_json", dies_on_done)
    with pytest.raises(KeyboardInterrupt):
        store.get_or_run(spec, fn)
    monkeypatch.undo()
    assert (store.run_dir(spec) / "metrics.json").exists() and not store.is_done(spec)
    assert not store.get_or_run(spec, fn).hit and _assert_consistent(store, spec)
