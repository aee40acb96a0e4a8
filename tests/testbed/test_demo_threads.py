"""The demo's thread and worker counts: one PyTorch thread per process always (so the numbers do
not depend on the machine), ``$TASKDIFF_DEMO_THREADS`` worker processes (default: by load)."""

from __future__ import annotations

import os

import pandas as pd
import pytest


@pytest.fixture()
def restore_threads():
    import torch

    from taskdiff import threads

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
    threads.reset()


def test_default_workers_follow_the_load(monkeypatch):
    from taskdiff import threads
    from taskdiff.demo import default_threads, demo_workers

    monkeypatch.delenv("TASKDIFF_DEMO_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "load_average", lambda: 0.2)
    assert default_threads() == 2 == demo_workers()
    monkeypatch.setattr(threads, "load_average", lambda: 3.0)  # busy: one process
    assert default_threads() == 1 == demo_workers()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(threads, "load_average", lambda: 0.0)
    assert default_threads() == 1


def test_computation_is_one_thread_whatever_the_variable(monkeypatch, restore_threads):
    import torch

    from taskdiff.demo import limit_threads

    for value, workers in (("1", 1), ("2", 2), ("3", 3)):
        monkeypatch.setenv("TASKDIFF_DEMO_THREADS", value)
        torch.set_num_threads(2)
        assert limit_threads() == workers
        assert torch.get_num_threads() == 1


def test_bad_variable_is_a_config_error(monkeypatch):
    from taskdiff.demo import demo_workers
    from taskdiff.errors import ConfigError

    monkeypatch.setenv("TASKDIFF_DEMO_THREADS", "two")
    with pytest.raises(ConfigError, match="TASKDIFF_DEMO_THREADS"):
        demo_workers()


def small_demo_world():
    from taskdiff.testbed.tasks import TaskSpec
    from taskdiff.testbed.world import WorldConfig

    size = dict(size=60, n_validation=20, n_test=30)
    inter = (TaskSpec(name="tb_entail", kind="entail", **size),
             TaskSpec(name="tb_entail_n40", kind="entail", label_noise=0.4, **size))
    targets = (TaskSpec(name="tbx_nli", kind="entail", role="target", **size),
               TaskSpec(name="tbx_retrieval", kind="retrieval", role="target", n_test=30))
    return WorldConfig.small(intermediates=inter, targets=targets)


@pytest.mark.slow
def test_small_demo_identical_with_one_and_two_workers(tmp_path, monkeypatch, restore_threads):
    """The same small demo (its own world) with 1 and 2 worker processes, separate stores:
    identical gains, profiles and planted-relation fit (a fresh world and encoder each time)."""
    from taskdiff.demo import read_summary, run_demo

    outs = []
    for workers in ("1", "2"):
        monkeypatch.setenv("TASKDIFF_DEMO_THREADS", workers)
        out = tmp_path / f"w{workers}"
        run_demo(out, out / "store", progress=False, seeds=(1,), intermediates=["tb_entail", "tb_entail_n40"],
                 targets=["tbx_nli"], world_config=small_demo_world())
        outs.append(out)
        assert read_summary(out)["workers"] == int(workers)
    a, b = (pd.read_csv(o / "gains.csv") for o in outs)
    pd.testing.assert_frame_equal(a, b)
    for name in ("tb_entail", "tb_entail_n40"):
        pa, pb = ((o / "profiles" / f"{name}.json").read_text() for o in outs)
        assert _measures(pa) == _measures(pb)


def _measures(text: str) -> dict:
    """A profile's values without its provenance and timings (which differ between runs)."""
    import json

    return {k: v for k, v in json.loads(text).items() if k not in ("provenance", "cost_seconds")}
