"""``cartography``: training dynamics of the base encoder on the task (Swayamdipta et al. 2020).

The dynamics come from the budgeted training run (the ``baseline_loss`` model when the
budgets are equal). ``dynamics_mode="forward"`` (default) takes the gold probability and
correctness that the training forward pass already computes (free; the model is in
training mode and changes during the epoch); ``"epoch_end"`` runs one inference pass over
the training set after each epoch (the paper's recipe; one extra pass per epoch). The unit
is a training example (tagging: the mean gold-tag probability of the sentence, correct when
every word is; extractive QA: in forward mode, the last window of the example seen in the
epoch, in epoch-end mode the window holding the answer).

**Burn-in** (``skip_epochs``, default ``"auto"``): in forward mode, the record of epoch
*e* is taken while the model learns during epoch *e*, so it is close to the epoch-end record
of epoch *e* - 1; the first forward epoch is therefore the *untrained* model, which the
paper's epoch-end recipe never records. On a task that is learnt within one or two epochs
it makes every example look "ambiguous" (a clean tagging task of the testbed: variability
0.22 and 76 % ambiguous with it, 0.08 and 0 % without; see docs/difficulty/cartography.md).
``"auto"`` drops the first epoch in forward mode when at least 3 epochs were recorded
(at least 2 remain), and nothing in epoch-end mode; an integer drops that many.

Per example: confidence, variability, correctness (fraction of epochs), forgetfulness
(:func:`~taskdiff.difficulty.maths.dynamics_metrics`). Regions (``rule``):

* ``"quantile"`` (default): :func:`~taskdiff.difficulty.maths.cartography.quantile_regions`,
  data-relative: the most variable third is ambiguous (allenai/cartography's selection), the
  others are easy or hard by the median confidence. Never saturates; ``ambiguous_frac`` is
  1/3 by construction and the easy / hard split carries the task's information;
* ``"thresholds"``: :func:`~taskdiff.difficulty.maths.assign_regions` with absolute
  thresholds (ambiguous if variability >= 0.2, else easy if confidence >= 0.5, else hard):
  comparable across tasks, but every example lands in one region when the whole map lies
  on one side of a threshold (UD English POS after a 3-epoch budget: ``hard_frac`` = 1).

Whatever the rule, ``result_["selection"]`` holds the mean confidence, variability and
correctness of the reference's three selections (the third most variable, least and most
confident examples; :func:`~taskdiff.difficulty.maths.cartography.selection_summary`).

Files (when the context has an output directory): ``dynamics/dynamics_epoch_{E}.jsonl`` in
the allenai/cartography layout (:func:`~taskdiff.difficulty.cartography_io.write_dynamics`) and
``data_map.png`` (:func:`~taskdiff.difficulty.cartography_io.plot_data_map`). For classification and
multiple choice the files hold the real logits. Tagging and QA outputs have no fixed number
of logits per example, so their files hold the *gold-vs-rest* logits
:math:`[\\log(1-p), \\log p]` with gold index 1: the softmax gives back exactly the
recorded gold probability (confidence and variability are exact), but allenai's
correctness becomes :math:`p > 0.5` instead of the arg-max rule.
"""

from __future__ import annotations

import numpy as np

from taskdiff.difficulty.base import Measure, finite_or_none
from taskdiff.difficulty.budget import BudgetMixin
from taskdiff.difficulty.cartography_io import plot_data_map, write_dynamics
from taskdiff.difficulty.maths import assign_regions, cartography_summary, dynamics_metrics
from taskdiff.difficulty.maths.cartography import quantile_regions, selection_summary
from taskdiff.difficulty.registry import register_measure
from taskdiff.errors import ConfigError
from taskdiff.schema import format1_features


def gold_vs_rest_logits(probs) -> np.ndarray:
    """(N, 2) logits ``[log(1 - p), log(p)]`` whose softmax at index 1 is ``p``."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.stack([np.log1p(-p), np.log(p)], axis=-1)


@register_measure
class Cartography(BudgetMixin, Measure):
    """Data-map statistics of a task's training examples.

    Parameters
    ----------
    budget : Budget or dict, optional
        Training budget (``epochs`` >= 2 for a meaningful variability); set
        ``dynamics_mode`` in it for the epoch-end pass.
    rule : {"quantile", "thresholds"}
        Region rule (see the module docstring).
    ambiguous_share, confidence_quantile
        Of ``rule="quantile"``: share of most variable examples called ambiguous (1/3, the
        paper's 33 % selection) and the confidence quantile splitting the rest (the median).
    selection_fraction
        Share of each of the reference's selections summarised in ``result_["selection"]``.
    confidence_threshold, variability_threshold, variability_quantile
        Of ``rule="thresholds"``, see :func:`~taskdiff.difficulty.maths.assign_regions`.
    export : bool
        Write the allenai-layout files and the data map (needs ``context.output_dir``).

    Attributes
    ----------
    result_ : dict
        ``confidence_mean``, ``variability_mean``, ``correctness_mean``,
        ``forgetfulness_mean``, ``easy_frac``, ``ambiguous_frac``, ``hard_frac``,
        ``thresholds``, ``num_epochs``, ``num_examples``, ``dynamics_mode``, ``files``.
    confidence_, variability_, correctness_, forgetfulness_ : ndarray, shape (N,)
    regions_ : ndarray of str
    ids_ : list of str
    files_ : list of str
    """

    name = "cartography"
    higher_is_harder = None  # a profile of the data; ambiguous + hard fractions rise with difficulty
    features = format1_features("cartography")

    def __init__(self, budget=None, confidence_threshold: float = 0.5, variability_threshold: float = 0.2,
                 variability_quantile: float | None = None, export: bool = True, skip_epochs: int | str = "auto",
                 rule: str = "quantile", ambiguous_share: float = 1 / 3, confidence_quantile: float = 0.5,
                 selection_fraction: float = 1 / 3):
        self.budget = budget
        self.rule = rule
        self.ambiguous_share = ambiguous_share
        self.confidence_quantile = confidence_quantile
        self.selection_fraction = selection_fraction
        self.skip_epochs = skip_epochs
        self.confidence_threshold = confidence_threshold
        self.variability_threshold = variability_threshold
        self.variability_quantile = variability_quantile
        self.export = export

    def _fit(self, task, model, context, cost):
        if self.rule not in ("quantile", "thresholds"):
            raise ConfigError(f"cartography: rule must be 'quantile' or 'thresholds', found {self.rule!r}")
        budget, run = self.real_run(task, model, context, cost)
        dyn = run.dynamics()
        if dyn is None or dyn["probs"].shape[0] == 0:
            raise ConfigError(f"task {task.name!r}: the training run {run.run_id} recorded no complete epoch")
        skip = self._skip(budget.dynamics_mode, dyn["probs"].shape[0])
        metrics = dynamics_metrics(dyn["probs"][skip:], dyn["correct"][skip:])
        regions, thresholds = self._regions(metrics)
        summary = cartography_summary(metrics, regions)
        self.confidence_, self.variability_ = metrics.confidence, metrics.variability
        self.correctness_, self.forgetfulness_ = metrics.correctness, metrics.forgetfulness
        self.regions_ = regions
        self.ids_ = [str(i) for i in dyn["ids"]]
        self.files_ = self._export(task, dyn, metrics, context) if self.export else []
        self.result_ = {
            "confidence_mean": summary["mean_confidence"], "variability_mean": summary["mean_variability"],
            "correctness_mean": summary["mean_correctness"], "forgetfulness_mean": summary["mean_forgetfulness"],
            "easy_frac": summary["frac_easy"], "ambiguous_frac": summary["frac_ambiguous"],
            "hard_frac": summary["frac_hard"],
            "thresholds": thresholds, "rule": self.rule,
            "selection": {k: finite_or_none(v) for k, v in
                          selection_summary(metrics, self.selection_fraction).items()},
            "selection_fraction": self.selection_fraction,
            "num_epochs": int(metrics.num_epochs), "skipped_epochs": int(skip), "num_examples": int(len(self.ids_)),
            "dynamics_mode": budget.dynamics_mode, "run_id": run.run_id, "budget": budget.model_dump(mode="json"),
            "epochs_trained": run.metrics.get("epochs"), "stopped_early": run.metrics.get("stopped_early"),
            "files": self.files_,
        }
        if metrics.num_epochs < 2:
            self.result_["notes"] = ["one epoch of dynamics: variability is 0 by construction"]

    def _regions(self, metrics) -> tuple[np.ndarray, dict]:
        """Regions of every example under ``rule`` and the thresholds used (JSON-able)."""
        if self.rule == "quantile":
            regions = quantile_regions(metrics.confidence, metrics.variability,
                                       ambiguous_share=self.ambiguous_share,
                                       confidence_quantile=self.confidence_quantile)
            amb = regions == "ambiguous"
            tau_v = float(metrics.variability[amb].min()) if amb.any() else None
            tau_c = float(np.quantile(metrics.confidence, self.confidence_quantile))
            return regions, {"confidence": finite_or_none(tau_c), "variability": finite_or_none(tau_v),
                             "ambiguous_share": self.ambiguous_share,
                             "confidence_quantile": self.confidence_quantile,
                             "rule": "ambiguous: the int(share * N) most variable; else easy if confidence >= "
                                     "its quantile over all examples; else hard"}
        if self.rule != "thresholds":
            raise ConfigError(f"cartography: rule must be 'quantile' or 'thresholds', found {self.rule!r}")
        regions = assign_regions(metrics.confidence, metrics.variability,
                                 confidence_threshold=self.confidence_threshold,
                                 variability_threshold=self.variability_threshold,
                                 variability_quantile=self.variability_quantile)
        tau_v = (float(np.quantile(metrics.variability, self.variability_quantile))
                 if self.variability_quantile is not None else self.variability_threshold)
        return regions, {"confidence": self.confidence_threshold, "variability": finite_or_none(tau_v),
                         "variability_quantile": self.variability_quantile,
                         "rule": "ambiguous if variability >= tau_v; else easy if confidence >= tau_c; else hard"}

    def _skip(self, mode: str, n_epochs: int) -> int:
        """Leading recorded epochs to leave out (``skip_epochs``, resolved)."""
        if self.skip_epochs == "auto":
            return 1 if mode == "forward" and n_epochs >= 3 else 0
        skip = int(self.skip_epochs)
        if not 0 <= skip < n_epochs:
            raise ConfigError(f"cartography: skip_epochs must be in [0, {n_epochs - 1}] for {n_epochs} recorded "
                              f"epochs, found {self.skip_epochs!r}")
        return skip

    def _export(self, task, dyn, metrics, context) -> list[str]:
        out = context.artefact_dir("cartography")
        if out is None:
            return []
        files = []
        ids = [str(i) for i in dyn["ids"]]
        logits = dyn.get("logits")
        for k, epoch in enumerate(dyn["epochs"]):
            if logits is not None and "golds" in dyn:
                z, gold = logits[k], dyn["golds"]
            else:
                z, gold = gold_vs_rest_logits(dyn["probs"][k]), np.ones(len(ids), dtype=np.int64)
            files.append(str(write_dynamics(out / "dynamics", int(epoch), ids, z, gold)))
        files.append(str(plot_data_map(metrics.confidence, metrics.variability, metrics.correctness,
                                       out / "data_map.png", title=f"{task.name}: data map "
                                       f"({len(ids)} examples, {metrics.num_epochs} epochs)")))
        return files
