"""GainPredictor, leave-one-task-out evaluation with baselines, predicting a new task."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.base import clone

from taskdiff.analysis import api
from taskdiff.analysis.evaluation import PREDICTOR, RANDOM, leave_one_task_out
from taskdiff.analysis.prediction import GainPredictor, jackknife_halfwidth, predict_new_task
from taskdiff.analysis.table import load_study


@pytest.fixture(scope="module")
def effect_table(effect_study):
    return load_study(effect_study)


def _new_profile(sim, value: float) -> dict:
    prof = sim.profiles(1, np.random.default_rng(123))["task00"]
    prof["task"] = "newtask"
    prof["normalized_baseline_loss"] = value
    return prof


def test_estimator_contract(effect_table):
    model = GainPredictor(level=None)
    assert model.get_params()["max_features"] == "auto"
    assert clone(model).get_params() == model.get_params()
    assert not any(k.endswith("_") for k in vars(model))
    assert model.fit(effect_table) is model
    assert {"features_", "keys_", "models_", "n_tasks_"} <= set(vars(model))
    assert model.keys_ == ["xnli", "pawsx", "panx"]


def test_predict_shapes_and_intervals(effect_table):
    model = GainPredictor(level=0.9).fit(effect_table)
    out = model.predict(effect_table.profiles.loc[["task00", "task01"]])
    assert list(out.columns) == ["task", "target", "predicted_gain", "lower", "upper",
                                 "predicted_score"]
    assert len(out) == 6 and (out["lower"] < out["predicted_gain"]).all()
    assert (out["upper"] > out["predicted_gain"]).all()
    nolevel = GainPredictor(level=None).fit(effect_table).predict(effect_table.profiles.iloc[:1])
    assert nolevel["lower"].isna().all()


def test_per_language_and_pooled_variants(effect_table):
    by_lang = GainPredictor(by="language", level=None).fit(effect_table)
    out = by_lang.predict(effect_table.profiles.iloc[:1])
    assert len(out) == 3 * 4 and {"target", "language"} <= set(out.columns)
    pooled = GainPredictor(per_target=False).fit(effect_table).predict(
        effect_table.profiles.iloc[:1])
    assert len(pooled) == 3 and np.isfinite(pooled["upper"]).all()


def test_jackknife_halfwidth():
    r = np.array([0.1, -0.4, 0.3, 0.2])
    # level 0.6, n = 4: ceil(0.6 * 5) = 3rd smallest |r| = 0.3
    assert jackknife_halfwidth(r, 0.6) == pytest.approx(0.3)
    assert jackknife_halfwidth(r, 0.8) == pytest.approx(0.4)
    assert math.isinf(jackknife_halfwidth(r, 0.9))  # ceil(4.5) = 5 > n


def test_loto_beats_random_on_planted_effect(effect_table):
    ev = leave_one_task_out(effect_table, k=3, n_perm=999)
    s = ev.summary_frame()
    assert list(s.index) == [PREDICTOR, "data size", "LogME", "best on average", RANDOM]
    assert s.loc[PREDICTOR, "spearman"] > 0.7
    assert s.loc[PREDICTOR, "regret@3"] <= s.loc[RANDOM, "regret@3"]
    assert s.loc[RANDOM, "top1"] == pytest.approx(1 / 12)
    assert ev.better_than_random and "better than random" in ev.verdict()
    assert set(ev.to_frame()["target"]) == {"xnli", "pawsx", "panx"}
    assert len(ev.predictions) == 36
    assert "| method |" in ev.to_markdown() and "k = 3" in ev.summary()


def test_loto_null_is_no_better_than_random(null_study):
    ev = leave_one_task_out(load_study(null_study), n_perm=999)
    assert not ev.better_than_random
    assert "no better than random" in ev.verdict()


def test_loto_per_language(effect_table):
    ev = leave_one_task_out(effect_table, GainPredictor(by="language"), n_perm=199)
    assert {"target", "language"} <= set(ev.to_frame().columns)
    assert ev.summary_frame().loc[PREDICTOR, "targets"] == 12


def test_predict_new_task_ranks_it(effect_study, sim):
    high = predict_new_task(effect_study, _new_profile(sim, 0.99))
    low = predict_new_task(effect_study, _new_profile(sim, 0.01))
    assert list(high["target"]) == ["xnli", "pawsx", "panx"]
    assert (high["rank"] == 1).all() and (low["rank"] >= 12).all()
    assert (high["n_candidates"] == 13).all()
    assert (high["lower"] <= high["predicted_gain"]).all()
    assert (high["predicted_gain"] > low["predicted_gain"]).all()


def test_missing_features_in_new_profile_warn(effect_study):
    with pytest.warns(UserWarning, match="imputed with the training mean"):
        out = predict_new_task(effect_study, {"task": "bare", "n_examples": 5000})
    assert np.isfinite(out["predicted_gain"]).all()


def test_api_predict_and_format(effect_study, sim, tmp_path):
    path = tmp_path / "whatever.json"
    path.write_text(json.dumps(_new_profile(sim, 0.5)))
    df = api.predict(effect_study, path)
    text = api.format_prediction_table(df)
    assert "newtask" in text and "90% interval" in text and "of 13" in text


def test_loto_with_non_positive_scores_reports_nan_regret(sim):
    from taskdiff.analysis.table import build_table
    gains, profiles = sim.study(2, n_tasks=6)
    gains["baseline_score"] -= 200.0  # e.g. a negative log-likelihood metric
    gains["score"] = gains["baseline_score"] + gains["gain"]
    ev = leave_one_task_out(build_table(gains, profiles), n_perm=99)
    assert ev.frame["regret"].isna().all()
    assert any("Regret@k is undefined" in n for n in ev.notes)
    assert "Regret@3 – vs – for a random ranking" in ev.verdict()
