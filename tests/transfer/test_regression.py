"""The ``regression`` format and the STS-B task: reading, encoding, the metric, tiny training."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taskdiff.errors import DataError
from taskdiff.testing.stsb_fixture import write_stsb
from taskdiff.transfer.formats import get_format
from taskdiff.transfer.metrics import MetricInputError, get_metric, primary_key
from taskdiff.transfer.readers import get_reader
from taskdiff.transfer.tasks import get_task

STSB_OPTIONS = get_task("stsb").local.options


@pytest.fixture(scope="module")
def stsb_dir(tmp_path_factory):
    return write_stsb(tmp_path_factory.mktemp("stsb"), n_train=32, n_dev=20)


# --------------------------------------------------------------------------- metric
def test_pearson_spearman_known_answer():
    # x = 1..4, y = 1,3,2,4: deviations (-1.5,-.5,.5,1.5) and (-1.5,.5,-.5,1.5), sum of
    # products 4, sums of squares 5 and 5 -> r = 0.8; the ranks are the values -> rho = 0.8
    out = get_metric("pearson")([1, 2, 3, 4], [1, 3, 2, 4])
    assert out["pearson"] == pytest.approx(80.0) and out["spearman"] == pytest.approx(80.0)
    assert out["mse"] == pytest.approx(0.5)
    # monotone but not linear: rho = 1; r = 14 / sqrt(50 * 5)
    out = get_metric("pearson")([1, 2, 3, 10], [1.0, 2.0, 3.0, 4.0])
    assert out["spearman"] == pytest.approx(100.0)
    assert out["pearson"] == pytest.approx(100 * 14 / math.sqrt(250))
    assert primary_key("pearson") == "pearson"


def test_pearson_invariant_to_affine_predictions():
    rng = np.random.default_rng(0)
    gold, pred = rng.uniform(0, 5, 30), rng.uniform(0, 5, 30)
    a = get_metric("pearson")(pred, gold)
    b = get_metric("pearson")(3 * pred - 7, gold)
    assert a["pearson"] == pytest.approx(b["pearson"]) and a["spearman"] == pytest.approx(b["spearman"])


def test_pearson_bad_input():
    fn = get_metric("pearson")
    with pytest.raises(MetricInputError, match="as many predictions"):
        fn([1.0, 2.0], [1.0])
    with pytest.raises(MetricInputError, match="at least two"):
        fn([1.0], [1.0])
    with pytest.raises(MetricInputError, match="finite"):
        fn([1.0, float("nan")], [1.0, 2.0])
    assert math.isnan(fn([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])["pearson"])  # a constant has no correlation


# --------------------------------------------------------------------------- reading
def test_stsb_reader_glue_layout(stsb_dir):
    rows = get_reader("tsv")(stsb_dir / "intermediate/stsb/train.tsv", format="regression", **STSB_OPTIONS)
    assert len(rows) == 32 and tuple(rows[0]) == ("id", "text_a", "text_b", "label")
    assert all(type(r["label"]) is float and 0.0 <= r["label"] <= 5.0 for r in rows)
    assert rows[3]["text_b"].startswith('"The ')  # a bare quote stays part of the text
    assert {round(r["label"], 3) for r in rows} <= {0.0, 1.667, 3.333, 5.0}


def test_stsb_reader_names_line_and_field_of_a_bad_score(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("index\tsentence1\tsentence2\tscore\n0\ta\tb\t4.2\n1\tc\td\tn/a\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        get_reader("tsv")(path, format="regression", header=True,
                          columns={"id": "index", "text_a": "sentence1", "text_b": "sentence2", "label": "score"})
    msg = str(info.value)
    assert "train.tsv:3" in msg and "'score'" in msg and "finite number" in msg and "n/a" in msg


def test_stsb_task_roles_on_fixture(stsb_dir):
    from taskdiff.transfer.data import load_role

    task = get_task("stsb")
    assert task.format == "regression" and task.metric == "pearson" and task.hub.path == "nyu-mll/glue"
    train = load_role(task, "train", "en", stsb_dir)
    sel = load_role(task, "selection", "en", stsb_dir)
    assert len(train.rows) == 32 and len(sel.rows) == 20


# --------------------------------------------------------------------------- encoding
@pytest.fixture(scope="module")
def tiny_path():
    from taskdiff.transfer.models import resolve_model

    return resolve_model("tiny")


def test_encode_decode_and_head(tiny_path, stsb_dir):
    from taskdiff.transfer.models import build_model, load_tokenizer

    fmt = get_format("regression")
    rows = get_reader("tsv")(stsb_dir / "intermediate/stsb/dev.tsv", format="regression", **STSB_OPTIONS)[:4]
    tok = load_tokenizer(tiny_path)
    enc = fmt.encode(rows, tok, None, 64, train=True)
    assert [f["labels"] for f in enc.features] == [r["label"] for r in rows]
    assert all(type(f["labels"]) is float for f in enc.features)
    assert 1 in enc.features[0]["token_type_ids"]  # a sentence pair
    model = build_model(fmt, tiny_path, None)
    assert model.config.num_labels == 1 and model.config.problem_type == "regression"
    batch = fmt.collator(tok)(enc.features)
    assert batch["labels"].dtype.is_floating_point
    batch.pop("example_index")
    out = model(**batch)
    pred = out.logits.detach().reshape(-1)
    assert float(out.loss.detach()) == pytest.approx(float(((pred - batch["labels"]) ** 2).mean()), rel=1e-5)  # MSE
    decoded = fmt.decode({"logits": [z.numpy() for z in out.logits.detach()]}, enc, rows, None)
    assert all(type(v) is float for v in decoded)
    assert decoded == pytest.approx(pred.tolist(), rel=1e-6)


def test_gaussian_kernel_units_known_answer():
    import torch

    from taskdiff.transfer.formats.base import Encoded

    fmt = get_format("regression")
    # errors 0, 1, 2 -> exp(0), exp(-1/2), exp(-2); correct iff |e| <= 1.177
    out = {"logits": torch.tensor([[3.0], [2.0], [5.0]])}
    batch = {"labels": torch.tensor([3.0, 3.0, 3.0])}
    assert fmt.gold_prob(out, batch).tolist() == pytest.approx([1.0, math.exp(-0.5), math.exp(-2.0)])
    assert fmt.correct(out, batch).tolist() == [True, True, False]
    enc = Encoded([{"input_ids": [1, 2, 3], "labels": 3.0, "example_index": i} for i in range(3)])
    units = fmt.label_units(enc, {"logits": [np.array([3.0]), np.array([2.0]), np.array([5.0])]}, 3)
    assert units["prob"] == pytest.approx([1.0, math.exp(-0.5), math.exp(-2.0)])
    # -log2 k = e^2 / (2 ln 2): mean over (0, 1, 4) = 5 / (6 ln 2) bits
    from taskdiff.difficulty.maths import v_entropy

    assert v_entropy(units["prob"]) == pytest.approx(5 / (6 * math.log(2)))
    bits, how = fmt.normaliser_bits([{"label": 1.0}, {"label": 3.0}], units)  # Var = 1
    assert bits == pytest.approx(1 / (2 * math.log(2))) and "MSE / Var(y)" in how
    assert fmt.prior_probs([{"label": 1.0}, {"label": 3.0}], [2.0, 4.0]) == pytest.approx([1.0, math.exp(-2.0)])


def test_null_row_and_size_hooks():
    from taskdiff.difficulty.size import text_fields, unit_labels

    row = {"id": "1", "text_a": "a b", "text_b": "c", "label": 2.5}
    assert text_fields("regression", row) == ["a b", "c"]
    assert unit_labels("regression", [row]) is None  # no label entropy for scores
    fmt = get_format("regression")
    assert fmt.null_rows([row], tokenizer=None) == [{"id": "1", "text_a": "", "text_b": "", "label": 2.5}]
    stats = get_format("regression").label_statistics([row, {**row, "label": 4.5}])
    assert stats["label_mean"] == 3.5 and stats["label_std"] == 1.0 and stats["label_max"] == 4.5


# --------------------------------------------------------------------------- training
def test_one_step_tiny_training_and_evaluation(tmp_path, stsb_dir, tiny_path):
    """Train one step, evaluate: the score is Pearson/Spearman of the model's own predictions."""
    from scipy.stats import rankdata

    from taskdiff.transfer.evaluation import predict
    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import load_tokenizer
    from taskdiff.transfer.phases import Workspace, eval_spec, run_evaluation, run_training, train_spec
    from taskdiff.transfer.precision import resolve_precision
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.training import TrainConfig

    task = get_task("stsb")
    ws = Workspace(RunStore(tmp_path / "store"), stsb_dir, max_examples=16, progress=False)
    cfg = TrainConfig(learning_rate=1e-3, epochs=1, batch_size=16, precision="fp32", max_steps=1)
    run = run_training(ws, train_spec("target", ws, task, tiny_path, 0, cfg), task, tiny_path, cfg, "model")
    assert run.metrics["n_train"] == 16 and "pearson" in run.metrics["selection"]
    model_path = str(run.path / "model")
    ev = run_evaluation(ws, eval_spec(ws, task, run.run_id, "en"), task, model_path, "en")
    scores = ev.metrics["scores"]
    # the same predictions, correlated by hand
    from transformers import AutoModelForSequenceClassification

    rows = ws.rows(task, "evaluation", "en").rows
    model = AutoModelForSequenceClassification.from_pretrained(model_path)
    precision = resolve_precision("auto")  # as the evaluation run
    pred = np.array(predict(model, load_tokenizer(model_path), get_format("regression"), rows, None, 128, precision))
    gold = np.array([r["label"] for r in rows])

    def r(x, y):
        dx, dy = x - x.mean(), y - y.mean()
        return float((dx * dy).sum() / math.sqrt((dx ** 2).sum() * (dy ** 2).sum()))

    assert np.ptp(pred) > 0
    assert scores["pearson"] == pytest.approx(100 * r(pred, gold), abs=1e-4)
    assert scores["spearman"] == pytest.approx(100 * r(rankdata(pred), rankdata(gold)), abs=1e-4)
    assert scores["mse"] == pytest.approx(float(((pred - gold) ** 2).mean()), rel=1e-5)
