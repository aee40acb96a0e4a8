"""Data-relative cartography regions and the budget that trains until it converges (issue 14, item 5)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from taskdiff.difficulty.budget import PROFILE_BUDGET, Budget, as_budget
from taskdiff.difficulty.cartography import Cartography
from taskdiff.difficulty.maths import assign_regions, dynamics_metrics
from taskdiff.difficulty.maths.cartography import quantile_regions, select_examples, selection_summary
from taskdiff.difficulty.recording import callbacks
from taskdiff.errors import ConfigError


def test_select_examples_follows_the_reference_sort_and_keeps_int_fraction_n():
    # allenai/cartography: variability descending (ambiguous), confidence ascending (hard),
    # confidence descending (easy); head of the sorted table. Ties: the lower index first.
    v = np.array([0.10, 0.30, 0.20, 0.30, 0.05, 0.00])
    assert select_examples(v, 0.5, highest=True).tolist() == [1, 3, 2]
    assert select_examples(v, 0.5, highest=False).tolist() == [5, 4, 0]
    assert select_examples(v, 1 / 3, highest=True).tolist() == [1, 3]  # int(2.0) = 2
    assert select_examples(v, 0.0, highest=True).size == 0
    with pytest.raises(ConfigError, match="fraction"):
        select_examples(v, 1.5, highest=True)


def test_quantile_regions_known_answer():
    # 6 examples: the 2 most variable are ambiguous (idx 1, 3); the median confidence of all six
    # is 0.45, so of the rest idx 0 (0.9) and 5 (0.5) are easy, idx 2 (0.2) and 4 (0.1) hard.
    mu = np.array([0.9, 0.8, 0.2, 0.3, 0.1, 0.5])
    sd = np.array([0.01, 0.30, 0.02, 0.25, 0.00, 0.03])
    assert quantile_regions(mu, sd).tolist() == ["easy", "ambiguous", "hard", "ambiguous", "hard", "easy"]
    with pytest.raises(ConfigError, match="confidence_quantile"):
        quantile_regions(mu, sd, confidence_quantile=2.0)


def test_an_unconverged_map_saturates_thresholds_but_not_quantiles():
    """The UD-POS case of issue 14: every gold probability below 0.5 and slowly rising (a budget
    far from convergence). The absolute thresholds call every example hard; the quantile rule
    gives three non-empty regions, each fraction within [1/6, 1/2] (ambiguous = 1/3)."""
    rng = np.random.default_rng(0)
    start = rng.uniform(0.05, 0.35, 300)
    probs = np.stack([start, start + rng.uniform(0.0, 0.1, 300)])
    m = dynamics_metrics(probs, probs > 0.5)
    assert set(assign_regions(m.confidence, m.variability).tolist()) == {"hard"}
    regions = quantile_regions(m.confidence, m.variability)
    frac = {r: float(np.mean(regions == r)) for r in ("easy", "ambiguous", "hard")}
    assert frac["ambiguous"] == pytest.approx(1 / 3)
    assert all(1 / 6 - 1e-9 <= frac[r] <= 1 / 2 + 1e-9 for r in ("easy", "hard")), frac
    # the split moves with where the variable examples sit: variable = confident -> fewer easy
    probs2 = np.stack([start, start + 0.3 * start])  # the confident ones move most
    m2 = dynamics_metrics(probs2, probs2 > 0.5)
    r2 = quantile_regions(m2.confidence, m2.variability)
    assert np.mean(r2 == "easy") == pytest.approx(1 / 2 - 1 / 3) and np.mean(r2 == "hard") == pytest.approx(1 / 2)


def test_selection_summary_means_of_the_three_reference_selections():
    m = dynamics_metrics(np.array([[0.9, 0.8, 0.2, 0.3, 0.1, 0.5], [0.9, 0.2, 0.2, 0.9, 0.1, 0.5]]),
                         np.array([[1, 1, 0, 0, 0, 1], [1, 0, 0, 1, 0, 1]], bool))
    s = selection_summary(m, 1 / 3)
    # variabilities 0, .3, 0, .3, 0, 0 -> ambiguous = idx 1, 3; confidences .9 .5 .2 .6 .1 .5
    assert s["ambiguous_variability"] == pytest.approx(0.3) and s["ambiguous_confidence"] == pytest.approx(0.55)
    assert s["hard_confidence"] == pytest.approx((0.1 + 0.2) / 2) and s["easy_confidence"] == pytest.approx(0.75)
    assert s["easy_correctness"] == pytest.approx((1.0 + 0.5) / 2)


def test_cartography_rule_is_checked_before_training():
    with pytest.raises(ConfigError, match="rule"):
        Cartography(rule="top-k").fit("snli", "tiny", None)


# ----------------------------------------------------------------------------- the converging budget
def _drive(bits_per_epoch, patience=1, min_epochs=3, min_delta=0.01):
    """Run the convergence callback on held-out units whose cross-entropy follows ``bits_per_epoch``."""
    conv = callbacks()[2]
    seq = iter(bits_per_epoch)

    def evaluate(model):
        b = next(seq)
        return {"prob": np.full(4, 2.0 ** -b), "correct": np.ones(4, bool)}

    cb = conv(evaluate, patience, min_epochs, min_delta)
    model = SimpleNamespace(train=lambda: None)
    for epoch, _ in enumerate(bits_per_epoch, start=1):
        control = SimpleNamespace(should_training_stop=False)
        cb.on_epoch_end(None, SimpleNamespace(global_step=10 * epoch), control, model=model)
        if control.should_training_stop:
            break
    return cb


def test_convergence_stops_one_epoch_after_the_loss_stops_improving():
    cb = _drive([1.0, 0.6, 0.4, 0.395, 0.3, 0.2])  # epoch 4 improves by 0.005 < 0.01: stop there
    assert [p["epoch"] for p in cb.points] == [1, 2, 3, 4] and cb.stopped_early
    assert [p["cross_entropy_bits"] for p in cb.points] == pytest.approx([1.0, 0.6, 0.4, 0.395])
    assert [p["fraction"] for p in cb.curve()] == pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_convergence_never_stops_before_min_epochs_and_runs_to_the_bound():
    cb = _drive([1.0, 1.2, 1.3, 1.4], min_epochs=3)  # worse from epoch 2, but 3 epochs are kept
    assert len(cb.points) == 3 and cb.stopped_early
    cb = _drive([1.0, 0.8, 0.6, 0.4, 0.2])  # improving all along: the bound ends it
    assert len(cb.points) == 5 and not cb.stopped_early
    cb = _drive([1.0, 0.8, 0.8, 0.8, 0.5], patience=2, min_epochs=1)
    assert len(cb.points) == 4


def test_the_profile_budget_converges_and_explicit_budgets_keep_their_epochs():
    assert as_budget(None) is PROFILE_BUDGET and PROFILE_BUDGET.patience == 1 and PROFILE_BUDGET.epochs == 10
    assert Budget().patience is None and Budget(epochs=4).epochs == 4
    assert as_budget({"epochs": 2}).patience is None
    with pytest.raises(ValueError):
        Budget(patience=0)


def test_budget_run_with_patience_records_the_epochs_it_trained(tmp_path):
    """End to end on ``tiny``: with ``min_delta`` = 0.5 bits no epoch after the first improves
    enough, so training stops at ``min_epochs`` = 3 of at most 6; the run and the measure record it."""
    from taskdiff.difficulty import MeasureContext
    from taskdiff.testing.fixtures import make_fixture_data_dir

    ctx = MeasureContext(data_dir=make_fixture_data_dir(tmp_path / "data", n_train=24, n_eval=12),
                         store=tmp_path / "store")
    budget = Budget(epochs=6, patience=1, min_epochs=3, min_delta=0.5, learning_rate=5e-3, batch_size=8,
                    precision="fp32", max_train_examples=24, max_held_out=12, warmup_ratio=0.0)
    c = Cartography(budget=budget, export=False).fit("snli", "tiny", ctx)
    r = c.result_
    assert r["epochs_trained"] == 3 and r["stopped_early"] is True, r
    assert r["num_epochs"] + r["skipped_epochs"] == r["epochs_trained"]  # one dynamics record per epoch
    assert r["easy_frac"] + r["ambiguous_frac"] + r["hard_frac"] == pytest.approx(1.0)
    assert r["ambiguous_frac"] == pytest.approx(int(24 / 3) / 24) and r["rule"] == "quantile"
    assert set(r["selection"]) >= {"ambiguous_variability", "hard_confidence", "easy_confidence"}
