"""Thread choice by load (taskdiff/threads.py), with a faked load average and core count."""

from __future__ import annotations

import pytest

from taskdiff import threads
from taskdiff.errors import ConfigError
from taskdiff.threads import choose_threads


def test_idle_machine_uses_every_core():
    c = choose_threads("auto", cores=2, load=0.3, env={})
    assert (c.threads, c.busy, c.source) == (2, False, "auto")


@pytest.mark.parametrize("load", [1.5, 2.0, 4.7])
def test_busy_machine_uses_one_thread(load):
    c = choose_threads("auto", cores=2, load=load, env={})
    assert (c.threads, c.busy) == (1, True)
    assert f"{load:.1f}" in c.reason


def test_threshold_is_cores_minus_half():
    assert choose_threads("auto", cores=4, load=3.4, env={}).threads == 4
    assert choose_threads("auto", cores=4, load=3.5, env={}).threads == 1


def test_workers_share_the_cores():
    assert choose_threads("auto", workers=2, cores=2, load=0.1, env={}).threads == 1
    assert choose_threads("auto", workers=2, cores=8, load=0.1, env={}).threads == 4
    assert choose_threads(None, cores=8, load=0.1, env={"TASKDIFF_WORKERS": "4"}).threads == 2


def test_explicit_count_wins_and_warns_when_busy():
    c = choose_threads(2, cores=2, load=3.0, env={})
    assert c.threads == 2 and c.source == "argument" and "warning" in c.reason
    assert "warning" not in choose_threads(2, cores=2, load=0.0, env={}).reason
    e = choose_threads(None, cores=2, load=3.0, env={"TASKDIFF_THREADS": "1"})
    assert (e.threads, e.source) == (1, "environment")


@pytest.mark.parametrize("bad", ["0", "two", "-1"])
def test_bad_count_is_a_config_error_naming_the_variable(bad):
    with pytest.raises(ConfigError, match="TASKDIFF_THREADS|thread count"):
        choose_threads(None, cores=2, load=0.0, env={"TASKDIFF_THREADS": bad})


def test_ensure_threads_applies_once_and_is_recorded(monkeypatch):
    import torch

    from taskdiff.provenance import host_info

    before = torch.get_num_threads()
    threads.reset()
    try:
        monkeypatch.setattr(threads, "load_average", lambda: 5.0)  # busy
        monkeypatch.delenv("TASKDIFF_THREADS", raising=False)
        monkeypatch.delenv("TASKDIFF_WORKERS", raising=False)
        first = threads.ensure_threads("test")
        assert first.threads == 1 == torch.get_num_threads()
        monkeypatch.setattr(threads, "load_average", lambda: 0.0)
        assert threads.ensure_threads("test") is first  # chosen once per process
        rec = host_info()["threads"]
        assert rec["threads"] == 1 and rec["busy"] is True and rec["torch_threads"] == 1
    finally:
        threads.reset()
        torch.set_num_threads(before)


def test_workspace_start_chooses_threads(monkeypatch, tmp_path):
    import torch

    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.store import RunStore

    before = torch.get_num_threads()
    threads.reset()
    try:
        monkeypatch.setattr(threads, "load_average", lambda: 9.0)
        monkeypatch.delenv("TASKDIFF_THREADS", raising=False)
        Workspace(RunStore(tmp_path / "store"))
        assert threads.recorded()["threads"] == 1 == torch.get_num_threads()
    finally:
        threads.reset()
        torch.set_num_threads(before)
