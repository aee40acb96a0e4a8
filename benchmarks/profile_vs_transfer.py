"""Cost of a default difficulty profile of one intermediate task vs the transfer runs it predicts.

*Profile*: ``taskdiff.difficulty.api.profile_task(INTERMEDIATE, model)`` with the default
measures and their default budgets, in a fresh run store. *Transfer*: what the profile
stands in for, in another fresh store: the intermediate phase on INTERMEDIATE, one target
phase (TARGET) on the encoder it produced, and the zero-shot evaluation of that model in
``--languages`` - the same :mod:`taskdiff.transfer.phases` runs ``taskdiff transfer`` makes,
with the default :class:`~taskdiff.transfer.training.TrainConfig`. Same model, data, caps and
seed. Ratio = profile wall time / transfer wall time; the profile's per-measure costs say
which measure dominates. The ``marginal`` ratio is the cost of profiling one more
intermediate task in a study: it leaves out the intermediate training that the ``probing``
measure shares with the transfer study (same run spec: a study that runs both pays it once)
and the ``embedding`` measure, whose cost is almost all the encoding of every target task in
every language (cached in the store, so paid once per study, not per intermediate task).

Both sides read the same rows: ``--max-examples`` (default 256 here, 0 = no cap) caps every
role on both sides, as ``taskdiff profile/transfer --max-examples`` do; the probing treebank
and the embedding measure's own caps do not depend on it, so a smaller cap makes the ratio
larger (the default is the conservative choice that keeps ``make bench`` bounded).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

from benchmarks import _common as C

NAME = "profile_vs_transfer"


def run_transfer_phases(s: C.Setup, store_dir: Path, inter: str, target: str, languages: list[str],
                        max_examples: int | None, seed: int, cfg) -> dict:
    """Intermediate + target training + evaluation, timed per phase (fresh store)."""
    from taskdiff.transfer.phases import Workspace, eval_spec, run_evaluation, run_training, train_spec
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task

    ws = Workspace(RunStore(store_dir), s.data_dir, max_examples, progress=False)
    ti, tt = get_task(inter), get_task(target)
    times: dict[str, float] = {}
    with C.stopwatch(times, "intermediate"):
        spec = train_spec("intermediate", ws, ti, f"base:{s.model_path}", seed, cfg)
        r1 = run_training(ws, spec, ti, s.model_path, cfg, keep="encoder")
    with C.stopwatch(times, "target"):
        spec = train_spec("target", ws, tt, r1.run_id, seed, cfg)
        r2 = run_training(ws, spec, tt, str(r1.path / "encoder"), cfg, keep="model")
    scores = {}
    for lang in languages:
        with C.stopwatch(times, "evaluation"):
            r3 = run_evaluation(ws, eval_spec(ws, tt, r2.run_id, lang), tt, str(r2.path / "model"), lang)
        scores[lang] = r3.metrics.get("scores")
    return {"seconds": {k: v for k, v in times.items() if not k.endswith("_cpu")},
            "cpu_seconds": {k[:-4]: v for k, v in times.items() if k.endswith("_cpu")},
            "total_s": sum(v for k, v in times.items() if not k.endswith("_cpu")),
            "total_cpu_s": sum(v for k, v in times.items() if k.endswith("_cpu")), "scores": scores,
            "n_train": {"intermediate": r1.metrics.get("n_train"), "target": r2.metrics.get("n_train")}}


def _intermediate_seconds(store_dir: Path) -> float:
    """``train_seconds`` of the intermediate runs a profile made (probing's trained encoder)."""
    total = 0.0
    for path in (store_dir / "runs").glob("intermediate-*/metrics.json"):
        try:
            total += float(json.loads(path.read_text()).get("train_seconds") or 0.0)
        except (OSError, ValueError):
            continue
    return total


def main(argv: Sequence[str] | None = None) -> dict:
    p = C.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--intermediate", default="snli")
    p.add_argument("--target", default="xnli")
    p.add_argument("--languages", default="de", help="evaluation languages of the target, comma-separated")
    p.add_argument("--max-examples", type=int, default=None,
                   help="cap every role's rows on both sides (default 256; 0 = no cap; smoke 24)")
    p.add_argument("--measures", default=None, help="profile measures (default: the profile's defaults)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    started = time.perf_counter()
    s = C.setup(NAME, args, argv)
    try:
        C.quiet_transformers()
        try:
            from taskdiff.difficulty.api import DEFAULT_MEASURES, profile_task
        except ImportError as exc:
            return C.skipped(s, f"taskdiff.difficulty.api is not available yet ({exc})", started)
        from taskdiff.transfer.training import TrainConfig

        max_examples = (24 if s.smoke else 256) if args.max_examples is None else (args.max_examples or None)
        languages = [l.strip() for l in args.languages.split(",") if l.strip()]
        measures = [m.strip() for m in args.measures.split(",")] if args.measures else None
        params = None
        if s.smoke:  # plumbing only: small budgets so that the smoke test takes seconds
            cfg = TrainConfig(epochs=1, batch_size=8, learning_rate=5e-4)
            params = {"probing": {"max_sentences": 24, "mdl": False, "control": False, "intermediate_train": cfg},
                      "baseline_loss": {"budget": {"epochs": 2, "batch_size": 8}},
                      "cartography": {"budget": {"epochs": 2, "batch_size": 8}},
                      "vinfo": {"budget": {"epochs": 2, "batch_size": 8}}}
            measures = measures or list(DEFAULT_MEASURES)
            params = {k: v for k, v in params.items() if k in measures}
        else:
            cfg = TrainConfig()
        # profile first, transfer second: each in its own fresh store (nothing reused across)
        prof_store = s.work / "profile-store"
        times: dict[str, float] = {}
        with C.stopwatch(times, "profile"):
            kw = {"params": params} if params else {}
            prof = profile_task(args.intermediate, s.model_path, measures=measures, data_dir=s.data_dir,
                                store=prof_store, max_examples=max_examples, seed=args.seed, progress=False,
                                **kw)
        per_measure = {name: (entry.get("cost") or {}).get("seconds") for name, entry in prof.measures.items()}
        errors = dict(prof.provenance.get("errors") or {})
        shared_inter = _intermediate_seconds(prof_store)
        transfer = run_transfer_phases(s, s.work / "transfer-store", args.intermediate, args.target, languages,
                                       max_examples, args.seed, cfg)
        clock = C.headline_clock(s)
        ratio_wall = C.ratio(times["profile"], transfer["total_s"])
        ratio_cpu = C.ratio(times["profile_cpu"], transfer["total_cpu_s"])
        ratio = ratio_cpu if clock == "cpu" else ratio_wall
        # what one more intermediate task costs in a study (wall seconds: that is what the profile records)
        per_study = shared_inter + (per_measure.get("embedding") or 0.0)
        marginal = C.ratio(times["profile"] - per_study, transfer["total_s"])
        dominant = max((k for k, v in per_measure.items() if v is not None), key=lambda k: per_measure[k],
                       default=None)
        table = [{"what": f"profile {args.intermediate} ({len(per_measure)} measures)", "seconds": times["profile"],
                  "share of transfer": ratio_wall}]
        for name, sec in sorted(per_measure.items(), key=lambda kv: -(kv[1] or 0)):
            table.append({"what": f"  measure {name}", "seconds": sec,
                          "share of transfer": C.ratio(sec, transfer["total_s"])})
        if shared_inter:
            table.append({"what": "  (of which intermediate training shared with the transfer)",
                          "seconds": shared_inter, "share of transfer": C.ratio(shared_inter, transfer["total_s"])})
        table.append({"what": "  marginal: minus shared training and per-study target embeddings",
                      "seconds": times["profile"] - per_study, "share of transfer": marginal})
        table.append({"what": f"transfer {args.intermediate} -> {args.target} ({','.join(languages)})",
                      "seconds": transfer["total_s"], "share of transfer": 1.0})
        for phase, sec in transfer["seconds"].items():
            table.append({"what": f"  {phase}", "seconds": sec, "share of transfer": C.ratio(sec, transfer["total_s"])})
        notes = [f"headline ratio from {clock} seconds ({ratio:.3g}); the table is in wall seconds "
                 f"(per-measure costs are the profile's own wall-clock records), wall ratio {ratio_wall:.3g}"]
        if errors:
            notes.append(f"measures skipped by the profile: {errors}")
        if dominant:
            notes.append(f"dominant measure: {dominant} ({per_measure[dominant]:.1f} s, "
                         f"{C.ratio(per_measure[dominant], times['profile']):.0%} of the profile)")
        return C.finish(s, {
            "ratios": {"profile_over_transfer": ratio, "profile_over_transfer_wall": ratio_wall,
                       "profile_over_transfer_cpu": ratio_cpu, "marginal_profile_over_transfer": marginal},
            "clock": clock,
            "targets": {"profile_over_transfer": C.target("profile_over_transfer", ratio, "<=", 0.10)},
            "workload": {"intermediate": args.intermediate, "target": args.target, "languages": languages,
                         "max_examples": max_examples, "seed": args.seed, "train_config": cfg.model_dump(),
                         "measures": list(prof.measures), "params": params},
            "profile": {"seconds": times["profile"], "cpu_seconds": times["profile_cpu"],
                        "per_measure_seconds": per_measure, "errors": errors,
                        "shared_intermediate_seconds": shared_inter, "per_study_seconds": per_study,
                        "dominant_measure": dominant,
                        "flat": _flat(prof)},
            "transfer": transfer, "notes": notes}, table, started=started)
    finally:
        s.close()


def _flat(prof) -> dict | None:
    try:
        flat = prof.to_flat()
        flat.pop("provenance", None)
        return flat
    except Exception:  # the profile's own tests cover to_flat; a benchmark should not fail on it
        return None


if __name__ == "__main__":
    main()
