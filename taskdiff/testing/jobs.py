"""Fake study jobs: test an executor without a study, a store or a model.

An executor runs ``job(payload, node)`` per node (:mod:`taskdiff.study.node`). These jobs
are module-level functions, so the local executor's ``spawn`` workers can import them:

* :func:`echo_job` - answers at once; ``payload["sleep"]`` seconds of work first, if given;
* :func:`flaky_job` - raises ``ValueError`` for a node whose task is ``"bad"`` and kills its
  own process (exit code 9) for a node whose task is ``"die"``; otherwise :func:`echo_job`.
"""

from __future__ import annotations

import os
import time
from taskdiff.study.node import Node

__all__ = ["echo_job", "flaky_job", "fake_node"]


def echo_job(payload: dict, node: dict) -> dict:
    """A job that does nothing: ``{"run_id": node's, "hit": False, "seconds", "where": pid}``."""
    start = time.perf_counter()
    time.sleep(float(payload.get("sleep", 0.0)))
    return {"run_id": node["run_id"], "hit": bool(payload.get("hit", False)), "seconds": time.perf_counter() - start,
            "where": f"pid:{os.getpid()}"}


def flaky_job(payload: dict, node: dict) -> dict:
    """:func:`echo_job`, except that task ``"bad"`` raises and task ``"die"`` kills the process."""
    if node["task"] == "bad":
        raise ValueError(f"node {node['run_id']} is bad")
    if node["task"] == "die":
        os._exit(9)
    return echo_job(payload, node)


def fake_node(run_id: str, task: str = "t", kind: str = "evaluation", deps: tuple[str, ...] = ()):
    """A resolved :class:`~taskdiff.study.node.Node` that names no real task or model."""

    return Node(key=run_id, kind=kind, model="fake", task=task, seed=1, run_id=run_id, deps=tuple(deps))
