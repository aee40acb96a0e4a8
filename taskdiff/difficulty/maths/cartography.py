"""Dataset cartography: training-dynamics statistics per example (Swayamdipta et al. 2020).

For example :math:`i` observed after each of :math:`E` epochs, let :math:`p_{e,i}` be the
model's probability of the gold answer and :math:`c_{e,i}` whether its prediction is right.

* confidence :math:`\\hat\\mu_i = \\frac1E \\sum_e p_{e,i}`
* variability :math:`\\hat\\sigma_i = \\sqrt{\\frac1E \\sum_e (p_{e,i} - \\hat\\mu_i)^2}`
  (population standard deviation, ``np.std`` with ``ddof=0`` as in the reference code)
* correctness :math:`\\frac1E \\sum_e c_{e,i}` (a *fraction*; the reference code
  ``allenai/cartography`` returns the count :math:`\\sum_e c_{e,i}`)
* forgetfulness: number of :math:`e` with :math:`c_{e,i} = 1` and :math:`c_{e+1,i} = 0`
  (Toneva et al. 2019). The reference code returns 1000 for never-learnt examples; here
  they count 0 forgetting events and show up through correctness 0 instead.

The scores depend on the model and on :math:`E`: record both next to them.

References
----------
Swayamdipta et al. (2020), "Dataset Cartography: Mapping and Diagnosing Datasets with
Training Dynamics", EMNLP. Toneva et al. (2019), "An Empirical Study of Example Forgetting
during Deep Neural Network Learning", ICLR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taskdiff.errors import ConfigError

EASY, AMBIGUOUS, HARD = "easy", "ambiguous", "hard"
REGIONS = (EASY, AMBIGUOUS, HARD)


@dataclass(frozen=True)
class DynamicsMetrics:
    """Per-example training-dynamics statistics, each of shape ``(N,)``."""

    confidence: np.ndarray
    variability: np.ndarray
    correctness: np.ndarray
    forgetfulness: np.ndarray
    num_epochs: int


def _as_epochs_by_examples(gold_probs, correct) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(gold_probs, dtype=np.float64)
    c = np.asarray(correct, dtype=bool)
    if p.ndim != 2 or p.shape != c.shape:
        raise ValueError(f"gold_probs and correct must both be (epochs, examples) arrays; "
                         f"found shapes {p.shape} and {c.shape}")
    if p.shape[0] < 1 or np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("gold_probs must hold at least one epoch of probabilities in [0, 1]")
    return p, c


def confidence(gold_probs) -> np.ndarray:
    """Mean gold probability over epochs, :math:`\\frac1E\\sum_e p_{e,i}`; shape ``(N,)``."""
    return np.asarray(gold_probs, dtype=np.float64).mean(axis=0)


def variability(gold_probs) -> np.ndarray:
    """Population standard deviation of the gold probability over epochs; shape ``(N,)``."""
    return np.asarray(gold_probs, dtype=np.float64).std(axis=0, ddof=0)


def correctness(correct) -> np.ndarray:
    """Fraction of epochs in which the prediction is right; shape ``(N,)``."""
    return np.asarray(correct, dtype=bool).mean(axis=0)


def forgetfulness(correct) -> np.ndarray:
    """Number of right-to-wrong flips between consecutive epochs.

    :math:`F_i = \\sum_{e=1}^{E-1} [c_{e,i} = 1 \\wedge c_{e+1,i} = 0]`; shape ``(N,)``, int.
    """
    c = np.asarray(correct, dtype=bool)
    return np.sum(c[:-1] & ~c[1:], axis=0).astype(np.int64)


def dynamics_metrics(gold_probs, correct) -> DynamicsMetrics:
    """All four statistics from ``gold_probs`` and ``correct``, both ``(E, N)``.

    Returns
    -------
    DynamicsMetrics
        confidence, variability, correctness (fraction), forgetfulness (count), and E.
    """
    p, c = _as_epochs_by_examples(gold_probs, correct)
    return DynamicsMetrics(confidence(p), variability(p), correctness(c), forgetfulness(c),
                           num_epochs=p.shape[0])


def _as_map(confidence, variability) -> tuple[np.ndarray, np.ndarray]:
    """Confidence and variability as float arrays of one shape (a data map's two axes)."""
    mu = np.asarray(confidence, dtype=np.float64)
    sd = np.asarray(variability, dtype=np.float64)
    if mu.shape != sd.shape:
        raise ValueError(f"confidence {mu.shape} and variability {sd.shape} differ in shape")
    return mu, sd


def _check_unit(name: str, value: float) -> None:
    """A share, quantile or probability setting must lie in [0, 1] (:class:`ConfigError` if not)."""
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], found {value}")


def assign_regions(confidence, variability, *, confidence_threshold: float = 0.5,
                   variability_threshold: float = 0.2,
                   variability_quantile: float | None = None) -> np.ndarray:
    """Data-map region of each example: ``"easy"``, ``"ambiguous"`` or ``"hard"``.

    Rule (evaluated in this order), with :math:`\\tau_v` the variability threshold and
    :math:`\\tau_c` the confidence threshold:

    1. ambiguous if :math:`\\hat\\sigma_i \\ge \\tau_v`;
    2. easy if :math:`\\hat\\sigma_i < \\tau_v` and :math:`\\hat\\mu_i \\ge \\tau_c`;
    3. hard (hard-to-learn) if :math:`\\hat\\sigma_i < \\tau_v` and :math:`\\hat\\mu_i < \\tau_c`.

    The paper draws these areas on the map without numeric borders and selects fixed shares
    (e.g. the top 33 % by variability) for training (:func:`select_examples`). Absolute
    thresholds saturate when a task's whole map lies on one side of them (e.g. a run far
    from convergence: every example hard); the measure's default is therefore
    :func:`quantile_regions`, and this rule is its ``rule="thresholds"`` option.
    :math:`\\tau_v = 0.2` is 40 % of the largest possible variability (0.5); an example
    whose gold probability moves 0.1, 0.5, 0.9 over three epochs has 0.33.

    Parameters
    ----------
    confidence, variability : array_like, shape (N,)
    confidence_threshold : float
        :math:`\\tau_c` in [0, 1].
    variability_threshold : float
        :math:`\\tau_v` in [0, 0.5]; ignored when ``variability_quantile`` is given.
    variability_quantile : float, optional
        If given, :math:`\\tau_v` is this quantile of ``variability`` (data-relative, as
        in the paper's selection experiments; ambiguous share then is about 1 - q).

    Returns
    -------
    numpy.ndarray of str, shape (N,)
    """
    mu, sd = _as_map(confidence, variability)
    _check_unit("confidence_threshold", confidence_threshold)
    if variability_quantile is not None:
        _check_unit("variability_quantile", variability_quantile)
        tau_v = float(np.quantile(sd, variability_quantile)) if sd.size else 0.0
    elif 0.0 <= variability_threshold <= 0.5:
        tau_v = variability_threshold
    else:
        raise ConfigError(f"variability_threshold must be in [0, 0.5], "
                          f"found {variability_threshold}")
    out = np.where(mu >= confidence_threshold, EASY, HARD).astype(object)
    out[sd >= tau_v] = AMBIGUOUS
    return out.astype(str)


def select_examples(values, fraction: float, *, highest: bool) -> np.ndarray:
    """Indices of the ``int(fraction * N)`` examples with the highest (or lowest) ``values``.

    allenai/cartography's selection (``cartography/selection/train_dy_filtering.py``,
    ``write_filtered_data``): the metric is sorted (variability descending for the
    *ambiguous* selection, confidence ascending for *hard-to-learn*, confidence descending
    for *easy-to-learn*) and the head is kept. Two differences, both stated: the reference
    keeps ``head(n + 1)`` (one example more than its fraction) and sorts with pandas'
    default (unstable) quicksort; here exactly ``int(fraction * N)`` examples are kept and
    ties go to the lower index (stable sort), so the selection is deterministic.

    Returns
    -------
    numpy.ndarray of int, shape (int(fraction * N),)
    """
    v = np.asarray(values, dtype=np.float64)
    _check_unit("selection fraction", fraction)
    order = np.argsort(-v if highest else v, kind="stable")
    return order[: int(fraction * v.size)]


def quantile_regions(confidence, variability, *, ambiguous_share: float = 1 / 3,
                     confidence_quantile: float = 0.5) -> np.ndarray:
    """Data-relative regions: the reference's ambiguous selection, the rest split by confidence.

    1. ambiguous: the ``int(ambiguous_share * N)`` most variable examples
       (:func:`select_examples`, allenai/cartography's selection; 1/3 is the paper's 33 %);
    2. of the others, easy if the confidence is at least the ``confidence_quantile``
       quantile of *all* examples' confidences (default the median), else hard.

    Why relative: absolute thresholds saturate when the whole map sits on one side of them
    (a budget run far from convergence made every UD-POS sentence "hard"). Consequences,
    by construction: ``ambiguous_frac`` = ``int(ambiguous_share * N) / N`` for every task (not
    a feature of the task), and, with the median, ``easy_frac`` + ``hard_frac`` =
    1 - ``ambiguous_frac`` with ``easy_frac`` = 1/2 - *a* (up to ties and rounding), where *a*
    is the share of examples that are both ambiguous and above the median confidence: the
    split says whether a task's most variable examples are its confident or its
    unconfident ones, never 0 or 1 (each lies in [1/6, 1/2] with the defaults).

    Returns
    -------
    numpy.ndarray of str, shape (N,)
    """
    mu, sd = _as_map(confidence, variability)
    _check_unit("confidence_quantile", confidence_quantile)
    tau_c = float(np.quantile(mu, confidence_quantile)) if mu.size else 0.0
    out = np.where(mu >= tau_c, EASY, HARD).astype(object)
    out[select_examples(sd, ambiguous_share, highest=True)] = AMBIGUOUS
    return out.astype(str)


def selection_summary(metrics: DynamicsMetrics, fraction: float = 1 / 3) -> dict[str, float]:
    """Mean statistics of allenai/cartography's three selections of ``fraction`` of the data.

    ``ambiguous`` = the most variable, ``hard`` = the least confident, ``easy`` = the most
    confident examples (:func:`select_examples`). Keys ``{region}_{stat}`` for stat in
    confidence, variability, correctness (means over the selection; NaN when it is empty).
    """
    picks = {AMBIGUOUS: select_examples(metrics.variability, fraction, highest=True),
             HARD: select_examples(metrics.confidence, fraction, highest=False),
             EASY: select_examples(metrics.confidence, fraction, highest=True)}
    out = {}
    for region, idx in picks.items():
        for stat in ("confidence", "variability", "correctness"):
            vals = getattr(metrics, stat)[idx]
            out[f"{region}_{stat}"] = float(np.mean(vals)) if vals.size else float("nan")
    return out


def cartography_summary(metrics: DynamicsMetrics, regions) -> dict[str, float]:
    """Task-level aggregates: means of the four statistics and the region fractions.

    Returns
    -------
    dict
        ``mean_confidence``, ``mean_variability``, ``mean_correctness``,
        ``mean_forgetfulness``, ``frac_easy``, ``frac_ambiguous``, ``frac_hard``,
        ``num_examples``, ``num_epochs``.
    """
    regions = np.asarray(regions)
    n = regions.size
    out = {
        "mean_confidence": float(np.mean(metrics.confidence)),
        "mean_variability": float(np.mean(metrics.variability)),
        "mean_correctness": float(np.mean(metrics.correctness)),
        "mean_forgetfulness": float(np.mean(metrics.forgetfulness)),
    }
    for name in REGIONS:
        out[f"frac_{name}"] = float(np.sum(regions == name) / n) if n else float("nan")
    out["num_examples"] = float(n)
    out["num_epochs"] = float(metrics.num_epochs)
    return out


# ---------------------------------------------------------------- gold probabilities


def softmax(logits, axis: int = -1, mask=None) -> np.ndarray:
    """Numerically stable softmax; positions where ``mask`` is False get probability 0."""
    z = np.asarray(logits, dtype=np.float64)
    if mask is not None:
        z = np.where(np.asarray(mask, dtype=bool), z, -np.inf)
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def gold_prob_classification(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    """Gold-label probability and correctness for classification.

    :math:`p_i = \\mathrm{softmax}(z_i)_{y_i}`, correct iff :math:`\\arg\\max_k z_{ik} = y_i`.

    Parameters
    ----------
    logits : array_like, shape (N, K)
    labels : array_like of int, shape (N,)

    Returns
    -------
    (prob, correct) : tuple of ndarray, shapes (N,) float and (N,) bool
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    rows = np.arange(len(y))
    return softmax(z)[rows, y], np.argmax(z, axis=-1) == y


def gold_prob_multiple_choice(logits, labels, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """Multiple choice: softmax over the (unmasked) choices, ``logits`` shape (N, C).

    Same formula as :func:`gold_prob_classification`; ``mask`` (N, C) marks real choices
    when examples have different numbers of choices.
    """
    z = np.asarray(logits, dtype=np.float64)
    if mask is not None:
        z = np.where(np.asarray(mask, dtype=bool), z, -np.inf)
    return gold_prob_classification(z, labels)


def gold_prob_tagging(logits, labels, mask, *,
                      correct_fraction: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Sequence tagging: mean gold-tag probability over the real tokens of each sequence.

    :math:`p_i = \\frac{1}{|T_i|} \\sum_{t \\in T_i} \\mathrm{softmax}(z_{it})_{y_{it}}`;
    the sequence counts as correct when at least ``correct_fraction`` of its tokens are
    (1.0: every token right, the analogue of exact match).

    Parameters
    ----------
    logits : array_like, shape (N, T, K)
    labels : array_like of int, shape (N, T) (values under ``mask == False`` are ignored)
    mask : array_like of bool, shape (N, T)

    Returns
    -------
    (prob, correct) : tuple of ndarray, shapes (N,) and (N,)
    """
    z = np.asarray(logits, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    y = np.where(m, np.asarray(labels, dtype=np.int64), 0)
    tok_p = np.take_along_axis(softmax(z), y[..., None], axis=-1)[..., 0]
    tok_ok = np.argmax(z, axis=-1) == y
    n_tok = np.maximum(m.sum(axis=1), 1)
    prob = np.where(m, tok_p, 0.0).sum(axis=1) / n_tok
    frac_ok = np.where(m, tok_ok, False).sum(axis=1) / n_tok
    return prob, frac_ok >= correct_fraction - 1e-12


def gold_prob_qa(start_logits, end_logits, start, end, mask) -> tuple[np.ndarray, np.ndarray]:
    """Extractive QA: :math:`p_i = p^{start}_i(s_i)\\, p^{end}_i(e_i)`.

    Softmax over the positions where ``mask`` is True (context tokens and, if used, the
    no-answer position); correct iff both argmaxes hit the gold span ends.

    Parameters
    ----------
    start_logits, end_logits : array_like, shape (N, T)
    start, end : array_like of int, shape (N,)
    mask : array_like of bool, shape (N, T)
    """
    m = np.asarray(mask, dtype=bool)
    s, e = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    ps, pe = softmax(start_logits, mask=m), softmax(end_logits, mask=m)
    rows = np.arange(len(s))
    zs = np.where(m, np.asarray(start_logits, dtype=np.float64), -np.inf)
    ze = np.where(m, np.asarray(end_logits, dtype=np.float64), -np.inf)
    ok = (np.argmax(zs, axis=1) == s) & (np.argmax(ze, axis=1) == e)
    return ps[rows, s] * pe[rows, e], ok


def dynamics_from_logits(logits, golds) -> tuple[np.ndarray, np.ndarray]:
    """``(gold_probs, correct)``, both (E, N), from classification logits (E, N, K)."""
    z = np.asarray(logits, dtype=np.float64)
    pairs = [gold_prob_classification(z_e, golds) for z_e in z]
    return np.stack([p for p, _ in pairs]), np.stack([c for _, c in pairs])
