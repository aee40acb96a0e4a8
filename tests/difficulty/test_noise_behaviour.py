"""Behaviour: label noise in the training data makes a task measurably harder.

A project-made binary task is written three times with 0 %, 30 % and 60 % symmetric label
noise in its *training* labels (with probability r a label is redrawn uniformly from the two
classes, so r/2 of them change); the held-out labels stay clean. Each class has a few fixed
texts of its own length and words, so ``tiny`` learns the clean signal within the first
epoch and cannot memorise the noise (identical texts carry both labels). Then:

* the ambiguous + hard share of the data map rises with the noise (the flipped examples are
  hard-to-learn), and
* V-usable information falls (the input says less about the noisy label).

Dynamics are recorded with the epoch-end pass (the paper's recipe): the forward-pass mode
also counts the first epoch's learning transient, which on so short a budget makes clean
examples look ambiguous. Batches are not grouped by length, because here length is the label.
"""

from __future__ import annotations

import json
import random

import pytest

from taskdiff.difficulty import MeasureContext, get_measure
from taskdiff.difficulty.baseline_loss import Budget
from taskdiff.transfer.tasks import TaskConfig, register_task

TEXTS = {"short": ["the man", "a woman", "the city"],
         "long": ["the man is in the city with the woman of the world",
                  "a woman was at the city and the man is in the world",
                  "the people of the city are with the man in the world"]}
NOISE = (0.0, 0.3, 0.6)
N_TRAIN, N_HELD_OUT, SEEDS = 400, 100, (0, 1)
BUDGET = Budget(epochs=3, learning_rate=5e-3, batch_size=16, warmup_ratio=0.0, precision="fp32",
                group_by_length=False, dynamics_mode="epoch_end", max_train_examples=None, max_held_out=None)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


def noisy_task(root, noise: float, seed: int) -> str:
    """Write the task's files with ``noise`` in the training labels and register it."""
    rng = random.Random(seed)
    labels = list(TEXTS)

    def rows(n: int, split: str, noisy: bool) -> str:
        out = []
        for i in range(n):
            y = labels[i % 2]
            label = rng.choice(labels) if noisy and rng.random() < noise else y
            out.append(json.dumps({"id": f"{split}-{i}", "text": rng.choice(TEXTS[y]), "label": label}))
        return "\n".join(out) + "\n"

    root.mkdir(parents=True)
    for split, n, noisy in (("train", N_TRAIN, True), ("test", N_HELD_OUT, False)):
        (root / f"{split}.jsonl").write_text(rows(n, split, noisy))
    name = f"noisy_{int(noise * 100)}_s{seed}"
    register_task(TaskConfig(
        name=name, format="classification", labels=labels, role="intermediate", eval_split="test",
        local={"root": ".", "reader": "jsonl", "files": {"train": "train.jsonl", "test": "test.jsonl"},
               "options": {"columns": {"id": "id", "text": "text", "label": "label"}}},
        base_dir=str(root)), overwrite=True)
    return name


def test_label_noise_raises_ambiguous_and_hard_and_lowers_v_information(tmp_path):
    ctx = MeasureContext(store=tmp_path / "store")
    hard, vinfo = [], []
    for noise in NOISE:
        h = v = 0.0
        for seed in SEEDS:
            name = noisy_task(tmp_path / f"{noise}-{seed}", noise, seed)
            ctx.seed = seed
            carto = get_measure("cartography")(budget=BUDGET, export=False, rule="thresholds").fit(name, "tiny", ctx).result_
            h += (carto["ambiguous_frac"] + carto["hard_frac"]) / len(SEEDS)
            v += get_measure("vinfo")(budget=BUDGET).fit(name, "tiny", ctx).result_["v_information"] / len(SEEDS)
        hard.append(h)
        vinfo.append(v)
    report = f"noise {NOISE}: ambiguous+hard {[round(x, 3) for x in hard]}, V-information {[round(x, 3) for x in vinfo]}"
    assert all(b > a + 0.05 for a, b in zip(hard, hard[1:])), report
    assert all(b < a - 0.1 for a, b in zip(vinfo, vinfo[1:])), report
    assert hard[0] < 0.1 and vinfo[0] > 0.8, report  # the clean task is learnt: easy, ~1 bit
