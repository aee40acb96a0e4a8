"""DifficultyProfile: flat keys, JSON round trip, the profile cache and the table."""

from __future__ import annotations

import json

import pytest

from taskdiff.difficulty import FLAT_KEYS, DifficultyProfile, format_profile_table, profile_task

BUDGET = {"epochs": 2, "learning_rate": 1e-3, "batch_size": 8, "precision": "fp32", "max_train_examples": 32,
          "max_held_out": 16}
PARAMS = {"baseline_loss": {"budget": BUDGET}, "vinfo": {"budget": BUDGET, "null_model": "prior"},
          "cartography": {"budget": BUDGET}, "size": {"targets": ["xnli"]}}
MEASURES = ["size", "baseline_loss", "vinfo", "cartography", "logme"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=32, n_eval=16)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def profile(data_dir, store):
    return profile_task("snli", "tiny", measures=MEASURES, data_dir=data_dir, store=store, progress=False,
                        params=PARAMS)


def test_flat_has_exactly_the_analysis_keys(profile):
    flat = profile.to_flat()
    assert tuple(flat) == FLAT_KEYS
    assert set(flat["cartography"]) == {"confidence_mean", "variability_mean", "easy_frac", "ambiguous_frac",
                                        "hard_frac"}
    assert set(flat["probing"]) == {"syntactic", "semantic", "syntax_semantics_index", "selectivity",
                                    "mdl_compression"}
    assert flat["task"] == "snli" and flat["n_examples"] == 32 and flat["n_tokens"] > 32
    for key in ("label_entropy", "baseline_loss", "normalized_baseline_loss", "v_information", "logme"):
        assert isinstance(flat[key], float), key
    assert all(isinstance(v, float) for v in flat["cartography"].values())
    assert all(v is None for v in flat["probing"].values())  # not computed -> null
    assert flat["cost_seconds"] == pytest.approx(sum(m["cost"]["seconds"] for m in profile.measures.values()),
                                                 abs=1e-3)
    prov = flat["provenance"]
    assert prov["model"] == "tiny" and prov["seed"] == 0 and "torch" in prov["versions"]
    assert set(prov["measures"]) == set(MEASURES)
    assert prov["measures"]["baseline_loss"]["params"]["budget"]["epochs"] == 2
    assert set(prov["measures"]["size"]["cost"]) == {"seconds", "examples", "tokens"}


def test_json_round_trip_and_the_analysis_reads_it(profile, tmp_path):
    from taskdiff.analysis.profiles import flatten_profile, is_feature, read_profile
    from taskdiff.schema import FORMAT1_NAMES

    text = profile.to_json(tmp_path / "snli.json")
    assert DifficultyProfile.from_json(text) == profile
    again = DifficultyProfile.from_json(tmp_path / "snli.json")
    assert again == profile and again.to_flat() == profile.to_flat()
    assert json.loads(text) == profile.to_flat()
    read = read_profile(tmp_path / "snli.json")  # the analysis engineer's reader accepts it
    features = {k for k in flatten_profile(read) if is_feature(k)}
    assert features == set(FORMAT1_NAMES)  # details stay under provenance, not features


def test_missing_measures_are_null_and_nan_becomes_null():
    p = DifficultyProfile("toy", "tiny", measures={
        "logme": {"result": {"logme": float("nan")}, "cost": {"seconds": 1.5, "examples": 0, "tokens": 0}}})
    flat = p.to_flat()
    assert flat["logme"] is None and flat["baseline_loss"] is None and flat["cost_seconds"] == 1.5
    assert flat["cartography"]["easy_frac"] is None
    assert DifficultyProfile.from_json(p.to_json()) == p


def test_second_profile_is_read_from_the_store(profile, data_dir, store):
    from taskdiff.transfer.store import RunStore

    n_runs = len(RunStore(store).list_runs())
    again = profile_task("snli", "tiny", measures=MEASURES, data_dir=data_dir, store=store, progress=False,
                         params=PARAMS)
    assert len(RunStore(store).list_runs()) == n_runs
    assert all(m["cached"] for m in again.measures.values())
    first, second = profile.to_flat(), again.to_flat()
    for key in FLAT_KEYS[:-1]:
        assert first[key] == second[key], key
    # another budget is another run; the profile of the shared parts is reused
    other = profile_task("snli", "tiny", measures=["baseline_loss", "cartography"], data_dir=data_dir, store=store,
                         progress=False, params={"baseline_loss": {"budget": {**BUDGET, "epochs": 3}},
                                                 "cartography": {"budget": {**BUDGET, "epochs": 3}}})
    assert not other.measures["baseline_loss"]["cached"] and not other.measures["cartography"]["cached"]
    assert other.measures["cartography"]["cost"]["examples"] == 0  # trained once, by baseline_loss
    result = other.result("cartography")
    assert result["num_epochs"] == 2 and result["skipped_epochs"] == 1  # 3 trained, the first is burn-in


def test_shared_settings_reach_every_measure_that_has_them(profile, data_dir, store):
    p = profile_task("snli", "tiny", measures=["baseline_loss", "cartography", "size"], data_dir=data_dir,
                     store=store, progress=False, params={"*": {"budget": BUDGET}, "size": {"targets": []}})
    assert p.measures["cartography"]["cached"] and p.measures["baseline_loss"]["cached"]  # same budget as above
    assert p.result("size")["vocabulary_overlap"] == {}


def test_table_lists_every_field(profile):
    text = format_profile_table(profile)
    for field in ("n_examples", "baseline_loss", "v_information", "easy_frac", "syntax_semantics_index", "logme",
                  "total cost"):
        assert field in text
    assert "snli" in text.splitlines()[0]
    assert "baseline_loss" in format_profile_table(profile, rich=True)


def test_errors_are_recorded_when_skipping(data_dir, store, tmp_path):
    p = profile_task("snli", "tiny", measures=["size", "probing"], data_dir=data_dir, store=store, progress=False,
                     params={"probing": {"treebank": str(tmp_path / "missing.conllu")}}, skip_errors=True)
    assert "probing" not in p.measures and "treebank not found" in p.provenance["errors"]["probing"]
    assert p.to_flat()["probing"]["syntactic"] is None and "skipped probing" in format_profile_table(p)
    from taskdiff.errors import ConfigError

    with pytest.raises(ConfigError, match="treebank not found"):
        profile_task("snli", "tiny", measures=["probing"], data_dir=data_dir, store=store, progress=False,
                     params={"probing": {"treebank": str(tmp_path / "missing.conllu")}})
    with pytest.raises(ConfigError, match="not computed"):
        profile_task("snli", "tiny", measures=["size"], data_dir=data_dir, store=store, progress=False,
                     params={"vinfo": {}})


def test_profile_of_a_task_file(tmp_path, store):
    rows = [{"id": str(i), "text": "the man" if i % 2 else "the woman", "label": "a" if i % 2 else "b"}
            for i in range(24)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "my_task.yaml").write_text(
        "name: my_file_task\nformat: classification\nlabels: [a, b]\n"
        "local:\n  reader: jsonl\n  files: {train: train.jsonl}\n"
        "  options: {columns: {id: id, text: text, label: label}}\n")
    p = profile_task(None, "tiny", measures="size,logme", store=store, progress=False,
                     task_file=tmp_path / "my_task.yaml")
    assert p.task == "my_file_task" and p.to_flat()["n_examples"] == 24
    assert p.to_flat()["label_entropy"] == pytest.approx(1.0)
