"""Does a gain predictor rank held-out intermediate tasks well where a relation is planted?

The testbed world of :mod:`taskdiff.testbed.predictor_grid`: 16 intermediate tasks that vary
label noise, size, ambiguity and kind (syntactic / semantic) at once, targets ``tbx_nli`` and
``tbx_para``, 4 languages, 3 seeds, on two world seeds (the predictor design was fixed on
world seed 0 and is confirmed on world seed 1). For each world it

1. builds the world and pretrains (or reuses) its encoder;
2. profiles every intermediate task (size, baseline loss, V-information, cartography, LogME,
   embedding similarity to each target);
3. runs the transfer grid through the run store (an interrupted run resumes; a second run
   recomputes nothing) into ``<store>/predictor-testbed/world-<seed>/`` (a study directory);
4. evaluates every predictor and baseline by leave-one-task-out
   (:func:`taskdiff.analysis.evaluation.leave_one_task_out`): mean Spearman over targets
   with its one-sided permutation p, Regret@3, NDCG@3, top-1.

``python -m benchmarks.predictor_testbed [--store DIR] [--world-seeds 0,1] [--threads 1]``;
``--smoke`` runs a tiny world (2 x 64 encoder, 5 small tasks, one seed) in seconds. Not part of
``make bench`` (``run_all``) nor of the demo. Results: docs/predictor.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from benchmarks import _common as C

NAME = "predictor_testbed"
SEEDS = (1, 2, 3)
PROFILE_MEASURES = ["size", "baseline_loss", "vinfo", "cartography", "logme", "embedding"]
K = 3


def profile_params(targets: Sequence[str], smoke: bool = False) -> dict:
    """The demo's measure budget, plus the embedding measure scoped to the study's targets."""
    from taskdiff.demo import profile_params as demo_params

    params = demo_params()
    # half the demo's budget (6 epochs on at most 300 examples): the benchmark profiles 16 tasks
    # per world on a shared 2-core machine; V-information still separates the noise levels
    budget = {**params["vinfo"]["budget"], "epochs": 6, "max_train_examples": 300}
    params = {k: {"budget": budget} for k in params}
    if smoke:
        budget = {"epochs": 2, "max_train_examples": 40, "max_held_out": 20, "learning_rate": 1e-3,
                  "batch_size": 16}
        params = {k: {"budget": budget} for k in params}
    params["embedding"] = {"targets": list(targets), "max_examples": 100}
    return params


def collect(world_seed: int, store_root: Path, *, smoke: bool = False, seeds: Sequence[int] = SEEDS,
            progress: bool = True) -> Path:
    """Build, profile and run the transfer grid of one world; returns its study directory."""
    from taskdiff.demo import train_configs
    from taskdiff.difficulty.api import profile_task
    from taskdiff.io import atomic_write_text
    from taskdiff.testbed.predictor_grid import TARGETS, predictor_world_config, smoke_world_config
    from taskdiff.testbed.world import World
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore

    store = RunStore(store_root)
    config = smoke_world_config(world_seed) if smoke else predictor_world_config(world_seed)
    world = World(config, store.root).build()
    study = store.root / "predictor-testbed" / f"world-{world_seed}{'-smoke' if smoke else ''}"
    t0 = time.perf_counter()
    encoder = str(world.encoder(progress=False))
    _say(progress, f"world seed {world_seed}: world {world.key}, encoder {Path(encoder).name} "
                   f"({time.perf_counter() - t0:.0f} s)")
    names = world.intermediate_names
    for name in names:
        t0 = time.perf_counter()
        prof = profile_task(name, encoder, measures=PROFILE_MEASURES, store=store, seed=0, progress=False,
                            params=profile_params(TARGETS, smoke))
        atomic_write_text(study / "profiles" / f"{name}.json", prof.to_json())
        _say(progress, f"  profile {name} ({time.perf_counter() - t0:.0f} s)")
    inter_cfg, target_cfg = train_configs()
    if smoke:
        inter_cfg = inter_cfg.model_copy(update={"epochs": 1})
        target_cfg = target_cfg.model_copy(update={"epochs": 1})
    ws = Workspace(store, None, progress=False)

    def request(inter, seed_list):
        return TransferRequest(model=encoder, intermediates=inter, targets=list(TARGETS), languages=world.codes,
                               seeds=list(seed_list), intermediate_train=inter_cfg, target_train=target_cfg)

    for i, seed in enumerate(seeds):
        for name in names:
            t0 = time.perf_counter()
            run_transfer(request([name], [seed]), ws)
            _say(progress, f"  transfer seed {seed} {name} ({time.perf_counter() - t0:.0f} s)")
        run_transfer(request(names, seeds[: i + 1]), ws, study)  # the study so far (store hits)
        _say(progress, f"  study with seeds {list(seeds[: i + 1])} written to {study}")
    return study


def evaluate(study: Path, *, k: int = K, n_perm: int = 9999) -> dict:
    """Leave-one-task-out quality of every predictor and baseline on one study directory."""
    from taskdiff.analysis.evaluation import leave_one_task_out
    from taskdiff.analysis.pooled import PooledGainPredictor
    from taskdiff.analysis.prediction import GainPredictor
    from taskdiff.analysis.table import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = load_study(study)
        pooled = leave_one_task_out(table, PooledGainPredictor(), k=k, n_perm=n_perm)
        screened = leave_one_task_out(table, GainPredictor(), k=k, n_perm=n_perm)
    rows = {}
    for method, frame in pooled.summary_frame().iterrows():
        name = "pooled predictor" if method == "predictor" else method
        rows[name] = _row(frame, pooled.p_values.get(method), k)
    rows["screened ridge (previous default)"] = _row(screened.summary_frame().loc["predictor"],
                                                     screened.p_values.get("predictor"), k)
    return {"study": str(study), "n_tasks": table.n_tasks, "targets": table.targets, "methods": rows,
            "verdict": pooled.verdict(), "notes": pooled.notes}


def _row(frame, p, k: int) -> dict:
    return {"spearman": float(frame["spearman"]), "p": None if p is None else float(p),
            f"regret@{k}": float(frame[f"regret@{k}"]), f"ndcg@{k}": float(frame[f"ndcg@{k}"]),
            "top1": float(frame["top1"])}


def format_results(results: dict, k: int = K) -> str:
    """One table per world seed: method, mean Spearman, permutation p, Regret@k, NDCG@k, top-1."""
    lines = []
    for seed, res in results.items():
        role = res.get("role", "")
        lines.append(f"world seed {seed}{f' ({role})' if role else ''}: {res['n_tasks']} intermediate tasks, "
                     f"targets {', '.join(res['targets'])}")
        lines.append(f"  {'method':36s} {'Spearman':>8s} {'p':>7s} {f'Regret@{k}':>9s} {f'NDCG@{k}':>7s} "
                     f"{'top-1':>6s}")
        for name, m in res["methods"].items():
            p = "-" if m["p"] is None else f"{m['p']:.4f}"
            lines.append(f"  {name:36s} {m['spearman']:8.2f} {p:>7s} {m[f'regret@{k}']:9.2%} "
                         f"{m[f'ndcg@{k}']:7.2f} {m['top1']:6.0%}")
        lines.append("  " + res["verdict"])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, default=None, help="run store (default $TASKDIFF_HOME or ~/.cache/taskdiff)")
    p.add_argument("--world-seeds", default="0,1", help="world seeds (default 0,1: tuning, confirmation)")
    p.add_argument("--seeds", default=None, help="transfer seeds (default 1,2,3; smoke 1)")
    p.add_argument("--threads", type=int, default=1, help="PyTorch threads (default 1: a shared machine)")
    p.add_argument("--n-perm", type=int, default=None, help="permutations (default 9999; smoke 199)")
    p.add_argument("--smoke", action="store_true", help="a tiny world in seconds (for tests)")
    p.add_argument("--eval-only", action="store_true", help="evaluate the study folders already in the store")
    p.add_argument("--out", type=Path, default=None, help="JSON output (default: none)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    C.offline_env()
    from taskdiff.paths import default_home
    from taskdiff.testbed.predictor_grid import CONFIRM_SEED, TUNE_SEED

    store = default_home(args.store)
    world_seeds = [int(s) for s in args.world_seeds.split(",") if s.strip()]
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else ([1] if args.smoke else list(SEEDS))
    n_perm = args.n_perm or (199 if args.smoke else 9999)
    started = time.perf_counter()
    if not args.eval_only:
        C.apply_threads(args.threads)
    results, timings = {}, {}
    for ws in world_seeds:
        t0 = time.perf_counter()
        if args.eval_only:
            study = store / "predictor-testbed" / f"world-{ws}{'-smoke' if args.smoke else ''}"
        else:
            study = collect(ws, store, smoke=args.smoke, seeds=seeds, progress=not args.quiet)
        timings[ws] = round(time.perf_counter() - t0, 1)
        results[ws] = evaluate(study, n_perm=n_perm)
        results[ws]["role"] = {TUNE_SEED: "design fixed here", CONFIRM_SEED: "confirmation"}.get(ws, "")
    text = format_results(results)
    if not args.quiet:
        print(text, flush=True)
    payload = {"benchmark": NAME, "smoke": args.smoke, "command": "python -m benchmarks.predictor_testbed "
               + " ".join(sys.argv[1:] if argv is None else argv), "date": datetime.now(timezone.utc).isoformat(),
               "machine": C.machine_info(), "world_seeds": world_seeds, "seeds": seeds, "results": results,
               "collect_seconds": timings, "total_seconds": round(time.perf_counter() - started, 1), "table": text}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(C._jsonable(payload), indent=2), encoding="utf-8")
    return payload


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(text, flush=True)


if __name__ == "__main__":
    main()
