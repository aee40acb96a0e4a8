"""A measure defined outside taskdiff reaches the analysis with no other edit (issue 16, item 1).

Two measures are defined here: one registered with ``@register_measure``, one found through
an entry point of the group ``taskdiff.measures`` (``importlib.metadata`` patched the way
the registry reads it). Both are computed in profiles on the ``tiny`` model and fixture data,
and their declared features show up in ``taskdiff report`` and in ``taskdiff predict``.
"""

from __future__ import annotations

import importlib.metadata
import json
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from taskdiff.difficulty import registry
from taskdiff.difficulty.base import ENGLISH, Measure
from taskdiff.errors import ConfigError
from taskdiff.schema import Feature

TASKS = ("snli", "cosmosqa", "commonsenseqa", "siqa", "ud_en_pos", "tydiqa_en")
DECORATED, ENTRY = "pieces_per_word", "plugin_length"


class PiecesPerWord(Measure):
    """Sub-word pieces per whitespace word of the English training rows (the model's tokenizer)."""

    name = DECORATED
    higher_is_harder = None
    features = (Feature("pieces_per_word", "score", "harder", "tokenizer pieces per word"),)

    def _fit(self, task, model, context, cost):
        from taskdiff.transfer.formats import get_format
        from taskdiff.transfer.models import load_tokenizer

        rows = context.rows(task, "train", ENGLISH).rows
        tokenizer = load_tokenizer(context.model_path(model), context.trust_remote_code)
        fields = get_format(task.format)
        words = [w for r in rows for f in fields.text_fields(r) for w in (f if isinstance(f, list) else f.split())]
        pieces = [len(tokenizer.tokenize(w)) for w in words]
        cost.add(len(rows), int(sum(pieces)))
        self.pieces_ = np.asarray(pieces)  # learned state beyond result_
        self.result_ = {"pieces_per_word": float(np.mean(pieces)), "n_words": len(words)}


class PluginLength(Measure):
    """Mean characters per word, written under a nested feature name."""

    name = ENTRY
    higher_is_harder = None
    features = (Feature("plugin.chars_per_word", "count", "unknown", "characters per word", source="chars"),)

    def _fit(self, task, model, context, cost):
        from taskdiff.transfer.formats import get_format

        rows = context.rows(task, "train", ENGLISH).rows
        fields = get_format(task.format)
        words = [w for r in rows for f in fields.text_fields(r) for w in (f if isinstance(f, list) else f.split())]
        self.result_ = {"chars": float(np.mean([len(w) for w in words]))}


def _unregister(name):
    measures = getattr(registry, "MEASURES", None)
    if measures is not None:
        measures.unregister(name)
    else:
        registry._MEASURES.pop(name, None)


@pytest.fixture()
def plugins(monkeypatch):
    """``pieces_per_word`` by decorator, ``plugin_length`` by an entry point only."""
    registry.register_measure(PiecesPerWord)
    entry = SimpleNamespace(name=ENTRY, value=f"{__name__}:PluginLength", group=registry.GROUP,
                            load=lambda: PluginLength)

    def entry_points(**kw):
        return [entry] if kw.get("group") == registry.GROUP else []

    for module in (importlib.metadata, registry, pytest.importorskip("taskdiff.registry")):
        monkeypatch.setattr(module, "entry_points", entry_points, raising=False)
    registry.reset_entry_points()
    yield
    _unregister(DECORATED)
    _unregister(ENTRY)
    monkeypatch.undo()
    registry.reset_entry_points()


@pytest.fixture()
def study(plugins, tmp_path, fixture_data_dir):
    """A study folder: profiles of six tasks (size + the two plugins) and gains that follow a plugin feature."""
    from taskdiff.difficulty.api import profile_task

    assert ENTRY in registry.list_measures() and registry.get_measure(ENTRY) is PluginLength
    root = tmp_path / "study"
    (root / "profiles").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows, values = [], {}
    for task in TASKS:
        prof = profile_task(task, "tiny", measures=["size", DECORATED, ENTRY], data_dir=fixture_data_dir,
                            store=tmp_path / "store", max_examples=16, progress=False)
        flat = json.loads(prof.to_json(root / "profiles" / f"{task}.json"))
        values[task] = flat["pieces_per_word"]
        assert flat["plugin"]["chars_per_word"] > 0
    for task, v in values.items():
        for target in ("xnli", "pawsx"):
            for lang in ("de", "sw"):
                for seed in (1, 2):
                    gain = 4.0 * v + rng.normal(0, 0.05)
                    rows.append((task, target, lang, seed, "accuracy", 60 + gain, 60.0, gain))
    pd.DataFrame(rows, columns=["intermediate", "target", "language", "seed", "metric", "score",
                                "baseline_score", "gain"]).to_csv(root / "gains.csv", index=False)
    return root


@pytest.fixture(scope="module")
def fixture_data_dir(tmp_path_factory):
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("data"), n_train=16, n_eval=4, languages=("en", "de"))


def test_plugin_features_are_in_the_profile_with_their_declarations(study):
    from taskdiff.analysis.profiles import feature_declarations, read_profiles

    profiles = read_profiles(study / "profiles")
    snli = profiles["snli"]
    assert "n_examples" in snli and snli["logme"] is None  # format 1's keys stay, null when not computed
    declared = feature_declarations(profiles)
    assert declared["pieces_per_word"].direction == "harder" and declared["pieces_per_word"].kind == "score"
    assert declared["plugin.chars_per_word"].kind == "count"
    assert declared["logme"].direction == "easier"  # format 1's, from the schema
    measures = snli["provenance"]["measures"]
    assert "features" in measures[DECORATED] and "features" not in measures["size"]


def test_report_shows_the_plugin_features(study, tmp_path):
    from taskdiff.analysis.api import report  # what `taskdiff report` calls, with fewer resamples

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, md_path = report(study, tmp_path / "report", n_perm=99, n_boot=50)
    md = md_path.read_text()
    assert "pieces_per_word" in md and "plugin.chars_per_word" in md
    rows = [line.split(" | ") for line in md.splitlines() if line.startswith("| pieces_per_word |")]
    assert ["| pieces_per_word", "score", "harder"] in [r[:3] for r in rows]  # the profiles table: kind, direction


def test_predict_uses_the_plugin_features(study, tmp_path):
    from taskdiff.analysis.prediction import GainPredictor, predict_new_task
    from taskdiff.analysis.table import load_study
    from taskdiff.cli import app

    table = load_study(study)
    assert {"pieces_per_word", "plugin.chars_per_word"} <= set(table.usable_features())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GainPredictor(max_features=1, level=None).fit(table)
    assert "pieces_per_word" in model.features_
    new = json.loads((study / "profiles" / "snli.json").read_text())
    new["task"] = "newtask"
    del new["pieces_per_word"]
    (tmp_path / "new.json").write_text(json.dumps(new))
    result = CliRunner().invoke(app, ["predict", "--study", str(study), "--profile", str(tmp_path / "new.json")])
    assert result.exit_code == 0, result.output
    assert "the profile lacks" in result.output and "pieces_per_word" in result.output  # the predictor needs it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = predict_new_task(study, json.loads((study / "profiles" / "snli.json").read_text()))
    assert set(df["target"]) == {"xnli", "pawsx"}


def test_a_cached_fit_restores_the_learned_state(plugins, tmp_path, fixture_data_dir):
    from taskdiff.difficulty.api import _fit_cached
    from taskdiff.difficulty.base import MeasureContext, as_task

    ctx = MeasureContext(data_dir=fixture_data_dir, store=tmp_path / "store", max_examples=8)
    first = PiecesPerWord()
    _, hit = _fit_cached(first, as_task("snli"), "tiny", ctx)
    again = PiecesPerWord()
    _, hit_again = _fit_cached(again, as_task("snli"), "tiny", ctx)
    assert not hit and hit_again
    np.testing.assert_array_equal(again.pieces_, first.pieces_)
    assert again.result_ == json.loads(json.dumps(first.result_))


def test_feature_declarations_are_checked_at_registration():
    class Clash(Measure):
        name = "clash_measure"
        higher_is_harder = None
        features = (Feature("logme"),)

    class NotFeatures(Measure):
        name = "not_features_measure"
        higher_is_harder = None
        features = ("logme",)

    for klass in (Clash, NotFeatures):
        with pytest.raises(ConfigError, match=klass.name):
            registry.register_measure(klass)
    with pytest.raises(ValueError, match="reserved"):
        Feature("provenance.x")
