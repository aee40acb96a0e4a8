"""Write the tables of the real study from the evaluations that are done (a partial study).

``taskdiff study`` writes ``gains.csv`` only once every evaluation of the graph is done;
this script (used for the shipped, partial results, see README.md) writes the same tables
from the finished evaluations of the study's manifest and counts what is missing::

    python results/real-mini/collect_partial.py runs/real-mini runs/real-mini-store results/real-mini
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from taskdiff.transfer.gains import score_rows, write_tables
from taskdiff.transfer.store import RunResult, RunStore


def main(study_dir: str, store_dir: str, out: str) -> None:
    nodes = json.loads((Path(study_dir) / "study.json").read_text())["nodes"]
    store = RunStore(store_dir)
    scores, missing = [], Counter()
    for n in nodes:
        if n["kind"] != "evaluation":
            continue
        if not store.is_done(n["run_id"]):
            missing[(n["intermediate"] or "none", n["task"])] += 1
            continue
        result = RunResult(store.load_metrics(n["run_id"]), True, n["run_id"], store.run_dir(n["run_id"]))
        scores.extend(score_rows(n["intermediate"] or "none", n["task"], n["language"], n["seed"], result))
    write_tables(scores, Path(out))
    print(f"{len(scores)} score rows written to {out}; evaluations not done: {sum(missing.values())}")
    for (inter, target), k in sorted(missing.items()):
        print(f"  missing {k:3d}  {inter} -> {target}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
