"""The demo's PyTorch thread count: two by default (fewer CPUs: fewer), the variable overrides it."""

from __future__ import annotations

import os

import pytest


@pytest.fixture()
def restore_threads():
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_default_is_two_threads_or_the_cpus_available(monkeypatch, restore_threads):
    import torch

    from taskdiff.demo import default_threads, limit_threads

    monkeypatch.delenv("TASKDIFF_DEMO_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert default_threads() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_threads() == 1
    assert limit_threads() == 1 == torch.get_num_threads()


def test_the_variable_sets_the_count(monkeypatch, restore_threads):
    import torch

    from taskdiff.demo import limit_threads

    monkeypatch.setenv("TASKDIFF_DEMO_THREADS", "1")
    assert limit_threads() == 1 == torch.get_num_threads()
    monkeypatch.setenv("TASKDIFF_DEMO_THREADS", "0")  # 0: leave PyTorch's own default
    torch.set_num_threads(2)
    assert limit_threads() == 2
