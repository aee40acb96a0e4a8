"""Shared plumbing of the benchmarks: arguments, model and data set-up, machine info, output.

Every benchmark measures *ratios* against a baseline run in the same process, on the same
data and model, because absolute timings on a shared machine are noise. The JSON it writes
has ``ratios`` (name -> float), ``targets`` (name -> {ratio, op, target, met}), the raw
``measurements``, a ``machine`` block and the ``command`` that produced it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = "e5-small-offline"
SMOKE_MODEL = "tiny"
DEFAULT_OUT_DIR = Path("benchmark-results")


def shared_data_dir() -> Path | None:
    """``$TASKDIFF_SHARED_DATA`` or ``../shared/data`` next to the repository, if present."""
    path = Path(os.environ.get("TASKDIFF_SHARED_DATA", REPO.parent / "shared" / "data"))
    return path if (path / "README.md").exists() else None


def offline_env() -> None:
    """No hub, no dataset downloads, no tokenizer thread pools fighting torch for 2 cores."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes; benchmarks add their own."""
    p = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=description)
    p.add_argument("--smoke", action="store_true",
                   help="tiny model on project-made data, a few seconds (for tests)")
    p.add_argument("--model", default=None,
                   help=f"model name or folder (default {DEFAULT_MODEL} with ../shared/data, else tiny)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="data root (default ../shared/data when present, else project-made fixtures)")
    p.add_argument("--out", type=Path, default=None, help=f"JSON output (default {DEFAULT_OUT_DIR}/{name}.json)")
    p.add_argument("--work-dir", type=Path, default=None,
                   help="scratch folder: each run works in a new sub-folder of it, kept (default: a temporary folder, removed)")
    p.add_argument("--threads", default="auto",
                   help="CPU threads for torch and BLAS: a number, or 'auto' = all usable cores unless the "
                        "load average says other processes are busy, then 1 (smoke: 1)")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")
    return p


def choose_threads(requested: str | int | None, smoke: bool = False) -> tuple[int, str]:
    """Threads to use and why (the rule is :func:`taskdiff.threads.choose_threads`'s: all cores
    unless the load average says other processes are busy, then 1). On a shared machine two
    OpenMP threads on two busy cores spend their time waiting for each other (100x slower
    steps were seen), which no ratio survives."""
    from taskdiff.threads import choose_threads as _choose

    if requested not in (None, "auto"):
        why = os.environ.get("TASKDIFF_BENCH_THREADS_REASON")  # set by run_all, which decided
        return max(1, int(requested)), f"run_all: {why}" if why else "requested"
    if smoke:
        return 1, "smoke run"
    choice = _choose("auto", workers=1, env={})
    return choice.threads, choice.reason


def apply_threads(n: int) -> None:
    """Set torch's and the BLAS libraries' (numpy, scikit-learn) thread pools to ``n``
    (:func:`taskdiff.threads.configure_threads`, so runs started later keep this count)."""
    from taskdiff.threads import configure_threads

    configure_threads(int(n), context="benchmark")


@dataclass
class Setup:
    """What a benchmark runs on: model, data, scratch folder, device."""

    name: str
    args: argparse.Namespace
    argv: list[str]
    smoke: bool
    model_name: str
    model_path: str
    data_dir: Path
    data_kind: str  # "shared" (real slices) or "fixture" (project-made)
    work: Path
    device: str
    notes: list[str] = field(default_factory=list)
    _tmp: Any = None
    threads: int = 0

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def setup(name: str, args: argparse.Namespace, argv: Sequence[str] | None,
          fixture_sizes: tuple[int, int] = (512, 256), smoke_sizes: tuple[int, int] = (48, 24)) -> Setup:
    """Resolve model and data: real slices + e5 by default, tiny + fixtures for ``--smoke``."""
    offline_env()
    from taskdiff.transfer.models import resolve_model

    threads, why = choose_threads(getattr(args, "threads", "auto"), bool(args.smoke))
    apply_threads(threads)
    tmp = None
    if args.work_dir is not None:  # a new folder inside it: stores must start empty (no cache hits)
        Path(args.work_dir).mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=args.work_dir))
    else:
        tmp = tempfile.TemporaryDirectory(prefix=f"taskdiff-bench-{name}-")
        work = Path(tmp.name)
    notes: list[str] = [f"threads: {threads} ({why})"]
    shared = shared_data_dir()
    if args.smoke:
        model_name = args.model or SMOKE_MODEL
        data_dir, data_kind = args.data_dir, "shared"
        if data_dir is None:
            data_dir, data_kind = _fixture(work, *smoke_sizes), "fixture"
    else:
        data_dir, data_kind = args.data_dir, "shared"
        if data_dir is None and shared is not None:
            data_dir = shared
        if data_dir is None:
            data_dir, data_kind = _fixture(work, *fixture_sizes), "fixture"
            notes.append("../shared/data not found: project-made fixture data")
        model_name = args.model or (DEFAULT_MODEL if data_kind == "shared" else SMOKE_MODEL)
    model_path = resolve_model(model_name)
    return Setup(name, args, list(argv if argv is not None else sys.argv[1:]), bool(args.smoke), model_name,
                 model_path, Path(data_dir), data_kind, work, device(), notes, tmp, threads)


def _fixture(work: Path, n_train: int, n_eval: int) -> Path:
    from taskdiff.testing.fixtures import make_fixture_data_dir

    return make_fixture_data_dir(work / "fixture-data", n_train=n_train, n_eval=n_eval)


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def sync() -> None:
    """Wait for queued GPU work (no-op on CPU) so that timings are real."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


# ----------------------------------------------------------------------------- machine
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="ignore").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """CPU, cores, library versions, bf16 support, GPU, current load (the machine may be shared)."""
    import numpy
    import torch
    import transformers

    from taskdiff.transfer.precision import cpu_supports_bf16, resolve_precision

    info = {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_bf16_native": cpu_supports_bf16(),
        "precision_auto": resolve_precision("auto"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "cuda": torch.cuda.is_available(),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    with contextlib.suppress(Exception):
        import datasets

        info["datasets"] = datasets.__version__
    with contextlib.suppress(OSError, ValueError):
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_bf16"] = torch.cuda.is_bf16_supported()
    return info


# ----------------------------------------------------------------------------- statistics
def mean_sd(values: Iterable[float]) -> tuple[float, float]:
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not vals:
        return float("nan"), float("nan")
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def median(values: Iterable[float]) -> float:
    vals = [float(v) for v in values]
    return statistics.median(vals) if vals else float("nan")


def ratio(a: float, b: float) -> float:
    """``a / b``, NaN when ``b`` is 0 or missing."""
    try:
        return float(a) / float(b) if b else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def now() -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) - see :func:`headline_clock`."""
    sync()
    return time.perf_counter(), time.process_time()


@contextlib.contextmanager
def stopwatch(store: dict, key: str):
    """``with stopwatch(times, "x"):`` adds the block's wall seconds to ``times["x"]`` and its
    CPU seconds (this process, all threads) to ``times["x_cpu"]``."""
    w0, c0 = now()
    try:
        yield
    finally:
        w1, c1 = now()
        store[key] = store.get(key, 0.0) + w1 - w0
        store[key + "_cpu"] = store.get(key + "_cpu", 0.0) + c1 - c0


def headline_clock(s: "Setup") -> str:
    """``cpu`` when running one thread on a CPU (then this process's CPU seconds are the time a
    dedicated core would take, whatever other processes do), else ``wall``."""
    return "cpu" if s.threads == 1 and s.device == "cpu" else "wall"


def target(ratio_name: str, value: float, op: str, goal: float) -> dict:
    """A target check: ``value op goal`` with op in ``>=`` / ``<=``."""
    ok = (value >= goal) if op == ">=" else (value <= goal)
    return {"ratio": ratio_name, "value": value, "op": op, "target": goal,
            "met": bool(ok) if not math.isnan(value) else False}


# ----------------------------------------------------------------------------- output
def fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def format_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """A plain-text table (also valid Markdown) of ``rows``."""
    if not rows:
        return "(no rows)"
    columns = list(columns or dict.fromkeys(k for r in rows for k in r))
    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda vals: "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
    return "\n".join([line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in cells])


def _jsonable(obj):
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):  # pydantic settings (TrainConfig, Budget)
        return _jsonable(obj.model_dump(mode="json"))
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return _jsonable(obj.item())
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def finish(s: Setup, result: dict, table_rows: Sequence[dict], columns: Sequence[str] | None = None,
           started: float | None = None) -> dict:
    """Add machine, command and set-up to ``result``; print the table; write the JSON."""
    payload = {
        "benchmark": s.name,
        "status": result.pop("status", "ok"),
        "command": "python -m benchmarks." + s.name + (" " + shlex.join(s.argv) if s.argv else ""),
        "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": (time.perf_counter() - started) if started else None,
        "smoke": s.smoke,
        "model": s.model_name,
        "model_path": s.model_path,
        "data_dir": str(s.data_dir),
        "data_kind": s.data_kind,
        "device": s.device,
        "threads": s.threads,
        "ratios": result.pop("ratios", {}),
        "targets": result.pop("targets", {}),
        **result,
        "table": list(table_rows),
        "notes": s.notes + result.pop("notes", []),
        "machine": machine_info(),
    }
    payload["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    payload = _jsonable(payload)
    out = s.args.out or (DEFAULT_OUT_DIR / f"{s.name}.json")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(out)
    if not s.args.quiet:
        print(f"\n## {s.name} ({s.model_name}, {s.data_kind} data, {s.device})")
        print(format_table(table_rows, columns))
        for name, t in payload["targets"].items():
            print(f"target {name}: {fmt(t['value'])} {t['op']} {fmt(t['target'])} -> "
                  f"{'met' if t['met'] else 'NOT met'}")
        for n in payload["notes"]:
            print(f"note: {n}")
        print(f"wrote {out}")
    return payload


def skipped(s: Setup, reason: str, started: float | None = None) -> dict:
    """Write a JSON that says the benchmark could not run, and why."""
    print(f"SKIPPED {s.name}: {reason}", file=sys.stderr)
    return finish(s, {"status": "skipped", "skip_reason": reason, "notes": [f"skipped: {reason}"]}, [],
                  started=started)


def quiet_transformers() -> None:
    """No per-step logging noise during timings: :func:`taskdiff.logs.quiet_libraries`, our notes at warnings."""
    import logging

    from taskdiff.logs import quiet_libraries

    quiet_libraries()
    logging.getLogger("taskdiff").setLevel(logging.WARNING)
