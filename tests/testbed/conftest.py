"""Session fixtures of the full-size testbed tests: one demo run, shared.

``demo_dir`` runs the demo once, with its default worker count (``TASKDIFF_DEMO_THREADS`` if
set, else by load: :func:`taskdiff.demo.demo_workers`), into a store that is
``$TASKDIFF_TESTBED_STORE`` if set, else ``demo-output/store`` when ``make demo`` has been
run (its encoder and runs are then reused), else a session folder. Every full-size test reads
``demo_dir`` or adds runs to its store. The demo is not run a second time with another worker
count: ``test_demo_runs_are_identical_with_the_other_worker_count`` recomputes a sample of its
runs with the other count instead (its docstring says why that suffices).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The demo with its default worker count (its store: see the module docstring)."""
    from taskdiff.demo import run_demo

    store = os.environ.get("TASKDIFF_TESTBED_STORE")
    repo_store = REPO / "demo-output" / "store"
    if not store and repo_store.is_dir():
        store = str(repo_store)
    out = tmp_path_factory.mktemp("demo")
    run_demo(out, Path(store) if store else out / "store", progress=False)
    return out


@pytest.fixture(scope="session")
def demo_world(demo_dir):
    from taskdiff.demo import demo_world_config, read_summary
    from taskdiff.testbed.world import World

    summary = read_summary(demo_dir)
    world = World(demo_world_config(), Path(summary["store"]))
    return world.build()
