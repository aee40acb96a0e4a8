"""Zero-shot hygiene: English-only training and selection; no trained item is ever evaluated.

Protections under test: the role check of :func:`taskdiff.transfer.data.load_role`, the
English guard of :func:`taskdiff.transfer.training.train_phase` (``check_english``), the
up-front training-language check of the pipeline, and the carve rule (id-hash ranges that
restrict *every* language's evaluation for translated data sets).
"""

from __future__ import annotations

import pytest

from taskdiff.errors import ZeroShotViolation
from taskdiff.transfer.data import load_role
from taskdiff.transfer.tasks import get_task

from .conftest import MAX_EXAMPLES, study_request

LANGS = ("de", "es", "sw")


@pytest.fixture(scope="module")
def carve_data(tmp_path_factory):
    """Evaluation files big enough for every carved role to be non-empty."""
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(tmp_path_factory.mktemp("carve"), n_train=4, n_eval=80)


@pytest.mark.parametrize("name", ["xnli", "xquad", "panx", "snli"])
@pytest.mark.parametrize("role", ["train", "selection"])
def test_training_and_selection_data_are_refused_in_other_languages(name, role, fixture_data):
    with pytest.raises(ZeroShotViolation, match=rf"{role} data must be in 'en'.*asked for 'de'"):
        load_role(get_task(name), role, "de", fixture_data)


def test_train_phase_refuses_non_english_rows_before_touching_the_model():
    from taskdiff.transfer.training import TrainConfig, check_english, train_phase

    english = [{"id": "1", "language": "en"}, {"id": "2", "language": "en"}]
    check_english(english, "training")
    mixed = english + [{"id": "7", "language": "de"}]
    # model, tokenizer and format are None: the guard must fire before anything uses them
    with pytest.raises(ZeroShotViolation, match=r"1 training examples are not 'en' \(first: id '7', language 'de'\)"):
        train_phase(None, None, None, mixed, None, TrainConfig(), "/nonexistent", 1, None, "accuracy")
    with pytest.raises(ZeroShotViolation, match="model-selection"):
        train_phase(None, None, None, english, None, TrainConfig(), "/nonexistent", 1, lambda m: {}, "accuracy",
                    selection_rows=mixed)


def test_non_english_rows_stop_the_pipeline_before_any_training(tmp_path, fixture_data, monkeypatch):
    """Even if a bug tagged German rows as training data, nothing would be trained on them."""
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import run_transfer
    from taskdiff.transfer.store import RunStore

    original = Workspace.rows

    def leaky(self, task, role, language):
        data = original(self, task, role, language)
        if role == "train":
            data.rows[0]["language"] = "de"
        return data

    monkeypatch.setattr(Workspace, "rows", leaky)
    trained = []
    monkeypatch.setattr("transformers.Trainer.train", lambda self, **kw: trained.append(1))
    store = RunStore(tmp_path / "store")
    with pytest.raises(ZeroShotViolation, match="training examples are not 'en'"):
        run_transfer(study_request(), Workspace(store, fixture_data, MAX_EXAMPLES, progress=False))
    assert not trained and store.status()["done"] == 0


def test_a_task_trained_in_another_language_is_refused_up_front(tmp_path, fixture_data):
    """A task file may declare ``train_language: de``; the pipeline refuses it before training."""
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import run_transfer
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import register_task_file

    data = tmp_path / "data"
    data.mkdir()
    rows = "".join(f'{{"text": "satz {i}", "label": "{"ab"[i % 2]}"}}\n' for i in range(8))
    (data / "train-de.jsonl").write_text(rows)
    task_file = tmp_path / "german.yaml"
    task_file.write_text("name: rel_german_trained\nformat: classification\nlabels: [a, b]\n"
                         "languages: [de, en]\ntrain_language: de\n"
                         "local: {root: data, reader: jsonl, files: {train: 'train-{lang}.jsonl', "
                         "test: 'train-{lang}.jsonl'}, options: {columns: {text: text, label: label}}}\n")
    register_task_file(task_file)
    store = RunStore(tmp_path / "store")
    with pytest.raises(ZeroShotViolation, match=r"rel_german_trained.*'de'.*English"):
        run_transfer(study_request(intermediates=["rel_german_trained"]),
                     Workspace(store, fixture_data, MAX_EXAMPLES, progress=False))
    assert store.list_runs() == []


def _role_ids(task_name: str, data, max_examples=None) -> tuple[set, set, dict]:
    task = get_task(task_name)
    train = {r["id"] for r in load_role(task, "train", "en", data, max_examples).rows}
    selection = {r["id"] for r in load_role(task, "selection", "en", data, max_examples).rows}
    evaluation = {lang: {r["id"] for r in load_role(task, "evaluation", lang, data, max_examples).rows}
                  for lang in ("en",) + LANGS if lang in task.languages}
    return train, selection, evaluation


def _assert_disjoint(train: set, selection: set, evaluation: dict, carved_source_ids: set) -> None:
    assert train and selection and all(evaluation.values())
    assert not train & selection
    for lang, ids in evaluation.items():
        assert not ids & train, f"{lang}: evaluated ids were trained on: {sorted(ids & train)[:3]}"
        assert not ids & selection, f"{lang}: evaluated ids were used for model selection"
    # the check is meaningful: the languages are translations sharing ids with the English split
    assert all(ids <= carved_source_ids for ids in evaluation.values())
    assert len({frozenset(ids) for ids in evaluation.values()}) == 1


@pytest.mark.parametrize("name", ["xnli", "pawsx", "xquad"])
@pytest.mark.parametrize("cap", [None, 30])
def test_carved_roles_are_disjoint_in_every_language(name, cap, carve_data):
    from taskdiff.transfer.data import _read_local

    train, selection, evaluation = _role_ids(name, carve_data, cap)
    source = {r["id"] for r in _read_local(get_task(name), carve_data, "validation", "de")}
    _assert_disjoint(train, selection, evaluation, source)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["xnli", "pawsx", "xquad"])
def test_carved_roles_are_disjoint_on_the_shared_real_data(name, shared_data):
    from taskdiff.transfer.data import _read_local

    train, selection, evaluation = _role_ids(name, shared_data)
    source = {r["id"] for r in _read_local(get_task(name), shared_data, "validation", "de")}
    _assert_disjoint(train, selection, evaluation, source)
    n = len(source)
    assert len(train) > 0.4 * n and len(selection) > 0.05 * n and len(evaluation["de"]) > 0.3 * n
