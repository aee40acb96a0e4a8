"""LinearProbe follows the estimator contract; fit_probe_suite on simulated layer states."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from taskdiff.difficulty.maths import chance_accuracy, control_task_labels
from taskdiff.difficulty.probing import LinearProbe, Probe, ProbeSuite, fit_probe_suite
from taskdiff.difficulty.probing.probe import split_by_sentence


def test_linear_probe_estimator_contract():
    probe = LinearProbe(C=0.5, max_iter=200)
    assert probe.get_params()["C"] == 0.5 and not hasattr(probe, "model_")
    with pytest.raises(NotFittedError):
        probe.predict(np.zeros((2, 3)))
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    x = np.eye(3)[y] * 3 + rng.normal(size=(90, 3))
    assert probe.fit(x, y) is probe
    assert probe.classes_.tolist() == [0, 1, 2] and probe.n_features_in_ == 3 and probe.converged_
    assert probe.predict_proba(x).shape == (90, 3)
    assert probe.score(x, y) > 0.9
    twin = clone(probe)
    assert twin.get_params() == probe.get_params() and not hasattr(twin, "model_")


def test_split_by_sentence_keeps_sentences_whole():
    sent = np.repeat(np.arange(20), 3)
    test = split_by_sentence(sent, 0.25, seed=0)
    assert np.unique(sent[test]).size == 5
    assert not set(sent[test]) & set(sent[~test])
    np.testing.assert_array_equal(test, split_by_sentence(sent, 0.25, seed=0))


def _token_suite(n_types=160, n_sent=300, length=8, seed=0):
    """A token-level probe over random sentences; each word type has one of 4 task labels."""
    rng = np.random.default_rng(seed)
    type_label = np.array(list("ABCD"))[rng.integers(0, 4, n_types)]
    words = rng.integers(0, n_types, size=(n_sent, length))
    sentences = [[f"w{t}" for t in row] for row in words]
    flat = words.ravel()
    probe = Probe("toy_tags", "syntactic", "token", sentences, labels=type_label[flat],
                  sentence_index=np.repeat(np.arange(n_sent), length),
                  word_index=np.tile(np.arange(length), n_sent),
                  word_types=np.array([f"w{t}" for t in flat]))
    suite = ProbeSuite.from_probes([probe])
    # per-word row of each suite word -> its type id, in suite layout
    type_of_row = np.array([int(w[1:]) for s in suite.sentences for w in s])
    return suite, type_label, type_of_row


def test_selectivity_near_task_accuracy_minus_chance_when_features_hide_word_identity():
    suite, type_label, type_of_row = _token_suite()
    rng = np.random.default_rng(1)
    label_ids = np.searchsorted(np.array(list("ABCD")), type_label[type_of_row])
    # layer 0 encodes only the task label; layer 1 encodes word identity (one-hot of type)
    label_only = np.eye(4)[label_ids] * 3 + 0.3 * rng.normal(size=(len(label_ids), 4))
    identity = np.eye(type_label.size)[type_of_row] + 0.05 * rng.normal(size=(len(label_ids), 160))
    sent_feats = {0: np.zeros((len(suite.sentences), 2)), 1: np.zeros((len(suite.sentences), 2))}
    res = fit_probe_suite(sent_feats, suite, {0: label_only, 1: identity}, mdl=False, seed=0)
    by_layer = {r.layer: r for r in res}
    chance = chance_accuracy(suite.probes["toy_tags"].labels)
    r0 = by_layer[0]
    assert r0.accuracy > 0.95
    # control labels are independent of what layer 0 encodes -> near chance; the best a
    # probe can do is the majority control label within each task class (oracle below)
    probe = suite.probes["toy_tags"]
    test = split_by_sentence(probe.sentence_index, 0.25, seed=0)
    control = control_task_labels(probe.word_types, probe.labels, seed=0)
    oracle = np.mean([Counter(control[~test & (probe.labels == c)]).most_common(1)[0][0] == k
                      for c, k in zip(probe.labels[test], control[test])])
    assert r0.control_accuracy == pytest.approx(oracle, abs=0.03)
    assert r0.control_accuracy < chance + 0.15
    assert r0.selectivity == pytest.approx(r0.accuracy - r0.control_accuracy)
    assert r0.selectivity > r0.accuracy - chance - 0.15
    # layer 1 lets the probe memorise word types: control accuracy high, selectivity low
    r1 = by_layer[1]
    assert r1.control_accuracy > 0.75 and r1.selectivity < 0.15


def _sentence_suite(n=160, seed=0):
    rng = np.random.default_rng(seed)
    sentences = [[f"s{i}", "x"] for i in range(n)]
    labels = np.array(["yes", "no"])[rng.integers(0, 2, n)]
    probe = Probe("toy_sent", "semantic", "sentence", sentences, labels=labels,
                  sentence_index=np.arange(n))
    return ProbeSuite.from_probes([probe]), labels


def test_fit_probe_suite_sentence_level_layers_array_and_mdl():
    suite, labels = _sentence_suite()
    rng = np.random.default_rng(2)
    y = (labels == "yes").astype(float)
    noise = rng.normal(size=(len(y), 4))
    informative = noise.copy()
    informative[:, 0] += 4 * y
    feats = np.stack([noise, informative])  # (L=2, N, D)
    res = fit_probe_suite(feats, suite, seed=0, max_examples=120)
    assert [r.layer for r in res] == [0, 1]
    r0, r1 = res
    assert r0.n_train + r0.n_test == 120 and r0.n_test == 30
    assert np.isnan(r0.control_accuracy) and np.isnan(r0.selectivity)  # sentence level
    assert r1.accuracy > 0.9 and r1.accuracy > r0.accuracy
    assert r1.mdl_compression > 1.5 > r0.mdl_compression
    assert r1.mdl_uniform_codelength == pytest.approx(r1.n_train * 1.0)
    row = r1.as_dict()
    assert row["probe"] == "toy_sent" and row["group"] == "semantic" and row["note"] == ""


def test_fit_probe_suite_checks_feature_layout():
    suite, _ = _sentence_suite(n=30)
    with pytest.raises(ValueError, match="30 rows"):
        fit_probe_suite({0: np.zeros((29, 3))}, suite)
    tok_suite, _, _ = _token_suite(n_types=10, n_sent=10, length=3)
    with pytest.raises(ValueError, match="word_features"):
        fit_probe_suite({0: np.zeros((len(tok_suite.sentences), 3))}, tok_suite)
