"""The measure contract, the registry (typos, entry points), and every measure on ``tiny``.

All measures run on the project-made fixture data with small budgets; one store is shared by
the module so measures with equal budgets share their trained model, as they do in a profile.
"""

from __future__ import annotations

import math
import sys
import textwrap
from importlib.metadata import EntryPoint

import numpy as np
import pytest

from taskdiff.difficulty import MeasureContext, get_measure, list_measures, register_measure
from taskdiff.difficulty.base import Measure
from taskdiff.difficulty.baseline_loss import Budget
from taskdiff.errors import ConfigError, DuplicateNameError, UnknownNameError

BUDGET = Budget(epochs=2, learning_rate=1e-3, batch_size=8, precision="fp32", max_train_examples=40,
                max_held_out=20, curve_fractions=(0.25, 0.5, 1.0))
FAST_TRAIN = {"epochs": 1, "learning_rate": 1e-3, "batch_size": 16, "precision": "fp32"}
PROBES = ["upos", "tense", "bigram_shift"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small models and probes run far faster single-threaded on a busy machine."""
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

    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=40, n_eval=20)


@pytest.fixture(scope="module")
def context(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("difficulty")
    return MeasureContext(data_dir=data_dir, store=root / "store", output_dir=root / "out")


def _check_contract(measure, result_keys=()):
    assert isinstance(measure.result_, dict) and set(result_keys) <= set(measure.result_)
    assert set(measure.cost_) == {"seconds", "examples", "tokens"} and measure.cost_["seconds"] >= 0
    fitted = [k for k in vars(measure) if k.endswith("_") and not k.startswith("_")]
    settings = set(measure.get_params())
    assert {k for k in vars(measure) if not k.startswith("_")} == settings | set(fitted)
    assert isinstance(measure.name, str) and measure.higher_is_harder in (True, False, None)
    import json

    json.dumps(measure.result_, allow_nan=False)  # JSON-able, no NaN


# ----------------------------------------------------------------------------- registry
def test_builtins_registered_and_typo_suggests():
    assert {"size", "baseline_loss", "vinfo", "cartography", "probing", "logme", "embedding"} <= set(list_measures())
    assert get_measure("vinfo").name == "vinfo" and get_measure("logme").higher_is_harder is False
    with pytest.raises(UnknownNameError, match="did you mean 'cartography'"):
        get_measure("cartograpy")


def test_init_stores_settings_only_and_fit_returns_self(context):
    @register_measure
    class CountRows(Measure):
        name = "count_rows_test"
        higher_is_harder = None

        def __init__(self, scale: float = 1.0):
            self.scale = scale

        def _fit(self, task, model, ctx, cost):
            n = len(ctx.rows(task, "train").rows)
            cost.add(n)
            self.n_rows_ = n
            self.result_ = {"rows": n * self.scale}

    m = get_measure("count_rows_test")(scale=2.0)
    assert m.get_params() == {"scale": 2.0} and not hasattr(m, "result_")
    assert m.fit("snli", "tiny", context) is m
    _check_contract(m, ["rows"])
    assert m.result_["rows"] == 2 * m.n_rows_ and m.cost_["examples"] == m.n_rows_
    assert m.set_params(scale=3.0).scale == 3.0
    with pytest.raises(ConfigError, match="no setting"):
        m.set_params(scael=1)
    with pytest.raises(DuplicateNameError, match="already registered"):
        register_measure(type("Other", (Measure,), {"name": "count_rows_test", "higher_is_harder": None}))


def test_entry_point_measure_is_loaded_lazily(tmp_path, monkeypatch):
    import taskdiff.registry
    from taskdiff.difficulty import registry

    (tmp_path / "td_plugin_measure.py").write_text(textwrap.dedent("""
        from taskdiff.difficulty.base import Measure

        class PluginMeasure(Measure):
            name = "plugin_size"
            higher_is_harder = True

            def __init__(self, k: int = 1):
                self.k = k

            def _fit(self, task, model, context, cost):
                self.result_ = {"k": self.k, "task": task.name}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = EntryPoint(name="plugin_size", value="td_plugin_measure:PluginMeasure", group=registry.GROUP)
    broken = EntryPoint(name="plugin_broken", value="td_no_such_module:Nope", group=registry.GROUP)
    monkeypatch.setattr(taskdiff.registry, "entry_points",
                        lambda group: [ep, broken] if group == registry.GROUP else [])
    registry.reset_entry_points()
    try:
        assert "plugin_size" in list_measures() and "td_plugin_measure" not in sys.modules  # listed, not imported
        klass = get_measure("plugin_size")
        assert klass.__name__ == "PluginMeasure" and "td_plugin_measure" in sys.modules
        m = klass(k=3).fit("snli", "tiny", MeasureContext(store=tmp_path / "s"))
        assert m.result_ == {"k": 3, "task": "snli"}
        with pytest.raises(ConfigError, match="failed to load"):
            get_measure("plugin_broken")
        with pytest.raises(UnknownNameError, match="did you mean 'plugin_size'"):
            get_measure("plugin_sise")
    finally:
        registry.MEASURES.unregister("plugin_size")
        registry.reset_entry_points()


# ----------------------------------------------------------------------------- each measure on tiny
def test_size(context):
    m = get_measure("size")(targets=["xnli", "pawsx"]).fit("snli", "tiny", context)
    _check_contract(m, ["n_examples", "n_tokens", "label_entropy", "class_balance", "mean_length",
                        "vocabulary_overlap", "normalized_label_entropy"])
    r = m.result_
    assert r["n_examples"] == len(context.rows("snli", "train").rows) and r["n_tokens"] > r["n_examples"]
    assert 0 < r["label_entropy"] <= math.log2(3) + 1e-9 and 0 < r["class_balance"] <= 1
    assert set(r["vocabulary_overlap"]) == {"xnli", "pawsx"}
    assert all(0 < v["jaccard"] <= v["coverage"] <= 1 for v in r["vocabulary_overlap"].values())
    assert get_measure("size")().fit("tydiqa", "tiny", context).result_["label_entropy"] is None  # QA: spans


def test_baseline_loss_vinfo_cartography_share_one_trained_model(context):
    before = [r for r in context.store.list_runs() if r.startswith("difficulty_train-")]
    b = get_measure("baseline_loss")(budget=BUDGET).fit("snli", "tiny", context)
    v = get_measure("vinfo")(budget=BUDGET).fit("snli", "tiny", context)
    c = get_measure("cartography")(budget=BUDGET).fit("snli", "tiny", context)
    runs = [r for r in context.store.list_runs() if r.startswith("difficulty_train-")]
    assert len(runs) - len(before) == 2  # the real-input model (shared by all three) + the null model
    assert b.run_id_ == v.run_ids_["input"] == c.result_["run_id"]
    assert v.cost_["examples"] > 0 and c.cost_["examples"] == 0  # cartography found the run in the store

    _check_contract(b, ["baseline_loss", "normalized_baseline_loss", "curve", "curve_area", "normaliser_bits"])
    assert [p["fraction"] for p in b.result_["curve"]] == [0.25, 0.5, 1.0]
    assert b.result_["baseline_loss"] == pytest.approx(b.result_["curve"][-1]["cross_entropy_bits"])
    assert b.result_["normalized_baseline_loss"] == pytest.approx(
        b.result_["baseline_loss"] / b.result_["normaliser_bits"])
    assert b.result_["curve_area"] == pytest.approx(np.trapezoid([p["cross_entropy_bits"] for p in b.result_["curve"]],
                                                                 [0.25, 0.5, 1.0]))

    _check_contract(v, ["v_information", "v_entropy_null", "v_entropy_input"])
    r = v.result_
    assert r["v_information"] == pytest.approx(r["v_entropy_null"] - r["v_entropy_input"], abs=1e-9)
    assert r["v_entropy_input"] == pytest.approx(b.result_["baseline_loss"])
    assert len(v.pvi_) == r["n_units"] and set(v.example_pvi_) <= {str(i) for i in
                                                                 [x["id"] for x in context.rows("snli", "evaluation").rows]}

    _check_contract(c, ["confidence_mean", "variability_mean", "easy_frac", "ambiguous_frac", "hard_frac"])
    r = c.result_
    assert r["easy_frac"] + r["ambiguous_frac"] + r["hard_frac"] == pytest.approx(1.0)
    assert r["num_epochs"] == 2 and len(c.confidence_) == r["num_examples"] == len(c.regions_)


def test_vinfo_prior_null_model_needs_no_second_model(context):
    v = get_measure("vinfo")(budget=BUDGET, null_model="prior").fit("snli", "tiny", context)
    assert set(v.run_ids_) == {"input"} and v.result_["v_entropy_null"] == pytest.approx(math.log2(3), abs=0.1)


@pytest.mark.parametrize("task", ["ud_en_pos", "cosmosqa", "tydiqa"])
def test_training_measures_every_format(context, task):
    from taskdiff.difficulty.cartography_io import read_dynamics

    b = get_measure("baseline_loss")(budget=BUDGET).fit(task, "tiny", context)
    assert b.result_["baseline_loss"] > 0 and b.result_["normalized_baseline_loss"] > 0
    assert {"ud_en_pos": "label entropy", "cosmosqa": "log2 of the number of choices",
            "tydiqa": "2 x mean log2"}[task] in b.result_["normaliser"]
    v = get_measure("vinfo")(budget=BUDGET).fit(task, "tiny", context)
    assert v.result_["v_information"] is not None and v.result_["n_units_unaligned"] == 0
    c = get_measure("cartography")(budget=BUDGET).fit(task, "tiny", context)
    dyn = read_dynamics(context.output_dir / "cartography" / "dynamics")  # allenai layout, every format
    assert dyn.epochs == [0, 1] and len(dyn.guids) == c.result_["num_examples"]
    assert dyn.logits.shape[-1] == (4 if task == "cosmosqa" else 2)  # MC: real logits; else gold-vs-rest
    assert (context.output_dir / "cartography" / "data_map.png").stat().st_size > 1000


def test_cartography_epoch_end_mode(context):
    budget = BUDGET.model_copy(update={"dynamics_mode": "epoch_end"})
    c = get_measure("cartography")(budget=budget, export=False).fit("snli", "tiny", context)
    assert c.result_["dynamics_mode"] == "epoch_end" and c.result_["num_epochs"] == 2 and c.files_ == []
    assert c.cost_["examples"] > 2 * 40  # training + one extra pass over the training set per epoch


def test_logme_and_embedding(context):
    lm = get_measure("logme")().fit("snli", "tiny", context)
    _check_contract(lm, ["logme", "n", "n_classes"])
    assert np.isfinite(lm.result_["logme"]) and lm.features_shape_[1] == 64
    assert get_measure("logme")(pooling="cls").fit("snli", "tiny", context).result_["logme"] != lm.result_["logme"]
    tag = get_measure("logme")().fit("ud_en_pos", "tiny", context)
    assert tag.result_["n"] > tag.result_["n_rows"]  # one feature per word
    assert get_measure("logme")().fit("tydiqa", "tiny", context).result_["logme"] is None
    emb = get_measure("embedding")(targets=["xnli", "panx"], languages=["en", "de", "sw"]).fit("snli", "tiny", context)
    _check_contract(emb, ["similarity", "mean_similarity"])
    assert set(emb.result_["similarity"]) == {"xnli", "panx"}
    assert set(emb.result_["similarity"]["xnli"]) == {"en", "de", "sw"}
    assert all(-1 <= s <= 1 for t in emb.result_["similarity"].values() for s in t.values())
    assert emb.embedding_.shape == (64,)


# ----------------------------------------------------------------------------- probing
def _counting_loader(monkeypatch, calls: list):
    """Wrap ``hidden.load_encoder`` so every encoder it returns counts its forward calls."""
    from taskdiff.difficulty import hidden

    real = hidden.load_encoder

    def load(path, trust_remote_code=False):
        model = real(path, trust_remote_code)
        inner = model.forward

        def forward(*args, **kwargs):
            calls.append(str(path))
            return inner(*args, **kwargs)

        model.forward = forward
        return model

    monkeypatch.setattr(hidden, "load_encoder", load)


def test_probing_encodes_each_encoder_once_whatever_is_fitted(context, monkeypatch):
    from taskdiff.difficulty.hidden import HiddenStateCache, expected_batches
    from taskdiff.difficulty.probing.measure import DEFAULT_TREEBANK, load_suite

    calls: list = []
    _counting_loader(monkeypatch, calls)
    context.hidden.clear_memory()  # an encoder loaded by an earlier test would escape the count
    settings = dict(intermediate_train=FAST_TRAIN, mdl_fractions=[0.1, 0.5, 1.0], batch_size=8)
    m = get_measure("probing")(probes=PROBES, layers="all", mdl=True, **settings).fit("snli", "tiny", context)
    suite = load_suite(context.data_dir / DEFAULT_TREEBANK, max_sentences=500, seed=0, min_examples=20)
    per_encoder = expected_batches(len(suite.sentences), 8)
    assert len(calls) == 2 * per_encoder  # one pass over the probe sentences per encoder
    assert len(set(calls)) == 2 and m.n_forward_batches_ == {"base": per_encoder, "trained": per_encoder}
    _check_contract(m, ["syntactic", "semantic", "syntax_semantics_index", "selectivity", "mdl_compression",
                        "per_probe"])
    assert set(m.result_["per_probe"]) == set(PROBES) and m.result_["layers"] == [0, 1, 2]
    assert len(m.results_["base"]) == len(PROBES) * 3  # every probe at every layer
    upos = m.result_["per_probe"]["upos"]
    assert upos["group"] == "syntactic" and upos["trained"]["selectivity"] is not None
    assert upos["base"]["mdl_compression"] > 0

    # more probes, other layers, a fresh in-memory cache: still no forward pass (disk cache)
    calls.clear()
    ctx2 = MeasureContext(data_dir=context.data_dir, store=context.store, hidden=HiddenStateCache(context.store))
    m2 = get_measure("probing")(layers=[-1], **settings).fit("snli", "tiny", ctx2)
    assert calls == [] and m2.n_forward_batches_ == {"base": 0, "trained": 0}
    assert len(m2.result_["per_probe"]) > len(PROBES) and m2.result_["layers"] == [2]
    assert m2.result_["reused_intermediate"] is True and m2.result_["encoder_run"] == m.result_["encoder_run"]
    assert m2.result_["encoder"] == "intermediate"  # intermediate_train without encoder: as before
    # the same probes again in the same context: the in-memory cache answers
    get_measure("probing")(probes=["tense"], **settings).fit("snli", "tiny", context)
    assert calls == []


def test_probing_reuses_the_transfer_intermediate_run(context):
    """A transfer study's intermediate encoder (same spec) is used, not retrained."""
    from taskdiff.transfer.phases import run_training, train_spec
    from taskdiff.transfer.training import TrainConfig

    cfg = TrainConfig(**FAST_TRAIN)
    task = __import__("taskdiff.transfer.tasks", fromlist=["get_task"]).get_task("ud_en_pos")
    spec = train_spec("intermediate", context.workspace, task, "base:tiny", context.seed, cfg)
    run_training(context.workspace, spec, task, context.model_path("tiny"), cfg, keep="encoder")
    m = get_measure("probing")(probes=["tense"], intermediate_train=cfg, mdl=False).fit("ud_en_pos", "tiny", context)
    assert m.result_["encoder_run"] == spec.run_id and m.result_["reused_intermediate"] is True


def test_probing_errors_are_clear(context, tmp_path):
    with pytest.raises(ConfigError, match="treebank not found"):
        get_measure("probing")(treebank=tmp_path / "none.conllu").fit("snli", "tiny", context)
    with pytest.raises(UnknownNameError, match="did you mean 'tense'"):
        get_measure("probing")(probes=["tens"], intermediate_train=FAST_TRAIN).fit("snli", "tiny", context)


def test_probing_default_encoder_is_the_shared_budget_run(context):
    """Default settings: the budgeted run of baseline_loss is probed (one training for all)."""
    from taskdiff.difficulty.budget import ENCODER_DIR

    b = get_measure("baseline_loss")(budget=BUDGET).fit("snli", "tiny", context)
    before = set(context.store.list_runs())
    m = get_measure("probing")(probes=["upos", "tense"], budget=BUDGET).fit("snli", "tiny", context)
    new = set(context.store.list_runs()) - before
    assert not any(r.startswith(("difficulty_train-", "intermediate-")) for r in new)  # no training at all
    assert m.result_["encoder"] == "budget" and m.result_["encoder_run"] == b.run_id_
    assert m.result_["reused_encoder"] is True and m.result_["reused_intermediate"] is False
    assert (context.store.run_dir(b.run_id_) / ENCODER_DIR / "model.safetensors").is_file()
    # cheaper defaults: every layer, control tasks kept, no MDL code
    assert m.result_["layers"] == [0, 1, 2] and m.result_["mdl_compression"] is None
    assert m.result_["per_probe"]["upos"]["trained"]["selectivity"] is not None
    assert m.result_["syntactic"] is not None and m.result_["semantic"] is not None
    thin = get_measure("probing")(probes=["tense"], budget=BUDGET, layers="every_third").fit("snli", "tiny", context)
    assert thin.result_["layers"] == [0, 2] and thin.n_forward_batches_ == {"base": 0, "trained": 0}
    with pytest.raises(ConfigError, match="every_third"):
        get_measure("probing")(probes=["tense"], budget=BUDGET, layers="every").fit("snli", "tiny", context)


def test_budget_run_keeps_its_encoder_only_when_asked(context):
    from taskdiff.difficulty.budget import budget_run
    from taskdiff.transfer.tasks import get_task

    lean = BUDGET.model_copy(update={"keep_encoder": False})
    run = budget_run(get_task("snli"), "tiny", context, lean)
    assert run.encoder_path is None and run.metrics["encoder_kept"] is False
    m = get_measure("probing")(probes=["tense"], budget=lean).fit("snli", "tiny", context)
    assert m.result_["encoder_run"] != run.run_id  # probing asks for a run that keeps its encoder
    assert m.result_["budget"]["keep_encoder"] is True


def test_probing_encoder_setting():
    from taskdiff.difficulty.api import _measure_list

    probing = get_measure("probing")
    assert probing().encoder_kind() == "budget" and probing(intermediate_train=FAST_TRAIN).encoder_kind() == "intermediate"
    assert probing(encoder="intermediate").spec_params()["budget"] is None
    assert probing().spec_params()["intermediate_train"] is None
    with pytest.raises(ConfigError, match="intermediate_train"):
        probing(encoder="budget", intermediate_train=FAST_TRAIN).encoder_kind()
    with pytest.raises(ConfigError, match="encoder must be"):
        probing(encoder="trained").encoder_kind()
    shared = _measure_list(["baseline_loss", "cartography", "probing"], {"*": {"budget": {"epochs": 3}}})
    assert {m.name: m.budget["epochs"] for m in shared} == {"baseline_loss": 3, "cartography": 3, "probing": 3}


def test_probing_group_settings_enter_the_cache_key_only_when_set():
    probing = get_measure("probing")
    assert "groups" not in probing().spec_params() and "headroom" not in probing().spec_params()
    params = probing(groups={"tense": "syntactic"}, headroom=(0.1, 0.95)).spec_params()
    assert params["groups"] == {"tense": "syntactic"} and params["headroom"] == [0.1, 0.95]


def test_probing_rejects_unknown_group_probes_before_encoding(context, monkeypatch):
    from taskdiff.difficulty import hidden

    monkeypatch.setattr(hidden.HiddenStateCache, "get", lambda *a, **k: pytest.fail("encoded before checking"))
    with pytest.raises(UnknownNameError, match="did you mean 'tense'"):
        get_measure("probing")(probes=["tense"], groups={"tens": "syntactic"}, budget=BUDGET).fit(
            "snli", "tiny", context)
