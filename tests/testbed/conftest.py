"""Session fixtures of the full-size testbed tests: one demo run per worker count, shared.

``demo_dir`` runs the demo once with one worker process (``TASKDIFF_DEMO_THREADS=1``) into a
store that is ``$TASKDIFF_TESTBED_STORE`` if set, else ``demo-output/store`` when ``make
demo`` has been run (its encoder and runs are then reused), else a session folder.
``demo_dir_2`` runs it again with two worker processes into a fresh store that shares only
the world and the pretrained encoder (hard links: both are computed in one process with one
thread, whatever the worker count), so the profiles and the whole transfer grid are computed
again in two processes; the tests compare what both print. Every other full-size test reads
``demo_dir`` or adds runs to its store.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run_demo(out: Path, store: Path, workers: int) -> Path:
    from taskdiff.demo import run_demo

    before = os.environ.get("TASKDIFF_DEMO_THREADS")
    os.environ["TASKDIFF_DEMO_THREADS"] = str(workers)
    try:
        run_demo(out, store, progress=False)
    finally:
        if before is None:
            os.environ.pop("TASKDIFF_DEMO_THREADS", None)
        else:
            os.environ["TASKDIFF_DEMO_THREADS"] = before
    return out


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The demo with one worker process (its store: see the module docstring)."""
    store = os.environ.get("TASKDIFF_TESTBED_STORE")
    repo_store = REPO / "demo-output" / "store"
    if not store and repo_store.is_dir():
        store = str(repo_store)
    out = tmp_path_factory.mktemp("demo")
    return _run_demo(out, Path(store) if store else out / "store", workers=1)


@pytest.fixture(scope="session")
def demo_dir_2(demo_dir, tmp_path_factory) -> Path:
    """The demo again with two worker processes; world and encoder linked from ``demo_dir``'s store."""
    from taskdiff.demo import read_summary

    source = Path(read_summary(demo_dir)["store"])
    out = tmp_path_factory.mktemp("demo2")
    store = out / "store"
    for part in ("testbed", "models"):
        if (source / part).is_dir():
            shutil.copytree(source / part, store / part, copy_function=_link_or_copy)
    return _run_demo(out, store, workers=2)


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


@pytest.fixture(scope="session")
def demo_world(demo_dir):
    from taskdiff.demo import demo_world_config, read_summary
    from taskdiff.testbed.world import World

    summary = read_summary(demo_dir)
    world = World(demo_world_config(), Path(summary["store"]))
    return world.build()
