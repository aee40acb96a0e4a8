"""Executors run the job they are given: the local executor on fake jobs, no study involved."""

from __future__ import annotations

import pytest

from taskdiff.study.executors.local import LocalExecutor
from taskdiff.testing.jobs import echo_job, fake_node, flaky_job


def _run_all(ex, nodes) -> dict:
    ex.submit(nodes)
    outcomes = {}
    while len(outcomes) < len(nodes):
        for o in ex.wait(timeout=30):
            outcomes[o.run_id] = o
    ex.close()
    return outcomes


def test_in_process_executor_runs_the_given_job():
    ex = LocalExecutor(0)
    ex.start({"hit": True}, echo_job)
    out = _run_all(ex, [fake_node("a"), fake_node("b")])
    assert all(o.ok and o.hit for o in out.values()) and set(out) == {"a", "b"}


def test_in_process_failure_is_an_outcome_or_raises_when_asked():
    ex = LocalExecutor(0)
    ex.start({}, flaky_job)
    out = _run_all(ex, [fake_node("a"), fake_node("b", task="bad")])
    assert out["a"].ok and not out["b"].ok and "ValueError: node b is bad" in out["b"].error
    strict = LocalExecutor(0, raise_errors=True)
    strict.start({}, flaky_job)
    strict.submit([fake_node("c", task="bad")])
    with pytest.raises(ValueError, match="node c is bad"):
        strict.wait()


def test_worker_processes_run_the_job_and_report_failures_and_deaths():
    ex = LocalExecutor(2)
    ex.start({}, flaky_job)
    try:
        out = _run_all(ex, [fake_node("a"), fake_node("b", task="bad"), fake_node("c", task="die"), fake_node("d")])
    finally:
        ex.close(cancel=True)
    assert out["a"].ok and out["d"].ok and out["a"].where.startswith("pid:")
    assert not out["b"].ok and "node b is bad" in out["b"].error and not out["b"].worker_died
    assert not out["c"].ok and out["c"].worker_died and "exit code 9" in out["c"].error
