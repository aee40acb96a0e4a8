"""``taskdiff demo``: the whole study — profiles, transfer grid, analysis, report — offline.

Until the synthetic-language testbed lands, the demo runs the smallest real pipeline there
is: the project-made fixture data (every XTREME layout and five English intermediate
tasks), the ``tiny`` model, two seeds, every phase cached in the run store, then the
difficulty profiles, the analysis and the report. Nothing is mocked: it is the same code a
study on XLM-R runs, on small data.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)
INTERMEDIATES = ["snli", "ud_en_pos", "cosmosqa", "commonsenseqa", "siqa"]
TARGETS = ["xnli", "panx", "tatoeba"]
LANGUAGES = ["de", "es", "sw"]
PROFILE_MEASURES = ["size", "baseline_loss", "vinfo", "cartography", "logme"]


def run_demo(out: Path, store: Path | None = None, progress: bool = True, seeds=(1, 2)) -> Path:
    """Run the demo study into ``out``; returns the path of ``report.html``."""
    from taskdiff.difficulty.api import profile_task
    from taskdiff.io import atomic_write_text
    from taskdiff.testing.fixtures import make_fixture_data_dir
    from taskdiff.transfer.phases import Workspace
    from taskdiff.transfer.pipeline import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.training import TrainConfig

    start = time.perf_counter()
    out = Path(out)
    data = make_fixture_data_dir(out / "data", seed=0, n_train=64, n_eval=32, languages=("en", *LANGUAGES))
    store = RunStore(store or out / "store")
    cfg = TrainConfig(learning_rate=5e-4, epochs=2, batch_size=16)
    _say(progress, f"[1/3] transfer grid: {len(INTERMEDIATES)} intermediate x {len(TARGETS)} target tasks, "
                   f"{len(LANGUAGES)} languages, seeds {list(seeds)} (plus the no-intermediate baseline)")
    req = TransferRequest(model="tiny", intermediates=INTERMEDIATES, targets=TARGETS, languages=LANGUAGES,
                          seeds=list(seeds), intermediate_train=cfg, target_train=cfg)
    run_transfer(req, Workspace(store, data, max_examples=64, progress=progress), out)
    _say(progress, "[2/3] difficulty profiles")
    for name in INTERMEDIATES:
        prof = profile_task(name, "tiny", measures=PROFILE_MEASURES, data_dir=data, store=store.root,
                            max_examples=64, progress=progress)
        atomic_write_text(out / "profiles" / f"{name}.json", prof.to_json())
    _say(progress, "[3/3] analysis and report")
    from taskdiff.analysis.api import report

    html, _ = report(out, out)
    _say(True, f"demo finished in {time.perf_counter() - start:.0f} s; report: {html}")
    return html


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(text, flush=True)
