"""OLS with clustered SEs, the mixed model, and the effective-n / identification checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from taskdiff.analysis.design import (IdentificationError, InsufficientDataError,
                                      SmallSampleWarning, check_effective_n)
from taskdiff.analysis.mixed import MixedGainModel
from taskdiff.analysis.regression import GainRegression
from taskdiff.analysis.table import build_table, load_study

FEATS = ["normalized_baseline_loss", "logme"]


@pytest.fixture(scope="module")
def effect_table(effect_study):
    return load_study(effect_study)


def _design(table, feats, standardize):
    rows = table.primary()
    X = table.task_features(feats)
    if standardize:
        X = (X - X.mean()) / X.std(ddof=1)
    Xr = np.column_stack([np.ones(len(rows)), X.loc[rows["intermediate"]].to_numpy()])
    return rows, Xr


@pytest.mark.parametrize("standardize", [False, True])
def test_ols_coefficients_equal_lstsq(effect_table, standardize):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        res = GainRegression(FEATS, standardize=standardize).fit(effect_table)
    rows, X = _design(effect_table, FEATS, standardize)
    beta = np.linalg.lstsq(X, rows["gain_z"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(res.params.to_numpy(), beta, rtol=1e-9, atol=1e-12)
    assert list(res.params.index) == ["const"] + FEATS
    assert res.n_obs == len(rows) and res.n_groups == 12


def test_clustered_se_is_cr1_sandwich_when_asked(effect_table):
    res = GainRegression(["normalized_baseline_loss"], response="gain",
                         standardize=False, se="cr1").fit(effect_table)
    rows, X = _design(effect_table, ["normalized_baseline_loss"], False)
    y = rows["gain"].to_numpy()
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    u = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    meat = np.zeros((2, 2))
    for t in rows["intermediate"].unique():
        m = (rows["intermediate"] == t).to_numpy()
        s = X[m].T @ u[m]
        meat += np.outer(s, s)
    G, N, K = 12, len(y), 2
    V = bread @ meat @ bread * G / (G - 1) * (N - 1) / (N - K)
    np.testing.assert_allclose(res.bse.to_numpy(), np.sqrt(np.diag(V)), rtol=1e-8)
    assert res.df_inference == G - 1


def test_default_se_is_cr2_with_bell_mccaffrey_df(effect_table):
    """CR2 by hand: residuals of each task rescaled by (I - H_gg)^{-1/2}; df per coefficient."""
    res = GainRegression(["normalized_baseline_loss"], response="gain",
                         standardize=False).fit(effect_table)
    rows, X = _design(effect_table, ["normalized_baseline_loss"], False)
    y = rows["gain"].to_numpy()
    u = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    bread = np.linalg.inv(X.T @ X)
    meat = np.zeros((2, 2))
    for t in rows["intermediate"].unique():
        m = (rows["intermediate"] == t).to_numpy()
        w, v = np.linalg.eigh(np.eye(m.sum()) - X[m] @ bread @ X[m].T)
        s = X[m].T @ ((v / np.sqrt(w)) @ v.T @ u[m])
        meat += np.outer(s, s)
    np.testing.assert_allclose(res.bse.to_numpy(), np.sqrt(np.diag(bread @ meat @ bread)),
                               rtol=1e-8)
    df = res.df_inference
    assert list(df.index) == ["const", "normalized_baseline_loss"]
    assert (df > 1).all() and (df <= 12 - 1 + 1e-9).all()
    assert "Bell–McCaffrey" in res.summary() and "CR2" in res.summary()


def test_four_clusters_no_absurd_t(sim):
    """Issue 14 item 4: 4 tasks, a near-perfect task-level fit. CR1 with G - 1 df gives a
    huge t and p < 0.001; CR2 with Bell–McCaffrey df does not claim such precision."""
    gains, profiles = sim.study(3, n_tasks=4, targets=("xnli", "pawsx"), seeds=(1, 2),
                                effect=2.0, noise_sd=0.05, task_sd=0.01)
    table = build_table(gains, profiles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cr1 = GainRegression(["normalized_baseline_loss"], se="cr1").fit(table)
        cr2 = GainRegression(["normalized_baseline_loss"]).fit(table)
    assert abs(cr1.tvalues["normalized_baseline_loss"]) > 30  # what the report used to show
    assert cr1.pvalues["normalized_baseline_loss"] < 1e-3
    assert cr2.bse["normalized_baseline_loss"] > cr1.bse["normalized_baseline_loss"]
    assert cr2.df_inference["normalized_baseline_loss"] < 3
    assert cr2.pvalues["normalized_baseline_loss"] > 10 * cr1.pvalues["normalized_baseline_loss"]


def test_planted_effect_recovered_in_95_interval(sim):
    """200 simulated studies (15 tasks): the 95% CI of the planted slope covers it >= 90%."""
    truth, covered = 0.8, 0
    scale = {"xnli": 1.0, "pawsx": 1.0, "panx": 1.0}
    profiles = sim.profiles(15, np.random.default_rng(0))
    model = GainRegression(["normalized_baseline_loss"], response="gain", standardize=False)
    for s in range(200):
        gains, _ = sim.study(1000 + s, effect=truth, task_sd=0.2, target_scale=scale,
                             languages=("de", "fr"), seeds=(1, 2), profiles=profiles)
        lo, hi = model.fit(build_table(gains, profiles)).conf_int().loc[
            "normalized_baseline_loss"]
        covered += lo <= truth <= hi
    assert covered / 200 >= 0.90


def test_results_interface(effect_table):
    res = GainRegression(["normalized_baseline_loss"]).fit(effect_table)
    ci = res.conf_int()
    assert list(ci.columns) == ["lower", "upper"] and (ci["lower"] < ci["upper"]).all()
    assert res.pvalues["normalized_baseline_loss"] < 1e-3
    assert res.conf_int(0.5).loc["const", "upper"] < ci.loc["const", "upper"]
    text = res.summary()
    assert "12 intermediate tasks (effective n)" in text and "clustered" in text
    assert "| normalized_baseline_loss |" in res.to_markdown()
    assert res.small_n_warning is None
    assert res.sm_summary() is not None


def test_too_few_tasks_is_refused_with_explanation(sim):
    gains, profiles = sim.study(0, n_tasks=3)
    table = build_table(gains, profiles)
    with pytest.raises(InsufficientDataError, match=r"at least 4 intermediate tasks.*found 3"):
        GainRegression(FEATS).fit(table)
    with pytest.raises(InsufficientDataError, match="effective n"):
        MixedGainModel(FEATS).fit(table)


def test_small_effective_n_warns_and_is_recorded(sim):
    gains, profiles = sim.study(0, n_tasks=9)
    table = build_table(gains, profiles)
    with pytest.warns(SmallSampleWarning, match=r"only 9 intermediate tasks for 2 feature"):
        res = GainRegression(FEATS).fit(table)
    assert "rule of thumb" in res.small_n_warning
    assert "WARNING" in res.summary()
    assert check_effective_n(20, 2, warn=False) is None


def test_rank_deficient_designs_are_refused(sim):
    gains, profiles = sim.study(0, n_tasks=12)
    for p in profiles.values():
        p["twice"] = 2 * p["normalized_baseline_loss"] + 1
        p["flat"] = 0.5
        p["sum"] = p["logme"] + p["label_entropy"]
    profiles["task04"]["holey"] = None
    for i, p in enumerate(profiles.values()):
        p.setdefault("holey", float(i))
    table = build_table(gains, profiles)
    with pytest.raises(IdentificationError,
                       match=r"'normalized_baseline_loss', 'twice'.*collinear"):
        GainRegression(["normalized_baseline_loss", "twice"]).fit(table)
    with pytest.raises(IdentificationError, match=r"'flat'.*constant"):
        GainRegression(["flat"]).fit(table)
    with pytest.raises(IdentificationError, match=r"'logme', 'label_entropy', 'sum'"):
        MixedGainModel(["logme", "label_entropy", "sum", "v_information"]).fit(table)
    with pytest.raises(IdentificationError, match=r"'holey' for task04"):
        GainRegression(["holey"]).fit(table)


def test_mixed_model_recovers_effect(effect_table):
    ols = GainRegression(["normalized_baseline_loss"]).fit(effect_table)
    res = MixedGainModel(["normalized_baseline_loss"]).fit(effect_table)
    lo, hi = res.conf_int().loc["normalized_baseline_loss"]
    assert lo > 0 and lo <= ols.params["normalized_baseline_loss"] <= hi
    assert set(res.variance_components.index) == {"intermediate", "language"}
    assert any("'target' dropped" in n for n in res.notes)
    assert res.df_inference == 12 - 1 - 1
    assert "variance components" in res.summary()
    assert "| normalized_baseline_loss |" in res.to_markdown()


def test_mixed_model_on_raw_gain_keeps_target_factor(effect_table):
    res = MixedGainModel(["normalized_baseline_loss"], response="gain").fit(effect_table)
    assert set(res.variance_components.index) == {"intermediate", "target", "language"}
    assert res.group_sizes == {"intermediate": 12, "target": 3, "language": 4}
    assert res.variance_components["target"] > 0


# ----------------------------------------------------------------------------- boundary fits
@pytest.fixture(scope="module")
def boundary_table(sim, tmp_path_factory):
    """No task or language effect at all (task_sd = lang_sd = 0): every variance component's
    REML estimate is 0, on the boundary, where statsmodels' default optimiser path has been
    seen to stop far from the optimum or to leave a singular Hessian (the demo study)."""
    from tests.analysis.conftest import write_study

    gains, profiles = sim.study(3, n_tasks=7, effect=1.0, task_sd=0.0, lang_sd=0.0, noise_sd=0.3,
                                target_scale={"xnli": 1.0, "pawsx": 1.0, "panx": 1.0})
    return load_study(write_study(tmp_path_factory.mktemp("boundary"), gains, profiles))


def test_mixed_model_on_the_boundary_equals_ols(boundary_table):
    """With both variance components at 0 the mixed model *is* OLS: same fixed effects (known
    answer: numpy lstsq), variance components ~0, and the best log-likelihood of the optimisers."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = MixedGainModel(["normalized_baseline_loss"]).fit(boundary_table)
    rows, X = _design(boundary_table, ["normalized_baseline_loss"], True)
    beta = np.linalg.lstsq(X, rows["gain_z"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(res.params.to_numpy(), beta, atol=1e-4)
    assert (res.variance_components < 0.05 * res.residual_variance).all(), res.variance_components
    model = res.sm_results.model
    for method in (["lbfgs", "powell"], ["nm"], ["bfgs"]):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                other = model.fit(reml=True, method=method)
        except np.linalg.LinAlgError:
            continue
        assert res.sm_results.llf >= other.llf - 1e-6, (method, other.llf, res.sm_results.llf)


def test_mixed_model_drops_a_factor_whose_fit_fails(boundary_table, monkeypatch):
    """A singular Hessian with a factor: the model is refitted without it, and says so."""
    original = MixedGainModel._fit_sm

    def failing(self, data, k, used):
        if "language" in used:
            raise np.linalg.LinAlgError("Singular matrix")
        return original(self, data, k, used)

    monkeypatch.setattr(MixedGainModel, "_fit_sm", failing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = MixedGainModel(["normalized_baseline_loss"]).fit(boundary_table)
    assert list(res.variance_components.index) == ["intermediate"]
    assert any("'language' dropped" in n and "Singular matrix" in n for n in res.notes), res.notes


def test_mixed_model_that_cannot_be_fitted_is_reported_not_raised(boundary_table, monkeypatch):
    """No subset of factors fits: NumericalError from the model, a message in the report's
    analysis, and every other analysis still computed."""
    from taskdiff.analysis.report.analyses import analyse_study
    from taskdiff.errors import NumericalError

    def failing(self, data, k, used):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(MixedGainModel, "_fit_sm", failing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NumericalError, match=r"could not be fitted with random factors "
                                                 r"\['intermediate', 'language'\]"):
            MixedGainModel(["normalized_baseline_loss"]).fit(boundary_table)
        out = analyse_study(boundary_table, n_perm=99, n_boot=50)
    assert not out.mixed.ok and "could not be fitted" in out.mixed.message
    assert out.multivariable.ok and out.correlations is not None


def test_wild_bootstrap_p_column(effect_table):
    res = GainRegression(["normalized_baseline_loss"], wild_bootstrap=199).fit(effect_table)
    frame = res.to_frame()
    assert "p_wcb" in frame.columns and np.isnan(frame.at["const", "p_wcb"])
    assert 1 / 200 <= frame.at["normalized_baseline_loss", "p_wcb"] <= 0.05  # strong planted effect
    assert "p_wcb" not in GainRegression(["normalized_baseline_loss"]).fit(effect_table).to_frame()
