"""benchmarks/predictor_testbed.py: evaluation and printing on a tiny grid (fast), the whole path (slow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # ``benchmarks`` is a top-level folder, not part of the package
    sys.path.insert(0, str(REPO))


def _tiny_study(folder: Path, seed: int) -> None:
    """6 tasks x 2 targets x 2 languages x 2 seeds; gain = 10 * similarity * signal + noise."""
    rng = np.random.default_rng(seed)
    rows, profiles = [], {}
    for i in range(6):
        task = f"pt_{i}"
        sim = {"tbx_nli": float(rng.uniform(0.9, 1.0)), "tbx_para": float(rng.uniform(0.9, 1.0))}
        vi = float(rng.uniform(0, 1.5))
        profiles[task] = {"task": task, "n_examples": int(rng.choice([250, 500, 1000])), "label_entropy": 1.5,
                          "v_information": vi, "logme": float(rng.normal()),
                          "provenance": {"measures": {"embedding": {"result": {"mean_similarity": sim}}}}}
        for t in sim:
            for lang in ("en", "xa"):
                for s in (1, 2):
                    g = round(10 * sim[t] * vi / 1.5 + rng.normal(0, 0.5), 4)
                    rows.append({"intermediate": task, "target": t, "language": lang, "seed": s,
                                 "metric": "accuracy", "score": 40 + g, "baseline_score": 40.0, "gain": g})
    (folder / "profiles").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "gains.csv", index=False)
    for task, prof in profiles.items():
        (folder / "profiles" / f"{task}.json").write_text(json.dumps(prof))


def test_eval_only_prints_every_method_on_both_world_seeds(tmp_path, capsys):
    from benchmarks import predictor_testbed as B

    for ws in (0, 1):
        _tiny_study(tmp_path / "predictor-testbed" / f"world-{ws}", ws)
    out = tmp_path / "result.json"
    payload = B.main(["--store", str(tmp_path), "--eval-only", "--n-perm", "99", "--out", str(out)])
    printed = capsys.readouterr().out
    for ws in ("0", "1"):
        methods = payload["results"][int(ws)]["methods"]
        assert {"pooled predictor", "data size", "LogME", "embedding similarity", "random",
                "screened ridge (previous default)"} <= set(methods)
        assert all({"spearman", "p", "regret@3"} <= set(m) for m in methods.values())
        assert f"world seed {ws}" in printed
    assert "pooled predictor" in printed and "Regret@3" in printed
    assert json.loads(out.read_text())["results"]["0"]["n_tasks"] == 6
    # the planted relation is strong: the predictor ranks it
    assert payload["results"][0]["methods"]["pooled predictor"]["spearman"] > 0.5


@pytest.mark.slow
def test_smoke_world_end_to_end(tmp_path):
    from benchmarks import predictor_testbed as B

    payload = B.main(["--smoke", "--store", str(tmp_path), "--world-seeds", "0", "--quiet"])
    res = payload["results"][0]
    assert res["n_tasks"] == 5 and set(res["targets"]) == {"tbx_nli", "tbx_para"}
    assert "pooled predictor" in res["methods"]
