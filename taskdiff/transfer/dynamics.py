"""Training dynamics recorded from the training forward pass (dataset cartography).

:class:`DynamicsRecorder` receives, for every training batch, the example indices, the
probability of the gold answer and correctness that the format computes from the
outputs the Trainer already has — no extra forward pass. ``mode="epoch_end"`` is for a
recorder that another callback feeds with one inference pass over the training set at the
end of every epoch (the original cartography recipe, run by the difficulty budget:
:mod:`taskdiff.difficulty.budget`). :class:`~taskdiff.transfer.trainer.DynamicsCallback`
saves the state into every checkpoint so that a resumed run keeps the epochs it had seen.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class DynamicsRecorder:
    """Per-epoch gold probabilities and correctness for every training example."""

    def __init__(self, n_examples: int, mode: str = "forward"):
        if mode not in ("forward", "epoch_end"):
            raise ValueError(f"dynamics mode must be 'forward' or 'epoch_end', found {mode!r}")
        self.n_examples, self.mode = n_examples, mode
        self._epochs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _slot(self, epoch: int):
        if epoch not in self._epochs:
            self._epochs[epoch] = (np.full(self.n_examples, np.nan, dtype=np.float32),
                                   np.zeros(self.n_examples, dtype=bool))
        return self._epochs[epoch]

    def record(self, epoch: int, example_index, gold_prob, correct) -> None:
        """Store the batch's values (torch or numpy) at their examples' positions."""
        probs, right = self._slot(int(epoch))
        idx = np.asarray(_np(example_index), dtype=np.int64)
        probs[idx] = _np(gold_prob).astype(np.float32)
        right[idx] = _np(correct).astype(bool)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(gold_probs, correct)``, each epochs x examples, for completed epochs."""
        epochs = sorted(self._epochs)
        if not epochs:
            return np.zeros((0, self.n_examples), np.float32), np.zeros((0, self.n_examples), bool)
        return (np.stack([self._epochs[e][0] for e in epochs]), np.stack([self._epochs[e][1] for e in epochs]))

    def save(self, path: Path) -> None:
        probs, right = self.arrays()
        np.savez(Path(path), probs=probs, correct=right, epochs=np.array(sorted(self._epochs)))

    def load(self, path: Path) -> None:
        data = np.load(Path(path))
        for e, p, c in zip(data["epochs"], data["probs"], data["correct"]):
            self._epochs[int(e)] = (p.copy(), c.copy())


def _np(x):
    if hasattr(x, "detach"):
        return x.detach().float().cpu().numpy() if x.dtype.is_floating_point else x.detach().cpu().numpy()
    return np.asarray(x)


def write_summary(path: Path, recorder: DynamicsRecorder, ids: list[str]) -> None:
    """JSON with ids and the epochs x examples arrays (for the difficulty module)."""
    probs, right = recorder.arrays()
    Path(path).write_text(json.dumps({"ids": ids, "gold_probs": probs.tolist(), "correct": right.tolist()}))
