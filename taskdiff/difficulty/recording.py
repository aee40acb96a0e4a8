"""Label units and the recording of the budgeted training runs (:mod:`~taskdiff.difficulty.budget`).

* :func:`label_units`: the gold probability and correctness of every *label unit* of a
  format (an example for classification and multiple choice, a word for tagging, an
  example's answer window for extractive QA), from a model's outputs;
* :class:`LogitRecorder` / :class:`CapturingFormat`: training dynamics (and the logits of
  the formats with one logit vector per example) taken from the training forward pass;
* :func:`callbacks`: the ``TrainerCallback`` classes of :mod:`taskdiff.difficulty.callbacks`
  that evaluate the held-out rows at fractions of the budget (the learning curve) and, in
  ``epoch_end`` mode, run one inference pass over the training set after each epoch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from taskdiff.difficulty.maths import (
    gold_prob_classification,
    gold_prob_qa,
    gold_prob_tagging,
)
from taskdiff.transfer.dynamics import DynamicsRecorder, _np

# ----------------------------------------------------------------------------- label units
def _qa_feature_of_example(encoded, n_rows: int) -> np.ndarray:
    """Per example, the window holding the answer (else its first window)."""
    chosen = np.full(n_rows, -1, dtype=np.int64)
    for j, f in enumerate(encoded.features):
        i = f["example_index"]
        has_answer = (f["start_positions"], f["end_positions"]) != (0, 0)
        if chosen[i] < 0 or (has_answer and (encoded.features[chosen[i]]["start_positions"],
                                             encoded.features[chosen[i]]["end_positions"]) == (0, 0)):
            chosen[i] = j
    return chosen


def label_units(fmt, encoded, outputs: dict, n_rows: int, *, per_word: bool = True) -> dict:
    """Gold probability, correctness, label and key of every label unit (numpy arrays).

    Parameters
    ----------
    fmt : TaskFormat
        Its ``label_unit`` picks the units (:data:`UNIT_KINDS`); a format with another
        kind computes them itself (``fmt.label_units``, e.g. regression).
    encoded : Encoded
        Features with their training targets (``labels`` / ``start_positions`` ...).
    outputs : dict
        :func:`~taskdiff.transfer.evaluation.forward_outputs` of those features.
    n_rows : int
    per_word : bool
        Tagging: one unit per word (True) or per sentence (mean word probability,
        correct when every word is; the cartography unit).

    Returns
    -------
    dict
        ``prob``, ``correct``, ``example`` (row index), ``key`` (word index or 0),
        ``label`` (gold class / choice index, -1 for QA), ``length`` (positions of the
        unit's sequence), and ``logits`` (N, K) for the formats of :func:`has_class_logits`.
    """
    units = UNIT_KINDS.get(fmt.label_unit)
    if units is None:  # formats that define their units themselves (regression)
        return fmt.label_units(encoded, outputs, n_rows, per_word=per_word)
    return units(encoded, outputs, n_rows, per_word)


def has_class_logits(fmt) -> bool:
    """Whether the format's outputs are one logit vector per example, the gold an index
    (classification, multiple choice: kept for the cartography files)."""
    return fmt.label_unit == CLASS


def _class_units(encoded, outputs: dict, n_rows: int, per_word: bool) -> dict:
    """One unit per example: softmax over the classes (or choices) of its logit vector."""
    feats = encoded.features
    z = np.stack([np.asarray(o, dtype=np.float64) for o in outputs["logits"]])
    y = np.array([f["labels"] for f in feats], dtype=np.int64)
    prob, ok = gold_prob_classification(z, y)
    return {"prob": prob, "correct": ok, "example": np.array([f["example_index"] for f in feats]),
            "key": np.zeros(len(feats), np.int64), "label": y, "logits": z.astype(np.float32),
            "length": np.array([_n_positions(f) for f in feats])}


def _word_units(encoded, outputs: dict, n_rows: int, per_word: bool) -> dict:
    """One unit per word (its first sub-word), or per sentence when not ``per_word``."""
    out = {k: [] for k in ("prob", "correct", "example", "key", "label", "length")}
    for f, extra, z in zip(encoded.features, encoded.extras, outputs["logits"]):
        lab = np.asarray(f["labels"], dtype=np.int64)[: len(z)]
        mask = lab != -100
        z = np.asarray(z, dtype=np.float64)
        if per_word:
            p, ok = gold_prob_classification(z[mask], lab[mask])
            words = [extra["word_ids"][t] for t in np.flatnonzero(mask)]
            out["prob"] += p.tolist(); out["correct"] += ok.tolist()
            out["example"] += [f["example_index"]] * len(p); out["key"] += words
            out["label"] += lab[mask].tolist(); out["length"] += [len(z)] * len(p)
        else:
            p, ok = gold_prob_tagging(z[None], lab[None], mask[None])
            out["prob"].append(float(p[0])); out["correct"].append(bool(ok[0]))
            out["example"].append(f["example_index"]); out["key"].append(0)
            out["label"].append(-1); out["length"].append(len(z))
    return {k: np.asarray(v) for k, v in out.items()}


def _span_units(encoded, outputs: dict, n_rows: int, per_word: bool) -> dict:
    """One unit per example: its answer window, probability ``p_start * p_end``."""
    feats = encoded.features
    chosen = _qa_feature_of_example(encoded, n_rows)
    chosen = chosen[chosen >= 0]
    probs, oks = [], []
    for j in chosen:
        s, e = np.asarray(outputs["start_logits"][j]), np.asarray(outputs["end_logits"][j])
        f = feats[j]
        p, ok = gold_prob_qa(s[None], e[None], [f["start_positions"]], [f["end_positions"]],
                             np.ones((1, len(s)), dtype=bool))
        probs.append(float(p[0])); oks.append(bool(ok[0]))
    return {"prob": np.asarray(probs), "correct": np.asarray(oks, dtype=bool),
            "example": np.array([feats[j]["example_index"] for j in chosen], dtype=np.int64),
            "key": np.zeros(len(chosen), np.int64), "label": np.full(len(chosen), -1),
            "length": np.array([len(outputs["start_logits"][j]) for j in chosen])}


#: Label-unit kinds (a format's ``label_unit``) and how their units are computed.
CLASS, WORD, SPAN = "class", "word", "span"
UNIT_KINDS = {CLASS: _class_units, WORD: _word_units, SPAN: _span_units}


def _n_positions(feature: dict) -> int:
    ids = feature["input_ids"]
    return max(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)


def feature_tokens(encoded) -> int:
    total = 0
    for f in encoded.features:
        ids = f["input_ids"]
        total += sum(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)
    return total



# ----------------------------------------------------------------------------- recording
class LogitRecorder(DynamicsRecorder):
    """A :class:`DynamicsRecorder` that also keeps each example's logits per epoch.

    Logits arrive through ``pending`` (set by :class:`CapturingFormat` from the training
    forward pass, or by the epoch-end pass) just before :meth:`record` is called.
    """

    def __init__(self, n_examples: int, mode: str = "forward"):
        super().__init__(n_examples, mode)
        self._logits: dict[int, np.ndarray] = {}
        self.pending = None

    def record(self, epoch, example_index, gold_prob, correct) -> None:
        super().record(epoch, example_index, gold_prob, correct)
        if self.pending is None:
            return
        z = np.asarray(self.pending, dtype=np.float32)
        self.pending = None
        slot = self._logits.get(int(epoch))
        if slot is None:
            slot = self._logits[int(epoch)] = np.full((self.n_examples, z.shape[-1]), np.nan, np.float32)
        slot[np.asarray(_np(example_index), dtype=np.int64)] = z

    def logits(self) -> np.ndarray | None:
        """(epochs, examples, K) logits of the recorded epochs, or None if none were kept."""
        epochs = sorted(self._epochs)
        if not self._logits or any(e not in self._logits for e in epochs):
            return None
        return np.stack([self._logits[e] for e in epochs])

    def save(self, path) -> None:
        probs, right = self.arrays()
        extra = {} if self.logits() is None else {"logits": self.logits()}
        np.savez(Path(path), probs=probs, correct=right, epochs=np.array(sorted(self._epochs)), **extra)

    def load(self, path) -> None:
        super().load(path)
        with np.load(Path(path)) as data:
            if "logits" in data.files:
                for e, z in zip(data["epochs"], data["logits"]):
                    self._logits[int(e)] = z.copy()


class CapturingFormat:
    """Delegates to a task format; ``gold_prob`` also hands the batch's logits to a recorder."""

    def __init__(self, fmt, recorder: LogitRecorder):
        self._fmt, self._recorder = fmt, recorder

    def __getattr__(self, name):
        return getattr(self._fmt, name)

    def gold_prob(self, outputs, batch):
        self._recorder.pending = outputs["logits"].detach().float().cpu().numpy()
        return self._fmt.gold_prob(outputs, batch)


def callbacks():
    """``(CurveCallback, EpochPassCallback, ConvergenceCallback)`` of
    :mod:`taskdiff.difficulty.callbacks` (imported here: keeps transformers out of import time)."""
    from taskdiff.difficulty.callbacks import ConvergenceCallback, CurveCallback, EpochPassCallback

    return CurveCallback, EpochPassCallback, ConvergenceCallback

