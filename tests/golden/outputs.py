"""The outputs the redesign (issue 16) must keep: a tiny study's gains and run ids, tiny profiles.

``python -m tests.golden.outputs write`` records them (run it only on purpose, with the code whose
outputs are the reference); ``tests/golden/test_golden_outputs.py`` recomputes and compares them.
Everything runs on the ``tiny`` model, one thread, on project-made fixture data.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROFILE_TASKS = ("snli", "ud_en_pos", "cosmosqa", "tydiqa_en")
STUDY = {"name": "golden", "model": "tiny", "intermediates": ["snli", "ud_en_pos"],
         "targets": ["xnli", "panx", "tatoeba"], "languages": ["de"], "seeds": [1],
         "intermediate_train": {"learning_rate": 2.0e-3, "epochs": 3, "batch_size": 8, "precision": "fp32"},
         "target_train": {"learning_rate": 2.0e-3, "epochs": 3, "batch_size": 8, "precision": "fp32"},
         "data_dir": "data", "max_examples": 32, "executor": {"workers": 0}}
#: Fields that differ between two identical computations (clocks, paths, library versions).
VOLATILE = {"cost_seconds", "created", "store", "versions", "data_dir", "seconds", "cost", "wall_seconds", "train_seconds",
            "eval_seconds"}


def _scrub(obj):
    if isinstance(obj, dict):
        return {k: _scrub(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_scrub(v) for v in obj]
    return obj


def compute(root: Path) -> dict[str, str]:
    """name -> text of every golden output, computed under ``root``."""
    import yaml

    from taskdiff.difficulty.api import profile_task
    from taskdiff.study.config import load_study
    from taskdiff.study.run import run_study
    from taskdiff.testing.fixtures import make_fixture_data_dir
    from taskdiff.transfer.store import RunStore

    os.environ.setdefault("TASKDIFF_THREADS", "1")
    data = make_fixture_data_dir(root / "data", n_train=32, n_eval=16, languages=("en", "de"))
    out: dict[str, str] = {}
    for task in PROFILE_TASKS:
        prof = profile_task(task, model="tiny", data_dir=data, max_examples=32, store=RunStore(root / "pstore"),
                            progress=False)
        out[f"profile_{task}.json"] = json.dumps(_scrub(prof.to_flat()), indent=1, sort_keys=True) + "\n"
    (root / "study.yaml").write_text(yaml.safe_dump(STUDY, sort_keys=False))
    study = load_study(root / "study.yaml", out=root / "out", store=root / "store")
    result = run_study(study, workers=0, progress=False)
    assert result.ok, (result.schedule.failed, result.schedule.blocked)
    out["gains.csv"] = (root / "out" / "gains.csv").read_text()
    runs = sorted(p.name for p in (root / "store" / "runs").iterdir() if p.is_dir())
    out["run_ids.txt"] = "\n".join(runs) + "\n"
    out["scores.csv"] = (root / "out" / "scores.csv").read_text()
    metrics = {run: json.loads((root / "store" / "runs" / run / "metrics.json").read_text())
               for run in runs if (root / "store" / "runs" / run / "metrics.json").exists()}
    out["run_metrics.json"] = json.dumps(_scrub(metrics), indent=1, sort_keys=True) + "\n"
    return {name: text.replace(str(root), "<root>") for name, text in out.items()}


def main(argv: list[str]) -> None:
    import tempfile

    if argv[:1] != ["write"]:
        raise SystemExit("usage: python -m tests.golden.outputs write")
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in compute(Path(tmp)).items():
            (HERE / "data" / name).parent.mkdir(parents=True, exist_ok=True)
            (HERE / "data" / name).write_text(text)
            print("wrote", HERE / "data" / name)


if __name__ == "__main__":
    main(sys.argv[1:])
