"""Linear probes on precomputed layer states, and fitting a whole probing suite.

Nothing here encodes text: the caller encodes ``suite.sentences`` once and passes, per
layer, a per-sentence matrix (row ``i`` = pooled state of ``suite.sentences[i]``) and, for
token-level probes, a per-word matrix (row ``suite.word_offsets[i] + j`` = state of word
``j`` of sentence ``i``, e.g. its first sub-word). For each probe and layer
:func:`fit_probe_suite` reports held-out accuracy, the majority baseline, control-task
accuracy and selectivity (token-level probes; Hewitt and Liang 2019) and the MDL online
code on the training split (Voita and Titov 2020).

The train/test split is by probe sentence (all words of a sentence fall on one side),
seeded, and shared by all layers, so layers are compared on the same examples.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from taskdiff.difficulty.maths.mdl import DEFAULT_FRACTIONS, mdl_online_code
from taskdiff.difficulty.maths.probing import (
    accuracy,
    control_task_labels,
    majority_accuracy,
    selectivity,
)
from taskdiff.errors import ConfigError

NAN = float("nan")


class LinearProbe(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression (L2, lbfgs) on optionally standardised features.

    Parameters
    ----------
    C : float
        Inverse L2 strength of :class:`sklearn.linear_model.LogisticRegression`.
    max_iter : int
        lbfgs iterations; ``converged_`` records whether they sufficed.
    tol : float
    standardize : bool
        Standardise features with statistics of the training data first (layer states have
        very different scales across layers).
    random_state : int
    """

    def __init__(self, C: float = 1.0, max_iter: int = 1000, tol: float = 1e-4,
                 standardize: bool = True, random_state: int = 0):
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.standardize = standardize
        self.random_state = random_state

    def fit(self, X, y) -> LinearProbe:
        X = np.asarray(X, dtype=np.float64)
        self.scaler_ = StandardScaler().fit(X) if self.standardize else None
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=self.tol,
                                         solver="lbfgs", random_state=self.random_state)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.model_.fit(self._transform(X), y)
        self.converged_ = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def _transform(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return self.scaler_.transform(X) if self.scaler_ is not None else X

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.decision_function(self._transform(X))

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self._transform(X))

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(self._transform(X))


@dataclass(frozen=True)
class ProbeResult:
    """One probe at one layer; NaN where a quantity does not apply or could not be fit."""

    probe: str
    group: str
    level: str
    layer: int
    n_train: int
    n_test: int
    n_classes: int
    accuracy: float
    majority_accuracy: float
    control_accuracy: float = NAN
    selectivity: float = NAN
    mdl_codelength: float = NAN
    mdl_uniform_codelength: float = NAN
    mdl_compression: float = NAN
    note: str = ""
    #: Per test example: "1" right / "0" wrong, and its sentence (for the sentence bootstrap
    #: of :func:`~taskdiff.difficulty.probing.summary.contrast_interval`).
    test_correct: str = ""
    test_sentences: tuple = ()

    def as_dict(self) -> dict:
        return asdict(self)


def _as_layers(features) -> dict:
    if features is None:
        return {}
    if isinstance(features, dict):
        return {int(k): np.asarray(v) for k, v in sorted(features.items())}
    arr = np.asarray(features)
    if arr.ndim != 3:
        raise ValueError(f"features must be a dict layer -> (N, D) array or an (L, N, D) array, "
                         f"found an array of shape {arr.shape}")
    return {layer: arr[layer] for layer in range(arr.shape[0])}


def split_by_sentence(sentence_index, test_fraction: float, seed: int):
    """Boolean test mask: a seeded ``test_fraction`` of the sentences, with all their examples."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be in (0, 1), found {test_fraction}")
    groups = np.unique(sentence_index)
    if groups.size < 2:
        raise ValueError(f"a train/test split needs at least 2 sentences, found {groups.size}")
    n_test = min(max(1, int(round(test_fraction * groups.size))), groups.size - 1)
    test_groups = np.random.default_rng(seed).permutation(groups)[:n_test]
    return np.isin(sentence_index, test_groups)


def _subsample(probe, max_examples: int | None, seed: int) -> np.ndarray:
    """Example indices, whole sentences in seeded order, at most ``max_examples`` of them."""
    idx = np.arange(len(probe))
    if max_examples is None or len(idx) <= max_examples:
        return idx
    order = np.random.default_rng(seed).permutation(np.unique(probe.sentence_index))
    sizes = np.bincount(probe.sentence_index)[order]
    keep = order[: max(2, int(np.sum(np.cumsum(sizes) <= max_examples)))]  # >= 2 for a split
    return idx[np.isin(probe.sentence_index, keep)]


def _fit_one(x, y, test, y_control, make_probe, mdl_fractions, seed) -> dict:
    """Task accuracy, control accuracy, selectivity and MDL of one probe at one layer."""
    train = ~test
    probe = make_probe().fit(x[train], y[train])
    pred = probe.predict(x[test])
    out = {"accuracy": accuracy(y[test], pred),
           "test_correct": "".join("1" if ok else "0" for ok in np.asarray(pred) == np.asarray(y[test]))}
    if y_control is not None and np.unique(y_control[train]).size > 1:
        ctrl = make_probe().fit(x[train], y_control[train])
        out["control_accuracy"] = accuracy(y_control[test], ctrl.predict(x[test]))
        out["selectivity"] = float(selectivity(out["accuracy"], out["control_accuracy"]))
    if mdl_fractions is not None:
        res = mdl_online_code(x[train], y[train], make_probe, mdl_fractions, seed)
        out.update(mdl_codelength=res.codelength, mdl_uniform_codelength=res.uniform_codelength,
                   mdl_compression=res.compression)
    return out


def _check_rows(layers: dict, expected: int, kind: str) -> None:
    for layer, arr in layers.items():
        if arr.ndim != 2 or arr.shape[0] != expected:
            raise ValueError(f"{kind} features of layer {layer} must have {expected} rows "
                             f"(see ProbeSuite docs), found shape {arr.shape}")


def fit_probe_suite(sentence_features, suite, word_features=None, *, make_probe=LinearProbe,
                    test_fraction: float = 0.25, seed: int = 0, control: bool = True,
                    mdl: bool = True, mdl_fractions=DEFAULT_FRACTIONS,
                    max_examples: int | None = None) -> list[ProbeResult]:
    """Fit every probe of ``suite`` at every layer.

    Parameters
    ----------
    sentence_features : dict[int, ndarray] or ndarray (L, S, D)
        Per-sentence states; S = ``len(suite.sentences)``.
    suite : ProbeSuite
    word_features : dict[int, ndarray] or ndarray (L, W, D), optional
        Per-word states; W = ``suite.word_offsets[-1]``. Needed for token-level probes.
    make_probe : callable
        Returns an unfitted classifier (estimator contract); default :class:`LinearProbe`.
    test_fraction, seed : float, int
        Held-out share of sentences and the seed of split, control labels and MDL order.
    control : bool
        Control task and selectivity for token-level probes.
    mdl : bool
        MDL online code on the training split (about 10 extra probe fits per layer).
    mdl_fractions : sequence of float
    max_examples : int, optional
        Seeded subsample of whole sentences per probe, for speed.

    Returns
    -------
    list of ProbeResult
        One per (probe, layer), probes in suite order, layers ascending.
    """
    sent_layers, word_layers = _as_layers(sentence_features), _as_layers(word_features)
    _check_rows(sent_layers, len(suite.sentences), "sentence")
    _check_rows(word_layers, int(suite.word_offsets[-1]), "word")
    results = []
    for name, probe in suite.probes.items():
        token = probe.level == "token"
        if token and not word_layers:
            raise ValueError(f"probe {name!r} is token-level: pass word_features")
        layers = word_layers if token else sent_layers
        rows_all = suite.word_rows(name) if token else suite.sentence_rows(name)
        keep = _subsample(probe, max_examples, seed)
        rows, y = rows_all[keep], probe.labels[keep]
        test = split_by_sentence(probe.sentence_index[keep], test_fraction, seed)
        y_control = (control_task_labels(probe.word_types[keep], y, seed)
                     if token and control and probe.word_types is not None else None)
        base = dict(probe=name, group=probe.group, level=probe.level, n_train=int((~test).sum()),
                    n_test=int(test.sum()), n_classes=int(np.unique(y).size),
                    majority_accuracy=majority_accuracy(y[~test], y[test]),
                    test_sentences=tuple(int(i) for i in probe.sentence_index[keep][test]))
        for layer, feats in layers.items():
            if np.unique(y[~test]).size < 2:
                results.append(ProbeResult(layer=layer, accuracy=NAN, note="one class in train",
                                           **base))
                continue
            fitted = _fit_one(feats[rows], y, test, y_control, make_probe,
                              mdl_fractions if mdl else None, seed)
            results.append(ProbeResult(layer=layer, **base, **fitted))
    return results
