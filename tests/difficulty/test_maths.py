"""Known-answer tests of the difficulty maths (cartography, information, LogME, MDL, probing)."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import optimize, stats

from taskdiff.difficulty import maths as M
from taskdiff.errors import ConfigError

LOG2_3 = np.log2(3.0)

# ---------------------------------------------------------------- cartography

# E = 3 epochs x N = 3 examples.
GOLD = np.array([[0.2, 0.9, 0.1],
                 [0.5, 0.9, 0.4],
                 [0.8, 0.9, 0.1]])
CORRECT = np.array([[False, True, False],
                    [True, False, False],
                    [True, True, False]])


def test_confidence_variability_by_hand():
    m = M.dynamics_metrics(GOLD, CORRECT)
    # ex0: mean (0.2+0.5+0.8)/3 = 0.5; var ((-0.3)^2 + 0 + 0.3^2)/3 = 0.06 -> std sqrt(0.06)
    # ex1: constant 0.9 -> mean 0.9, std 0
    # ex2: mean (0.1+0.4+0.1)/3 = 0.2; var (0.01 + 0.04 + 0.01)/3 = 0.02 -> std sqrt(0.02)
    np.testing.assert_allclose(m.confidence, [0.5, 0.9, 0.2])
    np.testing.assert_allclose(m.variability, [np.sqrt(0.06), 0.0, np.sqrt(0.02)], atol=1e-12)
    # correctness: ex0 F,T,T -> 2/3; ex1 T,F,T -> 2/3; ex2 never -> 0
    np.testing.assert_allclose(m.correctness, [2 / 3, 2 / 3, 0.0])
    # forgetfulness: only ex1 goes right -> wrong (epoch 1 -> 2)
    np.testing.assert_array_equal(m.forgetfulness, [0, 1, 0])
    assert m.num_epochs == 3


def test_constant_probabilities_have_zero_variability():
    p = np.full((5, 7), 0.37)
    np.testing.assert_allclose(M.variability(p), 0.0, atol=1e-15)
    np.testing.assert_allclose(M.confidence(p), 0.37)


def test_forgetfulness_hand_sequence():
    seq = np.array([True, False, True, False, False, True])[:, None]
    assert M.forgetfulness(seq)[0] == 2  # flips at epochs 1->2 and 3->4
    assert M.forgetfulness(np.ones((4, 1), bool))[0] == 0
    assert M.forgetfulness(np.zeros((4, 1), bool))[0] == 0


def test_regions_and_summary():
    m = M.dynamics_metrics(GOLD, CORRECT)
    regions = M.assign_regions(m.confidence, m.variability)
    # ex0 std 0.245 >= 0.2 -> ambiguous; ex1 std 0, conf 0.9 -> easy;
    # ex2 std 0.141 < 0.2, conf 0.2 < 0.5 -> hard
    assert regions.tolist() == ["ambiguous", "easy", "hard"]
    # quantile rule: tau_v = median of (0.245, 0, 0.141) = 0.141 -> ex2 becomes ambiguous
    q = M.assign_regions(m.confidence, m.variability, variability_quantile=0.5)
    assert q.tolist() == ["ambiguous", "easy", "ambiguous"]
    s = M.cartography_summary(m, regions)
    assert s["frac_easy"] == s["frac_ambiguous"] == s["frac_hard"] == pytest.approx(1 / 3)
    assert s["mean_confidence"] == pytest.approx((0.5 + 0.9 + 0.2) / 3)
    assert s["mean_variability"] == pytest.approx((np.sqrt(0.06) + np.sqrt(0.02)) / 3)
    with pytest.raises(ConfigError):
        M.assign_regions(m.confidence, m.variability, confidence_threshold=1.5)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 8)),
              elements=st.floats(0.0, 1.0)), st.data())
def test_dynamics_bounds_property(probs, data):
    correct = data.draw(arrays(bool, probs.shape))
    m = M.dynamics_metrics(probs, correct)
    assert np.all((m.confidence >= 0) & (m.confidence <= 1))
    assert np.all((m.variability >= 0) & (m.variability <= 0.5 + 1e-12))
    assert np.all(m.forgetfulness <= probs.shape[0] // 2)  # a flip needs a right epoch first
    s = M.cartography_summary(m, M.assign_regions(m.confidence, m.variability))
    assert s["frac_easy"] + s["frac_ambiguous"] + s["frac_hard"] == pytest.approx(1.0)


def test_gold_prob_classification_and_multiple_choice():
    logits = np.array([[0.0, np.log(3.0)], [np.log(3.0), 0.0]])  # softmax (1/4, 3/4), (3/4, 1/4)
    p, ok = M.gold_prob_classification(logits, [1, 1])
    np.testing.assert_allclose(p, [0.75, 0.25])
    assert ok.tolist() == [True, False]
    # 3 choices, the last one padded away: softmax over the first two only
    mc = np.array([[0.0, np.log(3.0), 100.0]])
    p, ok = M.gold_prob_multiple_choice(mc, [1], mask=[[True, True, False]])
    np.testing.assert_allclose(p, [0.75])
    assert ok.tolist() == [True]


def test_gold_prob_tagging_mean_over_real_tokens():
    l3 = np.log(3.0)
    logits = np.array([[[0.0, l3], [l3, 0.0], [50.0, 0.0]]])  # third token is padding
    labels = np.array([[1, 1, 1]])
    mask = np.array([[True, True, False]])
    p, ok = M.gold_prob_tagging(logits, labels, mask)
    np.testing.assert_allclose(p, [(0.75 + 0.25) / 2])
    assert ok.tolist() == [False]  # token 2 wrong
    _, ok_half = M.gold_prob_tagging(logits, labels, mask, correct_fraction=0.5)
    assert ok_half.tolist() == [True]


def test_gold_prob_qa_product_of_start_and_end():
    l2 = np.log(2.0)
    start = np.array([[0.0, l2, 0.0, 9.0]])  # masked softmax over 3 positions: 1/4, 1/2, 1/4
    end = np.array([[0.0, 0.0, l2, 9.0]])  # 1/4, 1/4, 1/2
    mask = np.array([[True, True, True, False]])
    p, ok = M.gold_prob_qa(start, end, [1], [2], mask)
    np.testing.assert_allclose(p, [0.5 * 0.5])
    assert ok.tolist() == [True]
    p, ok = M.gold_prob_qa(start, end, [0], [2], mask)
    np.testing.assert_allclose(p, [0.25 * 0.5])
    assert ok.tolist() == [False]


# ---------------------------------------------------------------- information


def test_label_entropy_hand_case():
    # p = (1/2, 1/4, 1/4): H = 1/2*1 + 2 * 1/4*2 = 1.5 bits
    assert M.label_entropy(["a", "a", "b", "c"]) == pytest.approx(1.5)
    assert M.label_entropy([3, 3, 3]) == 0.0
    assert M.label_entropy([0, 1, 2, 3]) == pytest.approx(2.0)


def test_pvi_zero_when_models_agree_and_hand_v_information():
    p = np.array([0.1, 0.5, 0.93])
    np.testing.assert_allclose(M.pvi(p, p), 0.0, atol=1e-15)
    # -log2 0.5 + log2 1 = 1 ; -log2 0.25 + log2 0.5 = 2 - 1 = 1 -> V-info 1 bit
    values = M.pvi([0.5, 0.25], [1.0, 0.5])
    np.testing.assert_allclose(values, [1.0, 1.0])
    assert M.v_information(values) == pytest.approx(1.0)
    # (-1 + 1) / 2 = 0: one example harder with the input, one easier
    assert M.v_information(M.pvi([0.5, 0.5], [0.25, 1.0])) == pytest.approx(0.0)
    # clipping: probability 0 is read as eps
    assert M.pvi([0.5], [0.0], eps=2.0**-20)[0] == pytest.approx(1.0 - 20.0)


def test_v_information_equals_difference_of_v_entropies():
    rng = np.random.default_rng(1)
    p0, px = rng.uniform(0.05, 1, 50), rng.uniform(0.05, 1, 50)
    assert M.v_information(M.pvi(p0, px)) == pytest.approx(M.v_entropy(p0) - M.v_entropy(px))


def test_prior_gold_probs():
    np.testing.assert_allclose(M.prior_gold_probs(["a", "a", "b", "a"], ["a", "b", "c"]),
                               [0.75, 0.25, 0.0])
    # Laplace: (3+1)/(4+2), (1+1)/(4+2), 1/(4+2)
    np.testing.assert_allclose(M.prior_gold_probs(["a", "a", "b", "a"], ["a", "b", "c"],
                                                  smoothing=1.0), [4 / 6, 2 / 6, 1 / 6])


# ---------------------------------------------------------------- LogME


def _evidence_direct(f, y, alpha, beta):
    """log N(y; 0, beta^-1 I + alpha^-1 F F^T): the marginal likelihood, no SVD."""
    n = len(y)
    cov = np.eye(n) / beta + f @ f.T / alpha
    return stats.multivariate_normal(mean=np.zeros(n), cov=cov).logpdf(y)


def _evidence_explicit(f, y, alpha, beta):
    """The paper's formula with explicit A, m and a determinant."""
    n, d = f.shape
    a = alpha * np.eye(d) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    return (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - n / 2 * np.log(2 * np.pi)
            - beta / 2 * np.sum((f @ m - y) ** 2) - alpha / 2 * m @ m
            - np.linalg.slogdet(a)[1] / 2)


@pytest.mark.parametrize("n,d", [(12, 3), (5, 8)])
def test_log_evidence_at_fixed_alpha_beta(n, d):
    rng = np.random.default_rng(n * d)
    f, y = rng.normal(size=(n, d)), rng.normal(size=n)
    for alpha, beta in [(1.0, 1.0), (0.3, 4.0), (7.0, 0.2)]:
        ours = M.log_evidence(f, y, alpha, beta)
        assert ours == pytest.approx(_evidence_explicit(f, y, alpha, beta), rel=1e-10)
        assert ours == pytest.approx(_evidence_direct(f, y, alpha, beta), rel=1e-10)


def _maximise_directly(f, y):
    res = optimize.minimize(lambda t: -_evidence_direct(f, y, np.exp(t[0]), np.exp(t[1])),
                            x0=[0.0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    return -res.fun / len(y), np.exp(res.x)


def test_logme_fixed_point_matches_direct_maximisation():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(40, 4))
    y = f @ np.array([1.0, -0.5, 0.0, 2.0]) + 0.7 * rng.normal(size=40)
    ev, alpha, beta = M.logme_fit(f, y)
    ev_direct, (a_direct, b_direct) = _maximise_directly(f, y)
    assert ev == pytest.approx(ev_direct, abs=1e-7)
    assert alpha == pytest.approx(a_direct, rel=1e-3) and beta == pytest.approx(b_direct, rel=1e-3)


def test_logme_classification_is_mean_over_one_vs_rest_columns():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, size=30)
    f = np.eye(3)[labels] * 2.0 + rng.normal(size=(30, 3)) + rng.normal(size=(30, 1))
    expected = np.mean([_maximise_directly(f, (labels == k).astype(float))[0] for k in range(3)])
    assert M.logme(f, labels) == pytest.approx(expected, abs=1e-6)
    # string labels give the same score
    assert M.logme(f, np.array(["a", "b", "c"])[labels]) == pytest.approx(expected, abs=1e-6)
    # informative features beat noise
    assert M.logme(f, labels) > M.logme(rng.normal(size=(30, 3)), labels)


def test_logme_regression_averages_columns():
    rng = np.random.default_rng(5)
    f = rng.normal(size=(25, 3))
    t = np.stack([f[:, 0] + 0.3 * rng.normal(size=25), rng.normal(size=25)], axis=1)
    expected = np.mean([_maximise_directly(f, t[:, j])[0] for j in range(2)])
    assert M.logme_regression(f, t) == pytest.approx(expected, abs=1e-6)
    assert M.logme_regression(f, t[:, 0]) == pytest.approx(_maximise_directly(f, t[:, 0])[0],
                                                            abs=1e-6)


# ---------------------------------------------------------------- MDL


def test_online_code_blocks():
    np.testing.assert_array_equal(M.online_code_blocks(1000),
                                  [1, 2, 4, 8, 16, 32, 62, 125, 250, 500, 1000])
    # n = 10: floor(f*10) = 0,0,0,0,0,0,0,1,2,5,10 -> first cut raised to 1, repeats merged
    np.testing.assert_array_equal(M.online_code_blocks(10), [1, 2, 5, 10])
    with pytest.raises(ConfigError):
        M.online_code_blocks(10, fractions=(0.5, 0.9))


class _FixedProbe:
    """Ignores its data: always predicts (1/2, 1/4, 1/4) over classes 0, 1, 2."""

    classes_ = np.array([0, 1, 2])

    def fit(self, x, y):
        return self

    def predict_proba(self, x):
        return np.tile([0.5, 0.25, 0.25], (len(x), 1))


def test_mdl_online_code_sums_bits_by_hand():
    y = np.array([0, 1, 0, 0, 1, 2, 0, 0])
    x = np.zeros((8, 1))
    res = M.mdl_online_code(x, y, _FixedProbe, fractions=(0.25, 0.5, 1.0), seed=None,
                            smoothing=0.0)
    # cuts 2, 4, 8. block [0,2): uniform, 2*log2(3) bits
    # block [2,4): labels 0,0 -> 1 + 1 = 2 bits; block [4,8): 1,2,0,0 -> 2+2+1+1 = 6 bits
    np.testing.assert_array_equal(res.boundaries, [2, 4, 8])
    np.testing.assert_allclose(res.block_bits, [2.0, 6.0])
    assert res.codelength == pytest.approx(2 * LOG2_3 + 8)
    assert res.uniform_codelength == pytest.approx(8 * LOG2_3)
    assert res.compression == pytest.approx(8 * LOG2_3 / (2 * LOG2_3 + 8))
    assert M.online_codelength(2, 3, [2.0, 6.0]) == pytest.approx(res.codelength)
    assert M.uniform_codelength(8, 3) == pytest.approx(8 * LOG2_3)
    assert M.codelength_bits([[0.5, 0.5], [0.125, 0.875]], [0, 0]) == pytest.approx(4.0)


def test_mdl_informative_features_compress():
    from taskdiff.difficulty.probing.probe import LinearProbe

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=300)
    good = np.eye(3)[y] * 3 + rng.normal(size=(300, 3))
    bad = rng.normal(size=(300, 3))
    c_good = M.mdl_online_code(good, y, LinearProbe, seed=0).compression
    c_bad = M.mdl_online_code(bad, y, LinearProbe, seed=0).compression
    assert c_good > 2.0 and c_bad < 1.1


# ---------------------------------------------------------------- probing maths


def test_control_task_labels_fixed_per_type_and_deterministic():
    types = np.array(["the", "cat", "the", "dog", "cat", "a"])
    a = M.control_task_labels(types, ["N", "D", "N", "N"], seed=3)
    assert a[0] == a[2] and a[1] == a[4]
    assert set(a) <= {"N", "D"}
    np.testing.assert_array_equal(a, M.control_task_labels(types, ["N", "D", "N", "N"], seed=3))
    # token order does not matter: same type -> same label after a shuffle
    perm = np.array([5, 3, 1, 0, 2, 4])
    np.testing.assert_array_equal(M.control_task_labels(types[perm], {"N": 0.75, "D": 0.25}, 3),
                                  M.control_task_labels(types, {"N": 0.75, "D": 0.25}, 3)[perm])


def test_control_labels_follow_the_empirical_distribution():
    types = np.array([f"w{i}" for i in range(4000)])
    lab = M.control_task_labels(types, ["A"] * 3 + ["B"], seed=0)
    assert np.mean(lab == "A") == pytest.approx(0.75, abs=0.03)


def test_selectivity_accuracy_and_baselines():
    assert M.selectivity(0.9, 0.6) == pytest.approx(0.3)
    assert M.accuracy([1, 2, 3, 4], [1, 2, 0, 0]) == 0.5
    assert M.majority_accuracy(["a", "a", "b"], ["a", "b", "b", "a"]) == 0.5
    assert M.chance_accuracy(["a", "a", "b", "b"]) == pytest.approx(0.5)


# ---------------------------------------------------------------- similarity


def test_mean_pool_with_mask_and_cosine():
    h = np.array([[[1.0, 0.0], [3.0, 2.0], [100.0, 100.0]]])
    np.testing.assert_allclose(M.mean_pool(h, [[1, 1, 0]]), [[2.0, 1.0]])
    np.testing.assert_allclose(M.mean_pool(h[0, :2]), [2.0, 1.0])
    assert M.cosine_similarity([1, 0], [1, 1]) == pytest.approx(1 / np.sqrt(2))
    assert M.cosine_similarity([0, 0], [1, 1]) == 0.0
    np.testing.assert_allclose(M.pairwise_cosine([[1, 0], [0, 2]], [[3, 0]]), [[1.0], [0.0]])


def test_dataset_embedding_weighting():
    h = np.array([[[2.0], [4.0], [0.0]], [[10.0], [0.0], [0.0]]])
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    # tokens 2, 4, 10 -> 16/3 ; per-sequence means 3 and 10 -> 6.5
    np.testing.assert_allclose(M.dataset_embedding(h, mask), [16 / 3])
    np.testing.assert_allclose(M.dataset_embedding(h, mask, token_weighted=False), [6.5])
    assert M.mean_pooled_similarity(h, mask, -h, mask) == pytest.approx(-1.0)
