"""Same configuration + same seed -> bit-identical weights and metrics on CPU; provenance.

Protections under test: the seeding of every training phase before its model (and fresh
head) is built (:func:`taskdiff.transfer.phases._train`), the provenance a run records in
its ``config.json``, and the library-version warning on cache hits.
"""

from __future__ import annotations

import json
import random
import re
import warnings

import numpy as np
import pytest

from taskdiff.io import atomic_write_json, sha256_file
from taskdiff.provenance import config_hash, data_fingerprint, library_versions

from .conftest import MAX_EXAMPLES, attempts, study_request, train_config


def _disturb_rngs() -> None:
    """Move every global random generator, as earlier work in the same process would."""
    import torch

    torch.rand(1000)
    random.random()
    np.random.rand(10)


def _target_phase(store_root, data, base: str, task_name: str, seed: int = 5):
    """Train ``task_name`` on the base encoder and evaluate it in German (cached runs)."""
    from taskdiff.transfer.phases import Workspace, eval_spec, run_evaluation, run_training, train_spec
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task

    cfg = train_config()
    ws = Workspace(RunStore(store_root), data, MAX_EXAMPLES, progress=False)
    task = get_task(task_name)
    trained = run_training(ws, train_spec("target", ws, task, "base:tiny", seed, cfg), task, base, cfg, keep="model")
    evaluated = run_evaluation(ws, eval_spec(ws, task, trained.run_id, "de"), task, str(trained.path / "model"), "de")
    metrics = {k: v for k, v in trained.metrics.items() if k != "train_seconds"}
    weights = sha256_file(trained.path / "model" / "model.safetensors")
    return trained.run_id, metrics, evaluated.metrics, weights


@pytest.mark.parametrize("task_name", ["panx", "xquad"])  # a tagging and an extractive QA target
def test_target_phase_is_bit_identical_whatever_ran_before(tmp_path, fixture_data, tiny_path, task_name):
    first = _target_phase(tmp_path / "a", fixture_data, tiny_path, task_name)
    _disturb_rngs()  # e.g. another phase ran first in this process: must not matter
    second = _target_phase(tmp_path / "b", fixture_data, tiny_path, task_name)
    assert second[0] == first[0]  # same spec, same run id
    assert second[3] == first[3], "saved weights differ"
    assert second[1] == first[1] and second[2] == first[2]
    if task_name == "xquad":  # not the determinism of a constant: another seed trains other weights
        other = _target_phase(tmp_path / "a", fixture_data, tiny_path, task_name, seed=6)
        assert other[0] != first[0] and other[3] != first[3]


@pytest.mark.slow
@pytest.mark.parametrize("inter,target", [("ud_en_pos", "panx"), ("snli", "xquad")])
def test_pipeline_is_bit_identical_for_tagging_and_qa_targets(tmp_path, fixture_data, inter, target):
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import run_transfer
    from taskdiff.transfer.store import RunStore

    req = study_request(intermediates=[inter], targets=[target], seeds=[3])
    tables, weights = [], []
    for name in ("a", "b"):
        store = RunStore(tmp_path / name)
        tables.append(run_transfer(req, Workspace(store, fixture_data, MAX_EXAMPLES, progress=False)))
        weights.append(sorted(sha256_file(p) for p in store.runs_dir.glob("*/*/model.safetensors")))
        _disturb_rngs()
    assert tables[0].equals(tables[1]) and weights[0] == weights[1]


def test_run_config_records_versions_config_hash_and_data_fingerprint(finished_study):
    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task

    store = RunStore(finished_study.store)
    ws = Workspace(store, finished_study.data, MAX_EXAMPLES, progress=False)
    snli, xnli = get_task("snli"), get_task("xnli")
    expected_data = {
        "intermediate": data_fingerprint(ws.rows(snli, "train", "en").rows + ws.rows(snli, "selection", "en").rows),
        "evaluation": data_fingerprint(ws.rows(xnli, "evaluation", "de").rows),
    }
    kinds = set()
    for run_id in store.list_runs():
        record = store.load_config(run_id)
        kind, digest = run_id.split("-")
        kinds.add(kind)
        assert record["versions"] == library_versions()
        assert {"python", "torch", "transformers"} <= set(record["versions"])
        assert digest == config_hash(record["config"]) and record["run_id"] == run_id and record["kind"] == kind
        assert re.fullmatch(r"[0-9a-f]{16}", record["config"]["data"])
        if kind in expected_data:
            assert record["config"]["data"] == expected_data[kind]
        if kind != "evaluation":
            assert record["config"]["seed"] == 1 and record["config"]["train"] == train_config().model_dump()
        assert record["attempt"] == 1 and record["previous_error"] is None
    assert kinds == {"intermediate", "target", "evaluation"}


def _fake_old_versions(run_dir) -> None:
    """Make a finished run look as if made with another torch (config.json and its DONE checksum)."""
    config = json.loads((run_dir / "config.json").read_text())
    config["versions"]["torch"] = "0.0.1-old"
    atomic_write_json(run_dir / "config.json", config)
    done = json.loads((run_dir / "DONE").read_text())
    done["sha256"]["config.json"] = sha256_file(run_dir / "config.json")
    atomic_write_json(run_dir / "DONE", done)


def test_cached_run_from_other_versions_warns_through_the_pipeline(tmp_path, finished_study):
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import run_transfer
    from taskdiff.transfer.store import RunStore, VersionMismatchWarning

    study = finished_study.copy(tmp_path)
    store = RunStore(study.store)
    inter = next(r for r in store.list_runs() if r.startswith("intermediate-"))
    _fake_old_versions(store.run_dir(inter))
    assert store.is_done(inter)
    before = attempts(study.store)
    with pytest.warns(VersionMismatchWarning, match=rf"{inter}.*torch 0\.0\.1-old -> "):
        gains = run_transfer(study_request(), Workspace(store, study.data, MAX_EXAMPLES, progress=False))
    assert attempts(study.store) == before  # a warning, not a rerun
    assert gains.equals(finished_study.gains)
    with warnings.catch_warnings():  # the other runs were made with these versions: no warning for them
        warnings.simplefilter("error", VersionMismatchWarning)
        for run_id in store.list_runs():
            if run_id != inter:
                assert store.versions_mismatch(run_id) == {}
