"""Tests of the run store, provenance hashing and atomic file IO."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import filelock
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdiff import io as tio
from taskdiff import provenance
from taskdiff.errors import ConfigError, DataError
from taskdiff.transfer.store import (RunLockedError, RunNotDoneError, RunSpec, RunStore,
                                     VersionMismatchWarning)

CONFIG = {"model": "xlm-r", "task": "mnli", "seed": 1, "lr": 2e-5, "layers": [1, 2],
          "parents": ["intermediate-0123456789abcdef"]}


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "store")


def _fn(metrics=None, calls=None):
    def fn(handle):
        if calls is not None:
            calls.append(handle.run_id)
        handle.write_json("predictions.json", {"ids": [1, 2, 3]})
        (handle.checkpoint_dir / "model.bin").write_bytes(b"weights")
        return metrics or {"accuracy": 0.75}
    return fn


# ---------------------------------------------------------------- hashing / provenance

def test_hash_ignores_key_order_tuples_and_integral_floats():
    a = RunSpec("target", CONFIG)
    b = RunSpec("target", dict(reversed(list({**CONFIG, "layers": (1, 2)}.items()))))
    c = RunSpec("target", {**CONFIG, "seed": 1.0})
    assert a.run_id == b.run_id == c.run_id and a == b and hash(a) == hash(c)
    assert a.run_id.startswith("target-") and len(a.run_id) == len("target-") + 16


def test_hash_distinguishes_values_kinds_and_bools():
    base = RunSpec("target", CONFIG)
    assert RunSpec("target", {**CONFIG, "seed": 2}).run_id != base.run_id
    assert RunSpec("evaluation", CONFIG).run_id != base.run_id
    assert RunSpec("target", {**CONFIG, "lr": 2.00001e-5}).run_id != base.run_id
    assert provenance.config_hash({"x": True}) != provenance.config_hash({"x": 1})
    assert provenance.config_hash({"x": 0.5}) != provenance.config_hash({"x": 1})


def test_canonical_json_rules():
    assert provenance.canonical_json({"b": (1, 2.0), "a": {"z": None, "y": Path("d/e")}}) == \
        '{"a":{"y":"d/e","z":null},"b":[1,2]}'
    assert provenance.canonical_json({"s": {3, 1, 2}, 5: "x"}) == '{"5":"x","s":[1,2,3]}'
    with pytest.raises(ValueError):
        provenance.canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        provenance.canonical_json({("a",): 1})
    with pytest.raises(ConfigError):
        RunSpec("target", {"x": float("inf")})
    with pytest.raises(ConfigError):
        RunSpec("Bad Kind", {})


def test_canonical_json_numpy():
    np = pytest.importorskip("numpy")
    assert provenance.canonical_json({"a": np.int64(3), "b": np.arange(2), "c": np.float64(0.5)}) == \
        '{"a":3,"b":[0,1],"c":0.5}'


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10)


def _shuffle(obj, rnd):
    if isinstance(obj, dict):
        items = list(obj.items())
        rnd.shuffle(items)
        return {k: _shuffle(v, rnd) for k, v in items}
    if isinstance(obj, list):
        return tuple(_shuffle(v, rnd) for v in obj)
    return obj


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5), st.randoms())
def test_hash_invariant_under_reordering_property(config, rnd):
    assert provenance.config_hash(_shuffle(config, rnd)) == provenance.config_hash(config)
    assert json.loads(provenance.canonical_json(config)) == provenance.normalize(config)


def test_library_versions_lazy_and_cached():
    code = ("import sys; from taskdiff.provenance import library_versions as v; "
            "d = v(); print('torch' in sys.modules, 'python' in d, 'taskdiff' in d, v() == d)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True", "True"]
    versions = provenance.library_versions()
    versions["python"] = "0"
    assert provenance.library_versions()["python"] != "0"  # callers get a copy


def test_data_fingerprint_rows_and_files(tmp_path: Path):
    rows = [{"id": "1", "text": "a"}, {"text": "b", "id": "2"}]
    same = [{"text": "a", "id": "1"}, {"id": "2", "text": "b"}]
    assert provenance.data_fingerprint(rows) == provenance.data_fingerprint(same)
    assert provenance.data_fingerprint(rows) != provenance.data_fingerprint(rows[::-1])
    for sub in ("x", "y"):
        (tmp_path / sub / "data").mkdir(parents=True)
        (tmp_path / sub / "data" / "train.tsv").write_text("a\tb\n")
    fx, fy = (provenance.data_fingerprint(tmp_path / s / "data") for s in ("x", "y"))
    assert fx == fy == provenance.data_fingerprint(str(tmp_path / "x" / "data"))
    assert provenance.data_fingerprint([tmp_path / "x" / "data" / "train.tsv"]) != fx
    (tmp_path / "y" / "data" / "train.tsv").write_text("a\tc\n")
    assert provenance.data_fingerprint(tmp_path / "y" / "data") != fx
    with pytest.raises(FileNotFoundError):
        provenance.data_fingerprint(tmp_path / "missing")


# ---------------------------------------------------------------- atomic IO

def test_atomic_write_json_canonical(tmp_path: Path):
    path = tio.atomic_write_json(tmp_path / "sub" / "a.json", {"b": 1, "a": "é", "c": (1, 2)})
    assert path.read_text(encoding="utf-8") == '{\n  "a": "é",\n  "b": 1,\n  "c": [\n    1,\n    2\n  ]\n}\n'
    with pytest.raises(ValueError):
        tio.atomic_write_json(tmp_path / "n.json", {"x": float("nan")})
    tio.atomic_write_json(tmp_path / "n.json", {"x": float("nan")}, allow_nan=True)
    assert "NaN" in (tmp_path / "n.json").read_text()


def _no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if tio.is_temp_file(p)]


@pytest.mark.parametrize("failing", ["os.fsync", "os.replace"])
def test_atomic_write_keeps_old_content_on_failure(tmp_path: Path, monkeypatch, failing):
    target = tmp_path / "metrics.json"
    tio.atomic_write_json(target, {"old": 1})

    def boom(*args, **kwargs):
        raise OSError("simulated crash mid-write")
    monkeypatch.setattr(failing, boom)
    with pytest.raises(OSError, match="simulated"):
        tio.atomic_write_json(target, {"new": 2})
    monkeypatch.undo()
    assert tio.read_json(target) == {"old": 1}
    assert _no_temp_files(tmp_path)


def test_atomic_open_exception_in_block_keeps_old_content(tmp_path: Path):
    target = tmp_path / "big.bin"
    tio.atomic_write_bytes(target, b"old")
    with pytest.raises(RuntimeError):
        with tio.atomic_open(target) as fh:
            fh.write(b"half of the new cont")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and _no_temp_files(tmp_path)
    with pytest.raises(TypeError):
        tio.atomic_write_json(target, {"x": object()})
    assert target.read_bytes() == b"old" and _no_temp_files(tmp_path)


def test_read_json_reports_line_and_column(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "a": 1,\n  "b": oops\n}\n')
    with pytest.raises(DataError) as info:
        tio.read_json(bad)
    assert info.value.line == 3 and info.value.column == 8
    assert "bad.json:3" in str(info.value) and "column 8" in str(info.value)
    bad.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(DataError, match="UTF-8"):
        tio.read_json(bad)


def test_atomic_write_csv_and_sha256(tmp_path: Path):
    rows = [{"lang": "de", "acc": 0.5}, {"lang": "fr", "acc": 0.25, "f1": 1}]
    path = tio.atomic_write_csv(rows, tmp_path / "t.csv")
    assert path.read_text() == "lang,acc,f1\nde,0.5,\nfr,0.25,1\n"
    tio.atomic_write_csv([[1, 2]], tmp_path / "u.csv", columns=["a", "b"])
    assert (tmp_path / "u.csv").read_text() == "a,b\n1,2\n"
    pd = pytest.importorskip("pandas")
    tio.atomic_write_csv(pd.DataFrame(rows), tmp_path / "v.csv")
    assert (tmp_path / "v.csv").read_text() == "lang,acc,f1\nde,0.5,\nfr,0.25,1.0\n"
    assert tio.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_atomic_dir(tmp_path: Path):
    target = tmp_path / "model"
    with pytest.raises(RuntimeError):
        with tio.atomic_dir(target) as tmp:
            (tmp / "weights.bin").write_bytes(b"half")
            raise RuntimeError("killed")
    assert not target.exists() and [p.name for p in tmp_path.iterdir()] == [".model.lock"]
    with tio.atomic_dir(target) as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "w.bin").write_bytes(b"one")
    with tio.atomic_dir(target) as tmp:  # someone else built it first: kept
        (tmp / "x.bin").write_bytes(b"two")
    assert [p.name for p in target.rglob("*")] == ["sub", "w.bin"]
    with tio.atomic_dir(target, replace=True) as tmp:
        (tmp / "x.bin").write_bytes(b"two")
    assert [p.name for p in target.iterdir()] == ["x.bin"] and len(list(tmp_path.iterdir())) == 2


def test_remove_temp_files(tmp_path: Path):
    (tmp_path / ".a.json.x1.tmp").write_text("partial")
    (tmp_path / "d" / ".model.x2.tmp").mkdir(parents=True)
    (tmp_path / "d" / ".model.x2.tmp" / ".inner.x3.tmp").write_text("")
    (tmp_path / "keep.tmp").write_text("not ours")
    assert tio.remove_temp_files(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["d", "keep.tmp"]


# ---------------------------------------------------------------- store

def test_spec_pickles_and_refuses_bad_input():
    import pickle
    spec = RunSpec("target", CONFIG)
    copy = pickle.loads(pickle.dumps(spec))
    assert copy == spec and copy.run_id == spec.run_id and copy.config == spec.config
    with pytest.raises(ConfigError):
        RunSpec("target", [1, 2])
    with pytest.raises(ConfigError):
        RunSpec("target", {"x": object()})


def test_tracked_directory_is_checksummed_file_by_file(store: RunStore):
    spec = RunSpec("intermediate", CONFIG)

    def fn(handle):
        for name in ("encoder/config.json", "encoder/model.safetensors"):
            handle.file(name).write_text(name)
        handle.track("encoder")
        return {"loss": 0.1}
    run = store.get_or_run(spec, fn).path
    assert set(tio.read_json(run / "DONE")["sha256"]) == \
        {"config.json", "metrics.json", "encoder/config.json", "encoder/model.safetensors"}
    (run / "encoder" / "model.safetensors").write_text("truncated")
    assert not store.is_done(spec)


def test_root_from_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TASKDIFF_HOME", str(tmp_path / "home"))
    assert RunStore().root == tmp_path / "home"
    assert RunStore(tmp_path / "x").root == tmp_path / "x"


def test_second_get_or_run_is_a_hit(store: RunStore, caplog):
    spec, calls = RunSpec("target", CONFIG), []
    first = store.get_or_run(spec, _fn(calls=calls))
    assert not first.hit and first.metrics == {"accuracy": 0.75} and calls == [spec.run_id]
    with caplog.at_level(logging.INFO, logger="taskdiff.transfer.store"):
        second = store.get_or_run(RunSpec("target", dict(reversed(CONFIG.items()))), _fn(calls=calls))
    assert second.hit and second.metrics == first.metrics and len(calls) == 1
    assert "cache hit" in caplog.text
    assert store.is_done(spec) and store.load_metrics(spec.run_id) == {"accuracy": 0.75}
    record = store.load_config(spec)
    assert record["config"] == spec.config and record["pid"] == os.getpid()
    assert record["versions"] == provenance.library_versions() and record["attempt"] == 1


@pytest.mark.parametrize("damage", ["corrupt", "delete", "truncate_done", "config"])
def test_damaged_run_is_not_done(store: RunStore, damage):
    spec = RunSpec("target", CONFIG)
    run = store.get_or_run(spec, _fn()).path
    if damage == "corrupt":
        (run / "predictions.json").write_text('{"ids": [1, 2, 4]}\n')
    elif damage == "delete":
        (run / "predictions.json").unlink()
    elif damage == "truncate_done":
        (run / "DONE").write_text('{"run_id": ')
    else:
        (run / "config.json").write_text("{}\n")
    assert not store.is_done(spec) and store.state(spec) == "failed"
    with pytest.raises(RunNotDoneError):
        store.load_metrics(spec)
    calls = []
    assert not store.get_or_run(spec, _fn(calls=calls)).hit and calls
    assert store.is_done(spec)


def test_done_marker_of_another_run_is_rejected(store: RunStore):
    a, b = RunSpec("target", CONFIG), RunSpec("target", {**CONFIG, "seed": 2})
    store.get_or_run(a, _fn())
    store.begin(b)
    (store.run_dir(b) / "DONE").write_bytes((store.run_dir(a) / "DONE").read_bytes())
    assert store.is_done(a) and not store.is_done(b)


def test_failure_writes_error_keeps_checkpoints_and_reraises(store: RunStore):
    spec = RunSpec("target", CONFIG)

    def failing(handle):
        (handle.checkpoint_dir / "step-100.bin").write_bytes(b"state")
        raise RuntimeError("loss is NaN")
    with pytest.raises(RuntimeError, match="loss is NaN"):
        store.get_or_run(spec, failing)
    run = store.run_dir(spec)
    error = tio.read_json(run / "ERROR.json")
    assert error["type"] == "RuntimeError" and error["message"] == "loss is NaN" and error["time"]
    assert (run / "checkpoints" / "step-100.bin").read_bytes() == b"state"
    assert not store.is_done(spec) and store.status() == {"done": 0, "running": 0, "failed": 1, "pending": 0}

    def resume(handle):
        assert (handle.checkpoint_dir / "step-100.bin").exists()
        return {"accuracy": 1.0}
    assert store.get_or_run(spec, resume).metrics == {"accuracy": 1.0}
    assert not (run / "ERROR.json").exists()
    record = store.load_config(spec)
    assert record["attempt"] == 2 and record["previous_error"]["type"] == "RuntimeError"


def test_bad_metrics_and_bad_names(store: RunStore):
    spec = RunSpec("target", CONFIG)
    with pytest.raises(TypeError):
        store.get_or_run(spec, lambda h: [0.5])
    assert tio.read_json(store.run_dir(spec) / "ERROR.json")["type"] == "TypeError"
    with pytest.raises(ValueError):
        store.get_or_run(spec, lambda h: {"f1": float("nan")})
    handle = store.begin(spec)
    for name in ("DONE", "metrics.json", "./config.json", "../escape.json", "/abs.json"):
        with pytest.raises(ConfigError):
            handle.write_json(name, {})
    with pytest.raises(FileNotFoundError):
        handle.finish({"a": 1}, files=["never-written.bin"])
    with pytest.raises(ConfigError):
        store.is_done("../../etc")


def test_fn_may_finish_itself(store: RunStore):
    spec = RunSpec("evaluation", {"run": "target-0123456789abcdef"})

    def fn(handle):
        handle.file("preds.txt").write_text("x\n")
        handle.finish({"em": 0.5}, files=["preds.txt"])
    assert store.get_or_run(spec, fn).metrics == {"em": 0.5}
    (store.run_dir(spec) / "preds.txt").write_text("y\n")
    assert not store.is_done(spec)


def test_versions_mismatch_warns(store: RunStore, monkeypatch, caplog):
    spec = RunSpec("target", CONFIG)
    store.get_or_run(spec, _fn())
    assert store.versions_mismatch(spec) == {}
    current = provenance.library_versions()
    monkeypatch.setattr(provenance, "library_versions", lambda: {**current, "torch": "99.0"})
    with pytest.warns(VersionMismatchWarning, match="torch"), caplog.at_level(logging.WARNING):
        result = store.get_or_run(spec, _fn())
    assert result.hit and "torch" in caplog.text
    with pytest.warns(VersionMismatchWarning):
        assert store.versions_mismatch(spec) == {"torch": (current.get("torch"), "99.0")}


def test_status_states_and_invalidate(store: RunStore):
    done, failed, pending = (RunSpec("target", {**CONFIG, "seed": s}) for s in (1, 2, 3))
    store.get_or_run(done, _fn())
    store.begin(failed)
    running = RunSpec("target", {**CONFIG, "seed": 4})
    with store.lock(running):
        store.begin(running)
        assert store.state(running) == "running"
        assert store.status([done, failed, pending, running]) == \
            {"done": 1, "running": 1, "failed": 1, "pending": 1}
        with pytest.raises(RunLockedError):
            store.invalidate(running)
        with pytest.raises(RunLockedError):
            store.get_or_run(running, _fn(), timeout=0.1)
    assert store.list_runs() == sorted(s.run_id for s in (done, failed, running))
    assert store.invalidate(done) and not store.invalidate(done)
    assert store.state(done) == "pending" and not store.run_dir(done).exists()


def test_begin_removes_stale_done_and_temp_files(store: RunStore):
    spec = RunSpec("target", CONFIG)
    run = store.get_or_run(spec, _fn()).path
    (run / ".metrics.json.abc123.tmp").write_text("partial")
    store.begin(spec)
    assert not (run / "DONE").exists() and not (run / ".metrics.json.abc123.tmp").exists()
    assert (run / "checkpoints" / "model.bin").exists()


# ---------------------------------------------------------------- concurrency

def _concurrent_worker(root: str, counter: str) -> bool:
    """Run in a spawned process: get_or_run on a shared spec; count fn calls in a file."""
    def fn(handle):
        with filelock.FileLock(counter + ".lock"):
            with open(counter, "a") as fh:
                fh.write(f"{os.getpid()}\n")
        time.sleep(0.4)
        return {"accuracy": 0.5}
    return RunStore(root).get_or_run(RunSpec("target", CONFIG), fn, timeout=60).hit


def test_concurrent_processes_run_fn_once(tmp_path: Path):
    root, counter = str(tmp_path / "store"), str(tmp_path / "calls.txt")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        hits = pool.starmap(_concurrent_worker, [(root, counter)] * 4, chunksize=1)
    assert len(Path(counter).read_text().split()) == 1
    assert sorted(hits) == [False, True, True, True]
    assert RunStore(root).is_done(RunSpec("target", CONFIG))


def test_fn_errors_are_not_mistaken_for_lock_timeouts(store: RunStore):
    def fn(handle):
        raise filelock.Timeout("some/other.lock")
    with pytest.raises(filelock.Timeout) as info:
        store.get_or_run(RunSpec("target", CONFIG), fn)
    assert not isinstance(info.value, RunLockedError)


def test_done_check_hashes_an_unchanged_file_once_and_a_rewritten_one_again(tmp_path, monkeypatch):
    import os

    import taskdiff.io as tio

    calls = []
    real = tio.sha256_file
    monkeypatch.setattr(tio, "sha256_file", lambda p: calls.append(str(p)) or real(p))
    f = tmp_path / "weights.bin"
    f.write_bytes(b"a" * 1000)
    first = tio.sha256_file_cached(f)
    assert tio.sha256_file_cached(f) == first and len(calls) == 1  # unchanged: remembered
    f.write_bytes(b"b" * 1000)  # same size, new content: the mtime moves
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # even on a coarse clock
    assert tio.sha256_file_cached(f) == real(f) != first and len(calls) == 2
