"""Study directory reading: gains validation, profile flattening, the joined table."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from taskdiff.analysis.gains import read_gains
from taskdiff.analysis.profiles import flatten_profile, read_profile
from taskdiff.analysis.table import build_table, load_study
from taskdiff.errors import DataError, UnknownNameError


def test_load_study_joins_flattened_features(effect_study):
    table = load_study(effect_study)
    df = table.data
    assert len(df) == 12 * 3 * 4 * 3
    for col in ("cartography.easy_frac", "probing.syntactic", "logme", "log_n_examples",
                "gain_z", "primary"):
        assert col in df.columns
    assert not any(f.startswith("provenance") for f in table.features)
    assert "cost_seconds" not in table.features
    assert "extra.note" not in table.features and "extra.flag" not in table.features
    assert table.profiles["extra.unknown"].isna().all()  # null -> NaN
    assert "extra.unknown" not in table.usable_features()
    assert "n_examples" not in table.usable_features()  # log10 version is used instead
    prof = json.loads((effect_study / "profiles" / "task03.json").read_text())
    row = df[df["intermediate"] == "task03"].iloc[0]
    assert row["cartography.easy_frac"] == pytest.approx(prof["cartography"]["easy_frac"])
    assert row["log_n_examples"] == pytest.approx(np.log10(prof["n_examples"]))
    assert table.n_tasks == 12 and table.targets == ["xnli", "pawsx", "panx"]


def test_gain_z_is_standardised_within_target(effect_study):
    df = load_study(effect_study).data
    g = df.groupby(["target", "metric"])["gain_z"]
    assert np.allclose(g.mean(), 0, atol=1e-12)
    assert np.allclose(g.std(), 1)


def test_task_means_average_seeds_then_languages(effect_study):
    table = load_study(effect_study)
    df = table.primary()
    sub = df[(df["intermediate"] == "task02") & (df["target"] == "pawsx")]
    expect = sub.groupby("language")["gain"].mean().mean()
    assert table.task_means().loc["task02", "pawsx"] == pytest.approx(expect)


def test_source_records_checksums_and_provenance(effect_study):
    table = load_study(effect_study)
    digest = hashlib.sha256((effect_study / "gains.csv").read_bytes()).hexdigest()
    assert table.source.checksums["gains.csv"] == digest
    assert "profiles/task00.json" in table.source.checksums
    assert table.source.provenance["task00"]["model"] == "tiny"


def _two_metrics(sim):
    gains, profiles = sim.study(0, n_tasks=5)
    f1 = gains[gains["target"] == "xnli"].assign(metric="f1")
    return pd.concat([gains, f1], ignore_index=True), profiles


def test_primary_metric_preferred_first_listed_or_chosen(sim):
    gains, profiles = _two_metrics(sim)  # xnli: accuracy listed first, then f1
    table = build_table(gains, profiles)
    assert table.primary_metrics["xnli"] == "f1"  # "f1" is preferred wherever present
    assert set(table.primary()["metric"]) == {"accuracy", "f1"}
    assert set(table.primary()[table.primary()["target"] == "xnli"]["metric"]) == {"f1"}
    chosen = build_table(gains, profiles, metrics={"xnli": "accuracy"})
    assert chosen.primary_metrics == {"xnli": "accuracy", "pawsx": "accuracy",
                                      "panx": "accuracy"}
    renamed = gains.replace({"metric": {"accuracy": "em", "f1": "loss"}})
    assert build_table(renamed, profiles).primary_metrics["xnli"] == "em"  # first listed
    with pytest.raises(DataError, match="metric 'bleu'"):
        build_table(gains, profiles, metrics={"xnli": "bleu"})


def test_candidate_profiles_are_not_part_of_the_study(effect_study, tmp_path):
    import shutil
    study = shutil.copytree(effect_study, tmp_path / "s")
    (study / "profiles" / "task00.candidate.json").write_text('{"task": "task00"}')
    assert load_study(study).n_tasks == 12


def _write(tmp_path, text):
    p = tmp_path / "gains.csv"
    p.write_text(text)
    return p


HEADER = "intermediate,target,language,seed,metric,score,baseline_score,gain\n"


@pytest.mark.parametrize("body, match", [
    ("mnli,xnli,de,1,acc,71,70,1\nmnli,xnli,de,2,acc,abc,70,1\n",
     r"gains.csv:3 \(field 'score'\).*'abc'"),
    ("mnli,xnli,de,1.5,acc,71,70,1\n", r":2 \(field 'seed'\).*integer seed"),
    ("mnli,,de,1,acc,71,70,1\n", r":2 \(field 'target'\).*non-empty"),
    ("mnli,xnli,de,1,acc,71,70,1\nmnli,xnli,de,1,acc,72,70,2\n", r":3.*one row per.*lines 2, 3"),
    ("mnli,xnli,de,1,acc,71,70,5\n", r":2 \(field 'gain'\).*score - baseline_score"),
    ("mnli,xnli,de,1,acc,nan,70,1\n", r"finite number"),
])
def test_gains_errors_name_line_field_expected_found(tmp_path, body, match):
    with pytest.raises(DataError, match=match):
        read_gains(_write(tmp_path, HEADER + body))


def test_gains_missing_column_and_file(tmp_path):
    with pytest.raises(DataError, match=r":1.*no column gain"):
        read_gains(_write(tmp_path, HEADER.replace(",gain\n", "\n")))
    with pytest.raises(DataError, match="no such file"):
        read_gains(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="only a header"):
        read_gains(_write(tmp_path, HEADER))


def test_baseline_rows_are_dropped_with_warning(tmp_path):
    body = "none,xnli,de,1,acc,70,70,0\nmnli,xnli,de,1,acc,71,70,1\n"
    with pytest.warns(UserWarning, match="baseline row"):
        df = read_gains(_write(tmp_path, HEADER + body))
    assert list(df["intermediate"]) == ["mnli"] and list(df["line"]) == [3]


def test_profile_errors(tmp_path):
    p = tmp_path / "mnli.json"
    p.write_text('{"task": "mnli",\n "n_examples": 10,,}')
    with pytest.raises(DataError, match=r"mnli.json:2.*valid JSON"):
        read_profile(p)
    p.write_text(json.dumps({"task": "qqp", "n_examples": 3}))
    with pytest.raises(DataError, match=r"field 'task'.*'mnli'.*'qqp'"):
        read_profile(p)
    p.write_text(json.dumps({"task": "mnli", "probing": {"syntactic": "high"}}))
    with pytest.raises(DataError, match=r"field 'probing.syntactic'.*number or null.*'high'"):
        read_profile(p)
    p.write_text('{"task": "mnli", "logme": NaN}')
    with pytest.raises(DataError, match="NaN"):
        read_profile(p)
    p.write_text("[1, 2]")
    with pytest.raises(DataError, match="JSON object"):
        read_profile(p)


def test_flatten_profile_dotted_names_nulls_and_skips():
    flat = flatten_profile({"task": "x", "a": 1, "b": {"c": None, "d": 2.5, "e": "s"},
                            "f": True, "g": [1, 2]})
    assert flat["a"] == 1.0 and flat["b.d"] == 2.5 and np.isnan(flat["b.c"])
    assert set(flat) == {"a", "b.c", "b.d"}


def test_missing_profile_is_reported(tmp_path, sim):
    gains, profiles = sim.study(0, n_tasks=4)
    del profiles["task02"]
    study = sim.write(tmp_path / "s", gains, profiles)
    with pytest.raises(DataError, match=r"task02.json.*no profile for task02"):
        load_study(study)


def test_unknown_feature_suggests(effect_study):
    table = load_study(effect_study)
    with pytest.raises(UnknownNameError, match="did you mean 'logme'"):
        table.task_features(["logmee"])
