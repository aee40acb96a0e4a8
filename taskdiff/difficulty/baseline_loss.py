"""``baseline_loss``: held-out cross-entropy of the base encoder after a small, fixed budget.

The base encoder gets the task's head and is fine-tuned for a fixed :class:`Budget`
(default: 2 epochs on at most 1,000 English training examples, learning rate 5e-5,
batch 16, no model selection; see :class:`Budget` for why so small). Its held-out
cross-entropy (at most 500 held-out rows) is measured in bits per label unit at fractions
of the budget (default 0.5 and 1.0 of the optimisation steps), from the same run:

.. math::

    \\mathrm{CE} = \\frac1U \\sum_u -\\log_2 p_\\theta(y_u \\mid x_u)

(:func:`~taskdiff.difficulty.maths.v_entropy` of the gold probabilities). A label *unit*
is what the format's loss is over: an example (classification, multiple choice), a word
(tagging: its first sub-word), or an example's answer span (extractive QA: the window that
holds the answer, gold probability :math:`p_{start} \\cdot p_{end}`).

``normalized_baseline_loss`` = CE / normaliser, the normaliser being the cross-entropy of
an uninformed guess:

* classification, tagging: the label entropy of the training labels (per word for tagging),
  :func:`~taskdiff.difficulty.maths.label_entropy`;
* multiple choice: :math:`\\log_2 C` (C choices);
* extractive QA: :math:`2\\,\\overline{\\log_2 T}`, the mean over held-out units of the
  bits of a uniform guess of the start and of the end among the T positions of the window;
* regression (STS-B): the unit's "gold probability" is the Gaussian kernel
  :math:`\\exp(-(y-\\hat y)^2 / 2\\sigma^2)` (:mod:`taskdiff.transfer.formats.regression`),
  so CE = MSE / (2 sigma^2 ln 2) bits and the normaliser is the same quantity for the
  constant predictor at the training mean, Var(y) / (2 sigma^2 ln 2): the normalized loss
  is MSE / Var(y) (1 - R^2 against the training mean). ``held_out_accuracy`` is the share
  of held-out pairs predicted within 1.18 sigma (kernel >= 0.5).

The learning-curve area is the trapezoid area under CE over the budget fractions
(bits x fraction of the budget). The trained model of a budget is a ``difficulty_train``
run in the store (:mod:`~taskdiff.difficulty.budget`), shared with
:mod:`~taskdiff.difficulty.vinfo`, :mod:`~taskdiff.difficulty.cartography` and
:mod:`~taskdiff.difficulty.probing` (``encoder="budget"``, the default) when their budgets
are equal (each is trained once).
"""

from __future__ import annotations

import numpy as np

from taskdiff.difficulty.base import Measure, finite_or_none
from taskdiff.difficulty.budget import Budget, BudgetMixin, training_rows
from taskdiff.difficulty.maths import label_entropy
from taskdiff.difficulty.registry import register_measure
from taskdiff.schema import format1_features
from taskdiff.transfer.formats import get_format


# ----------------------------------------------------------------------------- the measure
def normaliser_bits(task, train_rows: list[dict], held: dict) -> tuple[float | None, str]:
    """The bits of an uninformed guess per label unit, and how they were computed.

    The format's own ``normaliser_bits`` (multiple choice, QA, regression), else the label
    entropy of its ``unit_labels`` (classification, tagging), else none.
    """
    fmt = get_format(task.format)
    own = fmt.normaliser_bits(train_rows, held)
    if own is not None:
        return own
    labels = fmt.unit_labels(train_rows)
    if labels is None:
        return None, "none"
    return label_entropy(labels), f"label entropy of the training {fmt.unit_noun}"


@register_measure
class BaselineLoss(BudgetMixin, Measure):
    """Held-out cross-entropy (bits) of the base encoder after a fixed budget.

    Parameters
    ----------
    budget : Budget or dict, optional
        The training budget (default :class:`Budget`); equal budgets share the trained
        model with ``vinfo``, ``cartography`` and ``probing``.

    Attributes
    ----------
    result_ : dict
        ``baseline_loss`` (bits per label unit), ``normalized_baseline_loss``,
        ``normaliser_bits``, ``normaliser``, ``curve`` (fraction, step,
        cross_entropy_bits, accuracy), ``curve_area``, ``held_out_accuracy``, ``n_train``,
        ``n_held_out``, ``n_units``, ``run_id``.
    curve_ : list of (fraction, bits)
    run_id_ : str
    """

    name = "baseline_loss"
    higher_is_harder = True
    features = format1_features("baseline_loss")

    def __init__(self, budget: Budget | dict | None = None):
        self.budget = budget

    def _fit(self, task, model, context, cost):
        budget, run = self.real_run(task, model, context, cost)
        held = run.held_out()
        train = training_rows(task, context, budget)
        norm, how = normaliser_bits(task, train, held)
        ce = run.metrics["cross_entropy_bits"]
        curve = run.metrics["curve"]
        fr = np.array([p["fraction"] for p in curve])
        ys = np.array([p["cross_entropy_bits"] for p in curve])
        area = float(np.trapezoid(ys, fr)) if len(curve) > 1 else None
        self.curve_ = [(float(f), float(y)) for f, y in zip(fr, ys)]
        self.run_id_ = run.run_id
        self.result_ = {
            "baseline_loss": finite_or_none(ce),
            "normalized_baseline_loss": finite_or_none(ce / norm) if norm else None,
            "normaliser_bits": finite_or_none(norm), "normaliser": how,
            "curve": curve, "curve_area": finite_or_none(area),
            "held_out_accuracy": run.metrics["accuracy"], "n_train": run.metrics["n_train"],
            "n_held_out": run.metrics["n_held_out"], "n_units": run.metrics["n_units"],
            "run_id": run.run_id, "budget": budget.model_dump(mode="json"), "notes": run.metrics.get("notes", []),
        }
