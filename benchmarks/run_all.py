"""Run every benchmark and write their JSON plus a summary into ``--out-dir``.

``make bench`` runs ``python -m benchmarks.run_all``: e5-small-offline on ../shared/data when
present (else the tiny model on project-made data). ``--smoke`` runs every benchmark's smoke
path (seconds each). The thread count is decided once, before anything runs, and passed to
every benchmark, so that one benchmark's own load does not change the next one's setting.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import shlex
import sys
import time
import traceback
from pathlib import Path
from typing import Sequence

from benchmarks import BENCHMARKS
from benchmarks import _common as C


def _args(argv: Sequence[str] | None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--model", default=None)
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--out-dir", type=Path, default=C.DEFAULT_OUT_DIR)
    p.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    p.add_argument("--skip", default=None, help="comma-separated benchmarks to leave out")
    p.add_argument("--threads", default="auto")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict:
    args = _args(argv)
    C.offline_env()
    names = [n.strip() for n in args.only.split(",")] if args.only else list(BENCHMARKS)
    skip = {n.strip() for n in args.skip.split(",")} if args.skip else set()
    unknown = [n for n in names + sorted(skip) if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmarks {unknown}; known: {', '.join(BENCHMARKS)}")
    names = [n for n in names if n not in skip]
    threads, why = C.choose_threads(args.threads, args.smoke)
    previous = os.environ.get("TASKDIFF_BENCH_THREADS_REASON")
    os.environ["TASKDIFF_BENCH_THREADS_REASON"] = why
    try:
        return _run(args, names, threads, why, argv)
    finally:
        if previous is None:
            os.environ.pop("TASKDIFF_BENCH_THREADS_REASON", None)
        else:
            os.environ["TASKDIFF_BENCH_THREADS_REASON"] = previous


def _run(args, names: list[str], threads: int, why: str, argv) -> dict:
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    common = (["--smoke"] if args.smoke else []) + (["--model", args.model] if args.model else []) \
        + (["--data-dir", str(args.data_dir)] if args.data_dir else []) + ["--threads", str(threads)] \
        + (["--quiet"] if args.quiet else [])
    given = list(argv) if argv is not None else sys.argv[1:]
    summary = {"command": "python -m benchmarks.run_all" + (" " + shlex.join(given) if given else ""),
               "threads": threads, "threads_reason": why, "benchmarks": {}}
    started = time.perf_counter()
    for name in names:
        out = out_dir / f"{name}.json"
        t0 = time.perf_counter()
        print(f"\n=== {name} ===", flush=True)
        try:
            payload = importlib.import_module(f"benchmarks.{name}").main(common + ["--out", str(out)])
            summary["benchmarks"][name] = {"status": payload.get("status", "ok"), "json": str(out),
                                           "seconds": time.perf_counter() - t0, "ratios": payload.get("ratios"),
                                           "targets": payload.get("targets")}
        except Exception as exc:  # one failing benchmark must not hide the others' results
            traceback.print_exc()
            summary["benchmarks"][name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                                           "seconds": time.perf_counter() - t0}
        gc.collect()
    summary["wall_seconds"] = time.perf_counter() - started
    summary["machine"] = C.machine_info()
    rows = summary_rows(summary)
    (out_dir / "summary.json").write_text(json.dumps(C._jsonable(summary), indent=2) + "\n")
    (out_dir / "summary.md").write_text(C.format_table(rows) + "\n")
    print("\n## summary (threads: %d, %s)" % (threads, why))
    print(C.format_table(rows))
    print(f"wrote {out_dir / 'summary.json'}")
    if any(b["status"] == "error" for b in summary["benchmarks"].values()):
        raise SystemExit(1)
    return summary


def summary_rows(summary: dict) -> list[dict]:
    rows = []
    for name, b in summary["benchmarks"].items():
        if b["status"] != "ok":
            rows.append({"benchmark": name, "ratio": b["status"], "value": b.get("error", ""), "target": "",
                         "met": ""})
            continue
        for t in (b.get("targets") or {}).values():
            rows.append({"benchmark": name, "ratio": t["ratio"], "value": t["value"],
                         "target": f"{t['op']} {C.fmt(t['target'])}", "met": t["met"]})
    return rows


if __name__ == "__main__":
    main()
