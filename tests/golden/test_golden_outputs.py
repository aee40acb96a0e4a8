"""The redesign keeps every output: a tiny study's gains, scores, run ids and run metrics, and the
profiles of four tasks (one per format family), equal to the files recorded before it (issue 16).

Run ids are the run store's keys: equal ids mean a store filled before the change is reused after it.
"""

from __future__ import annotations

import pytest

from tests.golden.outputs import HERE, compute


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, monkeypatch_module):
    return compute(tmp_path_factory.mktemp("golden"))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TASKDIFF_THREADS", "1")
        yield mp


@pytest.mark.parametrize("name", sorted(p.name for p in (HERE / "data").iterdir()))
def test_output_is_unchanged(outputs, name):
    expected = (HERE / "data" / name).read_text()
    assert name in outputs
    assert outputs[name] == expected, f"{name} differs from tests/golden/data/{name}"
