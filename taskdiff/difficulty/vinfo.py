"""``vinfo``: V-usable information (Ethayarajh, Choi and Swayamdipta 2022), in bits.

Two models of the same family get the same budget (:class:`~taskdiff.difficulty.baseline_loss.Budget`):
:math:`g_x` on the real training inputs (the ``baseline_loss`` model: shared when the budgets
are equal) and :math:`g_\\varnothing` on *null* inputs. On held-out English data, with each
model fed its kind of input,

.. math::

    \\mathrm{PVI}(x \\to y) = -\\log_2 g_\\varnothing[\\varnothing](y) + \\log_2 g_x[x](y),
    \\qquad I_{\\mathcal V}(X \\to Y) = \\frac1n \\sum_i \\mathrm{PVI}(x_i \\to y_i)

(:func:`~taskdiff.difficulty.maths.pvi`, :func:`~taskdiff.difficulty.maths.v_information`),
per label unit as in ``baseline_loss`` (tagging: per word). Null inputs are the format's
``null_row`` (:meth:`~taskdiff.transfer.formats.TaskFormat.null_rows`):

* classification: the empty text; sentence pairs: both sides empty;
* multiple choice: empty context, question **and** choices, so :math:`g_\\varnothing` can
  only learn the prior over answer positions;
* tagging: every word replaced by the tokenizer's unknown token (``[UNK]`` / ``<unk>``):
  the null model sees how many words there are (it must emit one tag per word) but not which;
* extractive QA: empty question, every context word replaced by the unknown token (white
  space kept, answer offsets moved to the replaced words), so only answer *positions* can be
  learnt;
* regression (STS-B): both sentences empty (the format's ``null_row``), so
  :math:`g_\\varnothing` can only learn a constant score. The gold "probability" is the
  Gaussian kernel of :mod:`taskdiff.transfer.formats.regression`, so PVI is the pointwise
  V-information of the Gaussian family with fixed variance :math:`\\sigma^2`:
  :math:`((y-\\hat y_\\varnothing)^2 - (y-\\hat y_x)^2) / (2\\sigma^2 \\ln 2)` bits.

``null_model="prior"`` skips the second model and uses the training label frequencies
(:func:`~taskdiff.difficulty.maths.prior_gold_probs`), what a log-loss model on empty inputs
converges to (classification, tagging, multiple choice; for regression the training-mean
score, the constant that minimises squared error; not extractive QA).
"""

from __future__ import annotations

import numpy as np

from taskdiff.difficulty.base import Measure, finite_or_none
from taskdiff.difficulty.budget import BudgetMixin, budget_run, training_rows
from taskdiff.difficulty.maths import prior_gold_probs, pvi, v_entropy, v_information
from taskdiff.difficulty.registry import register_measure
from taskdiff.errors import ConfigError
from taskdiff.schema import format1_features
from taskdiff.transfer.formats import get_format
from taskdiff.io import atomic_write_text

@register_measure
class VInformation(BudgetMixin, Measure):
    """V-usable information of a task for the base encoder after a fixed budget.

    Parameters
    ----------
    budget : Budget or dict, optional
        Shared with ``baseline_loss`` (and ``cartography``) when equal.
    null_model : {"train", "prior"}
        Train the null-input model (default, as in the paper) or use the label prior.
    eps : float
        Probabilities are clipped to ``[eps, 1]`` before the logarithm.

    Attributes
    ----------
    result_ : dict
        ``v_information`` (bits), ``v_entropy_null`` (:math:`H_\\mathcal V(Y)`),
        ``v_entropy_input`` (:math:`H_\\mathcal V(Y|X)`), ``frac_negative_pvi``,
        ``pvi_quantiles``, ``n_units``, run ids.
    pvi_ : ndarray
        PVI of every held-out label unit.
    example_pvi_ : dict
        Held-out example id -> mean PVI of its units.
    """

    name = "vinfo"
    higher_is_harder = False
    features = format1_features("vinfo")

    def __init__(self, budget=None, null_model: str = "train", eps: float = 1e-12):
        self.budget = budget
        self.null_model = null_model
        self.eps = eps

    @staticmethod
    def _prior(task, context, budget, real, hx) -> np.ndarray:
        """Gold probabilities of the constant predictor (``null_model="prior"``)."""
        fmt = get_format(task.format)
        train = training_rows(task, context, budget)
        p0 = fmt.prior_probs(train, hx["label"])  # regression: the constant training-mean predictor
        if p0 is not None:
            return p0
        ids = fmt.label_ids(train, real.metrics["labels"])
        if ids is None:
            raise ConfigError(f"null_model='prior' is not defined for {fmt.display_name()} (no label set)")
        return prior_gold_probs(ids, hx["label"])

    def _fit(self, task, model, context, cost):
        if self.null_model not in ("train", "prior"):
            raise ConfigError(f"null_model must be 'train' or 'prior', found {self.null_model!r}")
        budget, real = self.real_run(task, model, context, cost)
        hx = real.held_out()
        run_ids = {"input": real.run_id}
        if self.null_model == "train":
            null = budget_run(task, model, context, budget, inputs="null", cost=cost)
            h0 = null.held_out()
            run_ids["null"] = null.run_id
            null_prob = {(int(e), int(k)): float(p) for e, k, p in zip(h0["example"], h0["key"], h0["prob"])}
            keys = [(int(e), int(k)) for e, k in zip(hx["example"], hx["key"])]
            keep = np.array([k in null_prob for k in keys], dtype=bool)
            p0 = np.array([null_prob[k] for k, kept in zip(keys, keep) if kept])
        else:
            p0, keep = self._prior(task, context, budget, real, hx), np.ones(len(hx["prob"]), dtype=bool)
        px = hx["prob"][keep]
        values = pvi(p0, px, eps=self.eps)
        examples = hx["example"][keep]
        ids = hx["ids"]
        sums = np.bincount(examples, weights=values, minlength=len(ids))
        counts = np.bincount(examples, minlength=len(ids))
        self.pvi_ = values
        self.example_pvi_ = {str(ids[i]): float(sums[i] / counts[i]) for i in np.flatnonzero(counts)}
        self.run_ids_ = run_ids
        files = []
        out = context.artefact_dir("vinfo")
        if out is not None:
            import json


            path = atomic_write_text(out / "pvi.jsonl", "".join(json.dumps({"id": key, "pvi": value}) + "\n"
                                                                for key, value in self.example_pvi_.items()))
            files.append(str(path))
        self.files_ = files
        q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95]) if values.size else [None] * 5
        self.result_ = {
            "v_information": finite_or_none(v_information(values)),
            "v_entropy_null": finite_or_none(v_entropy(p0, eps=self.eps)),
            "v_entropy_input": finite_or_none(v_entropy(px, eps=self.eps)),
            "frac_negative_pvi": float(np.mean(values < 0)),
            "pvi_quantiles": {k: finite_or_none(v) for k, v in zip(("q05", "q25", "q50", "q75", "q95"), q)},
            "n_units": int(values.size), "n_units_unaligned": int((~keep).sum()),
            "null_model": self.null_model, "run_ids": run_ids, "budget": budget.model_dump(mode="json"),
            "files": files,
        }
