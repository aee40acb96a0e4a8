"""Session fixture of the slow real-data profile tests: SNLI and UD English POS profiled once.

``real_profiles`` profiles both tasks with every measure on the offline e5 encoder and
../shared data (budgets in :data:`REAL_PARAMS`), one thread, in one store: the first task
computes the base encoder's probe fits and hidden states, the second reuses them.
``tests/difficulty/test_integration_profile.py`` checks the profiles and
``tests/difficulty/test_cartography_real.py`` reads their data maps (it trained its own
budget runs before: 238 s of the slow suite under load on 2026-12-05).
"""

from __future__ import annotations

import time

import pytest

from taskdiff.transfer.training import TrainConfig

#: The budget of baseline loss, V-information and cartography (one shared budget run per task).
REAL_BUDGET = {"epochs": 2, "learning_rate": 1e-4, "batch_size": 16, "max_train_examples": 128,
               "max_held_out": 128}
REAL_PARAMS = {
    "baseline_loss": {"budget": REAL_BUDGET},
    "vinfo": {"budget": REAL_BUDGET},
    "cartography": {"budget": REAL_BUDGET},
    "size": {"targets": ["xnli", "pawsx"]},
    "logme": {"max_examples": 128},
    "embedding": {"targets": ["xnli"], "languages": ["en", "de"], "max_examples": 64},
    "probing": {"intermediate_train": TrainConfig(epochs=1, learning_rate=1e-4, batch_size=16),
                "max_sentences": 120, "layers": [0, 6, 12], "max_examples": 600,
                "mdl": True, "mdl_fractions": [0.1, 0.25, 0.5, 1.0]},
}
REAL_TASKS = ("snli", "ud_en_pos")


@pytest.fixture(scope="session")
def real_profiles(shared_data, tmp_path_factory, link_e5) -> dict:
    """``{task: DifficultyProfile}`` for :data:`REAL_TASKS` (in that order), and ``"seconds"``:
    each profile's wall time. One torch / BLAS thread: on a shared 2-core machine, two threads
    per process oversubscribe the cores and run many times slower."""
    import torch
    from threadpoolctl import threadpool_limits

    from taskdiff.difficulty import profile_task

    store = tmp_path_factory.mktemp("real-profiles") / "store"
    link_e5(store)  # the session's one conversion (this fixture runs before the per-test patch)
    out: dict = {"seconds": {}}
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            for task in REAL_TASKS:
                start = time.perf_counter()
                out[task] = profile_task(task, "e5-small-offline", data_dir=shared_data, store=store,
                                         max_examples=128, seed=1, progress=False, params=REAL_PARAMS,
                                         skip_errors=False)
                out["seconds"][task] = round(time.perf_counter() - start, 1)
    finally:
        torch.set_num_threads(before)
    return out
