"""Cost of a default difficulty profile of an intermediate task vs the transfer runs it predicts.

*Workloads* (``--workloads``, default ``snli:xnli,snli:udpos``) are INTERMEDIATE:TARGET pairs.

*Profile* of a workload: the default profile of INTERMEDIATE (``profile_task`` with the
default measures and settings), except that the relational ``embedding`` measure is scoped
to the workload's target (``params={"embedding": {"targets": [TARGET]}}``), because the
profile is compared with the transfer to that one target. The other measures do not depend
on the target: they are computed once per intermediate task, in a fresh store, in the
default order, one ``profile_task`` call each on one shared ``MeasureContext`` (what one
``profile_task(measures=None)`` call does in its loop), so that each measure's CPU seconds
can be read. The scoped embedding is computed per target in a fresh store of its own (it
pays the intermediate task's encoding again, as a profile for that target alone would).
Profile cost of a workload = the shared measures + that target's embedding.
``--unscoped-embedding`` also times the embedding against every default target (a separate
row, not in any ratio's profile: slow).

*Transfer* of a workload, in another fresh store: the intermediate phase on INTERMEDIATE, the
target phase on the encoder it produced and the zero-shot evaluation of that model in every
language of TARGET with local data (``--languages``), with the default ``TrainConfig`` - the
:mod:`taskdiff.transfer.phases` runs ``taskdiff transfer`` makes (see
:mod:`benchmarks._transfer`). Workloads sharing an intermediate task share its run, and each
counts its full time.

Ratio = profile seconds / transfer seconds, per workload, in CPU seconds with one thread on a
CPU (else wall seconds; both are in the JSON). Target: <= 0.10 per workload. No row cap by
default; ``--max-examples N`` caps every role on both sides, as ``taskdiff profile/transfer
--max-examples`` do (the measures' own caps do not shrink with it, so a cap raises the ratio).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from benchmarks import _common as C
from benchmarks import _transfer as T

NAME = "profile_vs_transfer"
EMBEDDING = "embedding"
GOAL = 0.10
#: Smoke runs only prove the plumbing: small budgets ("*": every measure; settings a measure lacks are dropped).
SMOKE_PARAMS = {"*": {"budget": {"epochs": 2, "batch_size": 8}},
                "probing": {"max_sentences": 24, "mdl": False, "control": False},
                EMBEDDING: {"max_examples": 24}}


def _settings(name: str, smoke: bool, extra: dict | None = None) -> dict:
    """Settings of measure ``name``: none (its defaults), or the smoke budgets it has, plus ``extra``."""
    from taskdiff.difficulty.registry import make_measure

    known = set(make_measure(name).get_params())
    wanted = {**SMOKE_PARAMS["*"], **SMOKE_PARAMS.get(name, {})} if smoke else {}
    out = {k: v for k, v in wanted.items() if k in known}
    return {**out, **(extra or {})}


def _context(s: C.Setup, store: Path, max_examples: int | None, seed: int):
    from taskdiff.difficulty.base import MeasureContext

    return MeasureContext(data_dir=s.data_dir, store=store, max_examples=max_examples, seed=seed, progress=False)


def _measure(s: C.Setup, ctx, inter: str, name: str, settings: dict) -> tuple[dict, object]:
    """One measure of ``inter`` in ``ctx``, timed (wall and CPU); returns (timing, profile)."""
    from taskdiff.difficulty.api import profile_task

    times: dict[str, float] = {}
    with C.stopwatch(times, "m"):
        prof = profile_task(inter, s.model_path, measures=[name], context=ctx, progress=False, skip_errors=True,
                            params={name: settings} if settings else None)
    entry = prof.measures.get(name) or {}
    error = (prof.provenance.get("errors") or {}).get(name)
    return {"seconds": times["m"], "cpu_seconds": times["m_cpu"],
            "profile_seconds": (entry.get("cost") or {}).get("seconds"), "cached": entry.get("cached"),
            **({"error": error} if error else {})}, prof


def profile_shared(s: C.Setup, store: Path, inter: str, max_examples: int | None, seed: int) -> dict:
    """The default measures but ``embedding`` of ``inter``, in default order, in a fresh store.

    Returns
    -------
    dict
        ``measures`` (name -> ``seconds``, ``cpu_seconds``, ``profile_seconds`` (the
        profile's own record), ``cached``, maybe ``error``), ``seconds``, ``cpu_seconds``,
        ``errors``, ``params`` and ``flat`` (the profile's flat fields).
    """
    from taskdiff.difficulty.api import DEFAULT_MEASURES
    from taskdiff.difficulty.profile import DifficultyProfile

    ctx = _context(s, store, max_examples, seed)
    measures, entries, params = {}, {}, {}
    for name in (m for m in DEFAULT_MEASURES if m != EMBEDDING):
        params[name] = _settings(name, s.smoke)
        measures[name], prof = _measure(s, ctx, inter, name, params[name])
        entries.update(prof.measures)
    merged = DifficultyProfile(inter, s.model_path, measures=entries)
    return {"measures": measures, "seconds": sum(m["seconds"] for m in measures.values()),
            "cpu_seconds": sum(m["cpu_seconds"] for m in measures.values()),
            "errors": {k: v["error"] for k, v in measures.items() if "error" in v}, "params": params,
            "flat": _flat(merged)}


def profile_embedding(s: C.Setup, store: Path, inter: str, targets: list[str] | None,
                      max_examples: int | None, seed: int) -> dict:
    """The ``embedding`` measure of ``inter`` against ``targets`` (None: its default targets), fresh store."""
    extra = {"targets": list(targets)} if targets is not None else {}
    settings = _settings(EMBEDDING, s.smoke, extra)
    timing, prof = _measure(s, _context(s, store, max_examples, seed), inter, EMBEDDING, settings)
    result = prof.result(EMBEDDING) or {}
    pairs = sum(len(v) for v in (result.get("similarity") or {}).values())
    return {**timing, "params": settings, "target_languages": pairs, "mean_similarity": result.get("mean_similarity")}


def _flat(prof) -> dict | None:
    try:
        flat = prof.to_flat()
        flat.pop("provenance", None)
        return flat
    except Exception:  # the profile's own tests cover to_flat; a benchmark should not fail on it
        return None


def _workload(w: T.Workload, shared: dict, emb: dict, transfer: dict, clock: str, unscoped: dict | None) -> dict:
    """Profile cost, transfer cost and their ratios for one workload."""
    prof = {"seconds": shared["seconds"] + emb["seconds"], "cpu_seconds": shared["cpu_seconds"] + emb["cpu_seconds"]}
    per_wall = {k: v["seconds"] for k, v in shared["measures"].items()} | {EMBEDDING: emb["seconds"]}
    per_cpu = {k: v["cpu_seconds"] for k, v in shared["measures"].items()} | {EMBEDDING: emb["cpu_seconds"]}
    key = "cpu_seconds" if clock == "cpu" else "seconds"
    out = {"intermediate": w.intermediate, "target": w.target, "languages": transfer["languages"],
           "profile": {**prof, "per_measure_seconds": per_wall, "per_measure_cpu_seconds": per_cpu},
           "transfer": transfer,
           "ratio": C.ratio(prof[key], transfer[key]),
           "ratio_wall": C.ratio(prof["seconds"], transfer["seconds"]),
           "ratio_cpu": C.ratio(prof["cpu_seconds"], transfer["cpu_seconds"]),
           "shared_measures_ratio": C.ratio(shared[key], transfer[key]),
           "embedding_ratio": C.ratio(emb[key], transfer[key])}
    if unscoped is not None:
        out["unscoped_embedding_ratio"] = C.ratio(unscoped[key], transfer[key])
    dominant = max(per_wall, key=lambda k: per_cpu[k] if clock == "cpu" else per_wall[k])
    out["dominant_measure"] = dominant
    return out


def _ratios_and_targets(results: dict[str, dict]) -> tuple[dict, dict]:
    ratios, targets = {}, {}
    for name, r in results.items():
        ratios[f"profile_over_transfer[{name}]"] = r["ratio"]
        ratios[f"profile_over_transfer_wall[{name}]"] = r["ratio_wall"]
        ratios[f"profile_over_transfer_cpu[{name}]"] = r["ratio_cpu"]
        ratios[f"shared_measures_over_transfer[{name}]"] = r["shared_measures_ratio"]
        if "unscoped_embedding_ratio" in r:
            ratios[f"unscoped_embedding_over_transfer[{name}]"] = r["unscoped_embedding_ratio"]
        key = f"profile_over_transfer[{name}]"
        targets[key] = C.target(key, r["ratio"], "<=", GOAL)
    worst = [r["ratio"] for r in results.values() if r["ratio"] == r["ratio"]]
    ratios["profile_over_transfer"] = max(worst) if worst else float("nan")  # the worst workload
    return ratios, targets


def _row(what: str, times: dict, shares: dict[str, float], columns: list[str], clock: str) -> dict:
    """A table row: wall and CPU seconds, and the share of each listed workload's transfer."""
    key = "cpu_seconds" if clock == "cpu" else "seconds"
    row = {"what": what, "wall s": times["seconds"], "CPU s": times["cpu_seconds"]}
    for col in columns:
        row[f"share {col}"] = C.ratio(times[key], shares[col]) if col in shares else ""
    return row


def build_table(workloads: list[T.Workload], shared: dict, embs: dict, unscoped: dict, results: dict,
                clock: str) -> list[dict]:
    """Rows per measure and per transfer phase; one share column per workload (headline clock)."""
    key = "cpu_seconds" if clock == "cpu" else "seconds"
    cols = [w.name for w in workloads]
    rows = []
    for inter in dict.fromkeys(w.intermediate for w in workloads):
        mine = {w.name: results[w.name]["transfer"][key] for w in workloads if w.intermediate == inter}
        for name, m in shared[inter]["measures"].items():
            rows.append(_row(f"profile {inter}: {name}" + (" (skipped)" if "error" in m else ""), m, mine, cols, clock))
        for w in (w for w in workloads if w.intermediate == inter):
            rows.append(_row(f"profile {inter}: embedding -> {w.target}", embs[w.name], {w.name: mine[w.name]},
                             cols, clock))
        if inter in unscoped:
            rows.append(_row(f"(profile {inter}: embedding, unscoped: not in the ratios)", unscoped[inter], mine,
                             cols, clock))
    for w in workloads:
        rows.append(_row(f"= profile for {w.name}", results[w.name]["profile"],
                         {w.name: results[w.name]["transfer"][key]}, cols, clock))
    for w in workloads:
        tr, mine = results[w.name]["transfer"], {w.name: results[w.name]["transfer"][key]}
        for phase, label in (("intermediate", f"intermediate {w.intermediate}"), ("target", f"target {w.target}"),
                             ("evaluation", f"evaluation {w.target} ({len(tr['languages'])} lang.)")):
            rows.append(_row(f"transfer {w.name}: {label}", tr["phases"][phase], mine, cols, clock))
        rows.append(_row(f"= transfer for {w.name}", tr, mine, cols, clock))
    return rows


def _args(argv: Sequence[str] | None):
    p = C.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--workloads", default="snli:xnli,snli:udpos",
                   help="comma-separated INTERMEDIATE:TARGET pairs (default snli:xnli,snli:udpos)")
    p.add_argument("--languages", default="all",
                   help="evaluation languages of each target: 'all' (every one with local data) or a comma list")
    p.add_argument("--max-examples", type=int, default=None,
                   help="cap every role's rows on both sides (default: no cap; smoke 24)")
    p.add_argument("--unscoped-embedding", action="store_true",
                   help="also time the embedding measure against all its default targets (slow; own row)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def _run_profiles(s: C.Setup, args, workloads, max_examples) -> tuple[dict, dict, dict]:
    """Shared measures per intermediate, scoped embedding per workload, unscoped if asked."""
    shared, embs, unscoped = {}, {}, {}
    for w in workloads:
        if w.intermediate not in shared:
            shared[w.intermediate] = profile_shared(s, s.work / f"profile-{w.intermediate}", w.intermediate,
                                                    max_examples, args.seed)
        embs[w.name] = profile_embedding(s, s.work / f"profile-{w.intermediate}-embedding-{w.target}",
                                         w.intermediate, [w.target], max_examples, args.seed)
    if args.unscoped_embedding:
        for inter in shared:
            unscoped[inter] = profile_embedding(s, s.work / f"profile-{inter}-embedding-all", inter, None,
                                                max_examples, args.seed)
    return shared, embs, unscoped


def _notes(results: dict, shared: dict, clock: str, left_out: dict) -> list[str]:
    notes = [f"ratios and shares in {clock} seconds (both clocks are in the table and the JSON); "
             f"'profile_over_transfer' is the worst workload"]
    for name, r in results.items():
        d = r["dominant_measure"]
        notes.append(f"{name}: profile/transfer {r['ratio']:.3g} ({clock}), wall {r['ratio_wall']:.3g}; "
                     f"dominant measure {d} ({r['profile']['per_measure_seconds'][d]:.1f} wall s)")
    notes += [f"measures skipped for {i}: {sh['errors']}" for i, sh in shared.items() if sh["errors"]]
    notes += [f"target {t}: {langs} not evaluated (not its languages, or no local data)"
              for t, langs in left_out.items() if langs]
    return notes


def main(argv: Sequence[str] | None = None) -> dict:
    args = _args(argv)
    started = time.perf_counter()
    s = C.setup(NAME, args, argv)
    try:
        C.quiet_transformers()
        try:
            import taskdiff.difficulty.api  # noqa: F401
        except ImportError as exc:
            return C.skipped(s, f"taskdiff.difficulty.api is not available yet ({exc})", started)
        from taskdiff.transfer.training import TrainConfig

        workloads = T.parse_workloads(args.workloads)
        max_examples = (24 if s.smoke else None) if args.max_examples is None else (args.max_examples or None)
        cfg = TrainConfig(epochs=1, batch_size=8, learning_rate=5e-4) if s.smoke else TrainConfig()
        langs, left_out = {}, {}
        for t in dict.fromkeys(w.target for w in workloads):
            langs[t], left_out[t] = T.target_languages(t, s.data_dir, args.languages)
        # profile first, transfer second, each in fresh stores (nothing reused across them)
        shared, embs, unscoped = _run_profiles(s, args, workloads, max_examples)
        transfers = T.run_transfers(s, s.work / "transfer-store", workloads, langs, max_examples, args.seed, cfg)
        clock = C.headline_clock(s)
        results = {w.name: _workload(w, shared[w.intermediate], embs[w.name], transfers[w.name], clock,
                                     unscoped.get(w.intermediate)) for w in workloads}
        ratios, targets = _ratios_and_targets(results)
        table = build_table(workloads, shared, embs, unscoped, results, clock)
        return C.finish(s, {
            "ratios": ratios, "clock": clock, "targets": targets,
            "settings": {"workloads": [w.name for w in workloads], "languages": langs,
                         "languages_left_out": left_out, "max_examples": max_examples, "seed": args.seed,
                         "train_config": cfg.model_dump(), "unscoped_embedding": args.unscoped_embedding},
            "profile": {"shared": shared, "embedding": embs, "unscoped_embedding": unscoped or None,
                        "per_measure_seconds": {i: {k: v["seconds"] for k, v in sh["measures"].items()}
                                                for i, sh in shared.items()}},
            "workloads": results,
            "notes": _notes(results, shared, clock, left_out)}, table, started=started)
    finally:
        s.close()


if __name__ == "__main__":
    main()
