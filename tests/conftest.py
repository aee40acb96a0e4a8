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
