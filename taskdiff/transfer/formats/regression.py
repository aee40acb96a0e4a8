"""Sentence-pair regression (STS-B): one real-valued score per pair, mean squared error.

The head is ``AutoModelForSequenceClassification`` with ``num_labels=1`` and
``problem_type="regression"``, for which transformers computes the MSE loss; predictions
are the single output, as floats.

**Gold "probability" of a regression unit.** The difficulty measures built on the budgeted
training run (``baseline_loss``, ``vinfo``, ``cartography``) need, per label unit, a number
in [0, 1] saying how well the model predicts the gold. For a prediction :math:`\\hat y` of
the gold :math:`y` this format uses the Gaussian kernel with a fixed width
:math:`\\sigma` (:attr:`Regression.sigma`, in the score's units; 1 point of STS-B's 0-5 scale):

.. math::

    k(y, \\hat y) = \\exp\\left(-\\frac{(y - \\hat y)^2}{2\\sigma^2}\\right)
    = \\sqrt{2\\pi}\\,\\sigma\\;\\mathcal N(y; \\hat y, \\sigma^2),

the Gaussian likelihood of the gold score under the prediction, rescaled so that a perfect
prediction gives 1. So

* ``-log2 k = (y - ŷ)² / (2 σ² ln 2)``: the "cross-entropy" in bits is the squared error
  in units of :math:`2\\sigma^2\\ln 2`; its mean is ``MSE / (2 σ² ln 2)``;
* the PVI of ``vinfo``, :math:`\\log_2 k_x - \\log_2 k_\\varnothing`, is exactly the pointwise
  V-information of the Gaussian predictive family with fixed variance :math:`\\sigma^2`
  (the normalising constants cancel): ``((y - ŷ₀)² - (y - ŷₓ)²) / (2 σ² ln 2)``;
* cartography's confidence is the mean kernel over epochs (1 = always exact), and a unit
  is *correct* when ``k >= 0.5``, i.e. ``|y - ŷ| <= σ sqrt(2 ln 2) ≈ 1.18 σ``.

A fixed σ keeps every number a pure function of the squared errors (no variance is
estimated from the same held-out data it scores); its value only rescales the bits.
"""

from __future__ import annotations

import math

import numpy as np

from taskdiff.errors import ConfigError, DataError
from taskdiff.transfer.formats.base import Encoded, TaskFormat, register_format
from taskdiff.transfer.formats.rowcheck import as_str, fail


def gaussian_kernel(gold, pred, sigma: float = 1.0) -> np.ndarray:
    """``exp(-(gold - pred)² / (2 sigma²))`` elementwise (numpy)."""
    err = np.asarray(gold, dtype=np.float64) - np.asarray(pred, dtype=np.float64)
    return np.exp(-(err ** 2) / (2.0 * sigma ** 2))


def _scores(rows: list[dict]) -> list[float]:
    out = []
    for i, r in enumerate(rows):
        value = r["label"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DataError(r.get("source", "rows"), "a finite number (regression score)", repr(value),
                            line=i + 1, field="label")
        out.append(float(value))
    return out


@register_format
class Regression(TaskFormat):
    """Two texts, one real-valued score (mean squared error on a single output)."""

    name = "regression"
    columns = ("id", "text_a", "text_b", "label")
    continuous_target = True
    label_unit = "score"
    sigma = 1.0
    """Width of the Gaussian kernel of :meth:`gold_prob` (score units)."""

    def model_kwargs(self, labels):
        return {"num_labels": 1, "problem_type": "regression"}

    def text_fields(self, row: dict) -> list[str]:
        """The texts the model reads (the size measure counts their tokens)."""
        return [row["text_a"], row["text_b"]]

    def check_row(self, row, where, labels, check_answers):
        """Two texts; the label a finite float (the score)."""
        as_str(row, "text_a", where)
        as_str(row, "text_b", where)
        value = row["label"]
        if not isinstance(value, float) or value != value or value in (float("inf"), float("-inf")):
            raise fail(where, "label", "a finite number (regression score)", repr(value))

    def encode(self, rows, tokenizer, labels, max_length, train):
        enc = tokenizer([r["text_a"] for r in rows], [r["text_b"] for r in rows], truncation=True,
                        max_length=max_length)
        return Encoded.per_row(enc, len(rows), _scores(rows))

    def decode(self, outputs, encoded, rows, labels):
        return [float(np.asarray(z, dtype=np.float64).reshape(-1)[0]) for z in outputs["logits"]]

    def references(self, rows):
        return [float(r["label"]) for r in rows]

    # ------------------------------------------------------------------ difficulty hooks
    def gold_prob(self, outputs, batch):
        import torch

        pred = outputs["logits"].float().reshape(-1)
        gold = batch["labels"].float().reshape(-1)
        return torch.exp(-((gold - pred) ** 2) / (2.0 * self.sigma ** 2))

    def correct(self, outputs, batch):
        return self.gold_prob(outputs, batch) >= 0.5

    def coerce_label(self, label):
        """A score as float (``"3.800"`` and ``4`` alike); anything else is left for the row check."""
        if isinstance(label, bool):
            return label
        if isinstance(label, (int, float)):
            return float(label)
        if isinstance(label, str):
            try:
                return float(label.strip())
            except ValueError:
                return label
        return label

    def frozen_targets(self, rows):
        """The pair and its score itself (LogME's Bayesian linear model is a regression model)."""
        return [self.segment(r) for r in rows], [r["label"] for r in rows]

    def label_units(self, encoded, outputs: dict, n_rows: int, *, per_word: bool = True) -> dict:
        """One unit per example: the kernel of its prediction (see the module docstring).

        ``label`` holds the gold score (float) and ``pred`` the prediction.
        """
        feats = encoded.features
        pred = np.array([float(np.asarray(z, dtype=np.float64).reshape(-1)[0]) for z in outputs["logits"]])
        gold = np.array([float(f["labels"]) for f in feats])
        prob = gaussian_kernel(gold, pred, self.sigma)
        return {"prob": prob, "correct": prob >= 0.5,
                "example": np.array([f["example_index"] for f in feats], dtype=np.int64),
                "key": np.zeros(len(feats), np.int64), "label": gold, "pred": pred,
                "length": np.array([len(f["input_ids"]) for f in feats], dtype=np.int64)}

    def null_row(self, row: dict, unk: str) -> dict:
        """The row with both texts empty (the null model can only learn a constant score)."""
        return {**row, "text_a": "", "text_b": ""}

    def prior_probs(self, train_rows: list[dict], gold) -> np.ndarray:
        """Kernel of the mean training score (the best constant under squared error)."""
        return gaussian_kernel(gold, float(np.mean(_scores(train_rows))), self.sigma)

    def normaliser_bits(self, train_rows: list[dict], held: dict) -> tuple[float | None, str]:
        """Bits of the constant predictor at the training mean: ``Var(y) / (2 σ² ln 2)``."""
        scores = np.asarray(_scores(train_rows))
        if scores.size < 2:
            return None, "none (fewer than two training scores)"
        bits = float(scores.var() / (2.0 * self.sigma ** 2 * math.log(2)))
        return bits, (f"Gaussian-kernel bits of the training-mean predictor, Var(y)/(2 sigma^2 ln 2) with sigma="
                      f"{self.sigma:g}: normalized loss = MSE / Var(y)")

    def label_statistics(self, rows: list[dict]) -> dict:
        """Mean, standard deviation, range and quartiles of the scores (size measure)."""
        scores = np.asarray(_scores(rows))
        if scores.size == 0:
            raise ConfigError("regression label statistics need at least one row")
        q = np.quantile(scores, [0.25, 0.5, 0.75])
        return {"label_mean": float(scores.mean()), "label_std": float(scores.std()),
                "label_min": float(scores.min()), "label_max": float(scores.max()),
                "label_quartiles": [float(v) for v in q]}
