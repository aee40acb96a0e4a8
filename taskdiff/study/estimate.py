"""The dry-run's cost estimate: tokens per run, throughput per model size, hours.

Sizes come, in this order, from the config's ``estimate`` block, from the **local data**
when the study has a ``data_dir`` (:func:`taskdiff.study.calibrate.local_stats`: the real
slices' example counts, capped by ``max_examples`` as the runs cap them, and tokens per
example under the model's tokenizer), else from the task's ``stats:`` block in its YAML file
(:class:`taskdiff.transfer.tasks.config.TaskStats`: published sizes of the English training
sets and typical evaluation sets, rough token means: the hub-sized data a study without
``data_dir`` downloads), or, for tasks without one, an assumption that is flagged.

The formula (documented in ``docs/studies.md``)::

    compute(training run)   = tokens x epochs x F_train / flops_per_s
                              + selection tokens x epochs x F_infer / flops_per_s
    compute(evaluation run) = tokens_eval x F_infer / flops_per_s
    seconds(run)            = overhead(kind) + factor(kind) x compute(run)
    F_train                 = 6 N + 12 L seq h   FLOPs per token (forward + backward)
    F_infer                 = 2 N +  4 L seq h   FLOPs per token (forward)
    study (CPU seconds)     = sum over runs;  wall = CPU seconds / executor workers

where ``N`` is the encoder's non-embedding parameter count (word embeddings are a lookup
and are frozen by default), ``L`` its layers, ``h`` its width and ``seq`` the sequence
length (tokens per example, per choice for multiple choice). ``overhead`` and ``factor``
(:class:`taskdiff.study.calibrate.Calibration`) are fitted to the finished runs in the
study's store when it has some, else defaults measured on the development machine.
``flops_per_s`` is

* **this machine**: measured once by timing training steps of a small probe encoder
  (2 layers, width 256, batch 8 x 128 tokens, AdamW) under the precision and the thread
  count a study worker would use (:mod:`taskdiff.threads`: one per worker when the workers
  fill the cores), stored in ``<store>/study-throughput.json`` per host, threads and
  precision; ``estimate.tokens_per_s: {model: value}`` in the config replaces it by a
  measurement of your own;
* **reference GPU**: :data:`GPU_REFERENCE` (an assumed *effective* 60 TFLOP/s: one A100 in
  bf16 at about 20 % of its peak, padding and data loading included), or
  ``estimate.gpu_flops_per_s``.

A profile is estimated as its budgeted training (3 epochs of at most 1,000 rows) plus
2,000 rows of encoding, calibrated like the runs; the numbers are estimates, not quotes
(``docs/studies.md`` compares them with measured studies).
"""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from taskdiff.errors import ConfigError
from taskdiff.io import atomic_write_json, read_json
from taskdiff.study.calibrate import Calibration, calibration, local_stats, run_records
from taskdiff.study.graph import KINDS
from taskdiff.threads import choose_threads
from taskdiff.transfer.models import load_tokenizer, resolve_model
from taskdiff.transfer.precision import autocast, resolve_precision
from taskdiff.transfer.tasks import get_task

log = logging.getLogger(__name__)

__all__ = ["ARCHITECTURES", "Estimate", "GPU_REFERENCE", "architecture", "estimate_plan",
           "format_plan", "local_flops", "measure_local_flops", "throughput_key", "worker_threads"]

#: Reference GPU for the GPU-hours column: an assumed *effective* training throughput.
GPU_REFERENCE = {"name": "1x A100 (bf16, ~20% of peak, padding included)", "flops_per_s": 60e12}

#: name -> (layers, hidden, ffn) of encoders whose config may not be on this machine.
ARCHITECTURES = {
    "xlm-roberta-large": (24, 1024, 4096), "FacebookAI/xlm-roberta-large": (24, 1024, 4096),
    "xlm-roberta-base": (12, 768, 3072), "FacebookAI/xlm-roberta-base": (12, 768, 3072),
    "bert-base-multilingual-cased": (12, 768, 3072), "google-bert/bert-base-multilingual-cased": (12, 768, 3072),
    "e5-small-offline": (12, 384, 1536), "intfloat/multilingual-e5-small": (12, 384, 1536),
    "intfloat/multilingual-e5-base": (12, 768, 3072), "intfloat/multilingual-e5-large": (24, 1024, 4096),
    "tiny": (2, 64, 128),
}

#: Examples assumed for a task whose YAML has no ``stats:`` block (published sizes: the
#: built-in task files; override in the study config's ``estimate`` block).
ASSUMED_SIZE = 10_000
PROBE = {"layers": 2, "hidden": 256, "ffn": 1024, "heads": 4, "batch": 8, "seq": 128}
THROUGHPUT_FILE = "study-throughput.json"


# ------------------------------------------------------------------------------ models
def non_embedding_params(layers: int, hidden: int, ffn: int) -> int:
    """Weights and biases of the transformer layers (attention, FFN, two layer norms)."""
    per_layer = 4 * hidden * hidden + 4 * hidden + 2 * hidden * ffn + ffn + hidden + 4 * hidden
    return layers * per_layer


def architecture(model: str, store_root: Path | None = None) -> tuple[int, int, int]:
    """``(layers, hidden, ffn)`` of ``model``: the table, a local ``config.json``, or the
    hub cache (offline); raises :class:`ConfigError` when unknown."""
    if model in ARCHITECTURES:
        return ARCHITECTURES[model]
    candidates = [Path(model) / "config.json"]
    for cfg_path in candidates:
        if cfg_path.is_file():
            cfg = json.loads(cfg_path.read_text())
            return int(cfg["num_hidden_layers"]), int(cfg["hidden_size"]), int(cfg["intermediate_size"])
    try:
        from transformers import AutoConfig

        cfg = AutoConfig.from_pretrained(model, local_files_only=True)
        return int(cfg.num_hidden_layers), int(cfg.hidden_size), int(cfg.intermediate_size)
    except Exception:  # noqa: BLE001 - not in the cache
        raise ConfigError(f"cost estimate: unknown architecture of model {model!r} (not in the table, no local "
                          "config); give estimate.tokens_per_s for it in the study config") from None


def flops_per_token(arch: tuple[int, int, int], seq: float, train: bool) -> float:
    """FLOPs per token: 6N + 12 L seq h (training) or 2N + 4 L seq h (inference)."""
    layers, hidden, ffn = arch
    n = non_embedding_params(layers, hidden, ffn)
    return (6 * n + 12 * layers * seq * hidden) if train else (2 * n + 4 * layers * seq * hidden)


# ------------------------------------------------------------------------------ throughput
def measure_local_flops(steps: int = 2, threads: int | None = None, precision: str = "auto") -> dict:
    """Time ``steps`` training steps of the probe encoder on this machine's CPU/GPU, with
    ``threads`` intra-op threads (restored afterwards) under ``precision`` autocast."""
    import torch
    from transformers import BertConfig, BertModel


    p = PROBE
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    precision = resolve_precision(precision)
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=1000, hidden_size=p["hidden"], num_hidden_layers=p["layers"],
                                 num_attention_heads=p["heads"], intermediate_size=p["ffn"],
                                 max_position_embeddings=512))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).train()
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-5)
    ids = torch.randint(5, 1000, (p["batch"], p["seq"]), device=device)

    def step():
        with autocast(precision):
            loss = model(input_ids=ids).last_hidden_state.float().pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    try:
        step()  # warm-up
        if device == "cuda":
            torch.cuda.synchronize()
        used = torch.get_num_threads()
        # one CPU thread: this process's CPU seconds are what a dedicated core takes, whatever
        # else runs on the machine (wall seconds of a probe on a busy machine mean little)
        clock = time.process_time if device == "cpu" and used == 1 else time.perf_counter
        start = clock()
        for _ in range(steps):
            step()
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = (clock() - start) / steps
    finally:
        torch.set_num_threads(before)
    tokens = p["batch"] * p["seq"]
    flops = tokens * flops_per_token((p["layers"], p["hidden"], p["ffn"]), p["seq"], train=True)
    return {"flops_per_s": flops / seconds, "tokens_per_s": tokens / seconds, "seconds_per_step": seconds,
            "device": device, "threads": used, "precision": precision, "probe": dict(p),
            "clock": "cpu" if clock is time.process_time else "wall",
            "measured": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": platform.node()}


def worker_threads(workers: int) -> int:
    """The threads a study worker gets (:func:`taskdiff.threads.choose_threads` for ``workers``)."""

    return choose_threads(None, workers=max(1, workers)).threads


def throughput_key(threads: int, precision: str) -> str:
    """Key of a probe measurement in ``study-throughput.json``: host, threads, precision."""
    return f"{platform.node()}/threads={threads}/{precision}/v2"


def local_flops(store_root: Path | None, *, remeasure: bool = False, workers: int = 1) -> dict:
    """This machine's probe measurement for a study of ``workers`` worker processes: stored
    under ``<store>/study-throughput.json`` (per host, thread count and precision), measured
    (and stored) when absent or ``remeasure``."""

    path = Path(store_root) / THROUGHPUT_FILE if store_root is not None else None
    threads = worker_threads(workers)
    key = throughput_key(threads, resolve_precision("auto"))
    stored: dict = {}
    if path is not None and path.is_file():
        try:
            stored = read_json(path) or {}
        except Exception:  # noqa: BLE001 - a damaged file is measured again
            stored = {}
    if key in stored and not remeasure:
        return dict(stored[key], source=f"stored in {path}")
    result = measure_local_flops(threads=threads)
    if path is not None:
        stored[key] = result
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, stored)
    return dict(result, source="measured now")


# ------------------------------------------------------------------------------ the estimate
@dataclass
class Estimate:
    """Per-phase and per-task totals of a plan (``rows``: dicts, see :func:`estimate_plan`)."""

    phases: dict[str, dict] = field(default_factory=dict)
    tasks: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    throughput: dict[str, dict] = field(default_factory=dict)
    local: dict | None = None
    workers: int = 1
    calibration: object = None
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> dict:
        keys = ("runs", "tokens", "cpu_hours", "gpu_hours")
        return {k: sum(p.get(k) or 0 for p in self.phases.values()) for k in keys}

    @property
    def wall_hours(self) -> float | None:
        """CPU hours of all phases spread over the executor's workers (None without a CPU figure)."""
        if any(p.get("cpu_hours") is None for p in self.phases.values()):
            return None
        return sum(p["cpu_hours"] for p in self.phases.values()) / max(1, self.workers)


@dataclass
class _Stats:
    n_train: float
    n_selection: float
    n_eval: dict
    tokens: float
    choices: int
    source: str


def _stats(study, name: str, notes: list[str], cache: dict, tokenizer=None) -> _Stats:
    """Sizes of ``name``: the config's estimate block, the local data, or the task YAML's published stats."""

    if name in cache:
        return cache[name]
    est = study.config.estimate
    task = get_task(name)
    langs = study.languages_of(name) if name in study.config.targets else []
    if task.components and name not in est.sizes:
        parts = [_stats(study, c, notes, cache, tokenizer) for c in task.components]
        n = sum(p.n_train for p in parts)
        tok = sum(p.n_train * p.tokens for p in parts) / n if n else parts[0].tokens
        out = _Stats(n, sum(p.n_selection for p in parts), {}, tok, max(p.choices for p in parts), "components")
        cache[name] = out
        return out
    local = None if name in est.sizes else local_stats(study, name, langs, tokenizer)
    table = task.stats  # published sizes from the task's YAML (None: unknown)
    cap = study.config.max_examples
    if local is not None:
        n_train, n_sel, n_eval = local.n_train, local.n_selection, dict(local.n_eval)
        tok, choices, source = local.tokens_per_example, local.choices, "local data"
    else:
        n_train = est.sizes.get(name, table.train_examples if table else ASSUMED_SIZE)
        n_train = min(n_train, cap) if cap else n_train
        n_sel = min(1_000, n_train)
        n_eval = {}
        tok = table.tokens_per_example if table else float(min(task.max_length, 64))
        choices, source = table.choices if table else 1, "config" if name in est.sizes else "table" if table else "assumed"
        if source == "assumed":
            notes.append(f"task {name}: size unknown, assumed {ASSUMED_SIZE:,} examples of {tok:.0f} tokens "
                         "(set estimate.sizes / estimate.tokens_per_example, or give a data_dir)")
    default_eval = est.eval_sizes.get(name, table.eval_examples if table else ASSUMED_SIZE)
    default_eval = min(default_eval, cap) if cap else default_eval
    n_eval = {l: n_eval.get(l, default_eval) for l in langs} if name not in est.eval_sizes else \
        {l: default_eval for l in langs}
    tok = est.tokens_per_example.get(name, tok)
    cache[name] = _Stats(float(n_train), float(n_sel), n_eval, float(tok), choices, source)
    return cache[name]


def _tokenizer(study, model: str):
    """The model's tokenizer when it is available offline (None: token counts from words)."""
    try:

        return load_tokenizer(resolve_model(model, study.store))
    except Exception:  # noqa: BLE001 - not local: words x 1.3
        return None


def _compute(st: _Stats, kind: str, tc, arch, seq: float, flops: float, language: str | None = None) -> tuple:
    """(tokens, compute seconds at ``flops`` FLOP/s) of one run (before calibration)."""
    if kind == "evaluation":
        n = st.n_eval.get(language, next(iter(st.n_eval.values()), 0.0)) if st.n_eval else 0.0
        tokens = n * st.tokens
        return tokens, tokens * flops_per_token(arch, seq, False) / flops
    if kind == "profile":  # the default budget: 3 epochs x <= 1,000 rows, plus ~2,000 rows encoded
        train_tokens = 3 * min(st.n_train or 1_000, 1_000) * st.tokens
        infer_tokens = 2_000 * st.tokens
    else:
        epochs = tc.epochs
        if tc.max_steps and tc.max_steps > 0:
            epochs = tc.max_steps * tc.batch_size * tc.gradient_accumulation_steps / max(st.n_train, 1)
        train_tokens = st.n_train * epochs * st.tokens
        infer_tokens = st.n_selection * (epochs + 1) * st.tokens  # a selection pass per epoch, and the final one
    seconds = (train_tokens * flops_per_token(arch, seq, True) + infer_tokens * flops_per_token(arch, seq, False)) / flops
    return train_tokens, seconds


def estimate_plan(study, plan, *, local: dict | None = None, gpu_flops: float | None = None) -> Estimate:
    """Tokens and hours of every distinct run of ``plan``, summed per phase and per task.

    ``local`` is a :func:`local_flops` record (None: no CPU column).
    """

    cfg = study.config
    est = Estimate(local=local, workers=max(1, cfg.executor.workers or 1))
    gpu_flops = gpu_flops or cfg.estimate.gpu_flops_per_s or GPU_REFERENCE["flops_per_s"]
    arch = {m: architecture(m) if m not in cfg.estimate.tokens_per_s else None for m in cfg.models}
    for m in cfg.models:
        if m in cfg.estimate.tokens_per_s:
            est.throughput[m] = {"cpu_tokens_per_s": cfg.estimate.tokens_per_s[m], "source": "config"}
        else:
            layers, hidden, ffn = arch[m]
            f = flops_per_token(arch[m], 128, train=True)
            est.throughput[m] = {"params_non_embedding": non_embedding_params(layers, hidden, ffn),
                                 "cpu_tokens_per_s": local["flops_per_s"] / f if local else None,
                                 "gpu_tokens_per_s": gpu_flops / f, "source": (local or {}).get("source", "")}
    caches = {m: {} for m in cfg.models}
    tokenizers = {m: _tokenizer(study, m) if study.data_dir is not None else None for m in cfg.models}

    def stats(model, task):
        return _stats(study, task, est.notes, caches[model], tokenizers[model])

    def seq_of(st, task):
        return min(st.tokens / max(st.choices, 1), get_task(task).max_length)

    def compute(model, kind, task, language=None, epochs=None):
        st = stats(model, task)
        tc = cfg.intermediate_train if kind == "intermediate" else cfg.target_train
        if epochs is not None:
            tc = tc.model_copy(update={"epochs": epochs, "max_steps": -1})
        flops = local["flops_per_s"] if local else gpu_flops
        return _compute(st, kind, tc, arch[model], seq_of(st, task), flops, language) if arch[model] else (0.0, None)

    single = cfg.models[0] if len(cfg.models) == 1 and arch[cfg.models[0]] and local else None
    known = set(study.intermediates) | set(cfg.targets)
    cal = Calibration()
    if single is not None:  # runs already in the store: fit the fixed cost and the rate to them
        records = [r for r in run_records(study.store) if r["task"] in known]
        kinds = {"study_profile": "profile"}
        cal = calibration(records, lambda r: compute(single, kinds.get(r["kind"], r["kind"]), r["task"],
                                                     r.get("language"), r.get("epochs"))[1])
    est.calibration = cal
    per_task: dict[tuple, dict] = {}
    for n in plan.runs():
        phase = est.phases.setdefault(n.kind, {"runs": 0, "tokens": 0.0, "cpu_hours": 0.0, "gpu_hours": 0.0})
        phase["runs"] += 1
        st = stats(n.model, n.task)
        est.sources[n.task] = st.source
        tokens, _ = compute(n.model, n.kind, n.task, n.language)
        cpu_s = _cpu_seconds(cfg, n, tokens, compute, cal, local)
        gpu_s = _gpu_seconds(n, compute, arch, gpu_flops, local, cal)
        examples = (st.n_eval.get(n.language, 0) if n.kind == "evaluation" else st.n_train)
        phase["tokens"] += tokens
        phase["cpu_hours"] = None if cpu_s is None or phase["cpu_hours"] is None else phase["cpu_hours"] + cpu_s / 3600
        phase["gpu_hours"] += gpu_s / 3600 if gpu_s is not None else 0.0
        row = per_task.setdefault((n.kind, n.task), {"phase": n.kind, "task": n.task, "runs": 0, "examples": examples,
                                                     "tokens": 0.0, "cpu_hours": 0.0, "gpu_hours": 0.0,
                                                     "source": st.source})
        row["runs"] += 1
        row["tokens"] += tokens
        row["cpu_hours"] = None if cpu_s is None or row["cpu_hours"] is None else row["cpu_hours"] + cpu_s / 3600
        row["gpu_hours"] += gpu_s / 3600 if gpu_s is not None else 0.0
    est.tasks = list(per_task.values())
    if local is None and not cfg.estimate.tokens_per_s:
        est.notes.append("no CPU measurement: CPU hours not estimated")
    return est


def _cpu_seconds(cfg, n, tokens, compute, cal, local):
    given = cfg.estimate.tokens_per_s.get(n.model)
    if given is not None:  # a measured training throughput; inference is ~3x faster
        return tokens / (given * (1 if n.kind in ("intermediate", "target", "profile") else 3))
    if local is None:
        return None
    return cal.seconds(n.kind, compute(n.model, n.kind, n.task, n.language)[1])


def _gpu_seconds(n, compute, arch, gpu_flops, local, cal):
    if arch.get(n.model) is None:
        return None
    cpu_compute = compute(n.model, n.kind, n.task, n.language)[1]
    if cpu_compute is None:
        return None
    scale = (local["flops_per_s"] / gpu_flops) if local else 1.0
    return cpu_compute * scale  # no calibration: the reference GPU's rate is an assumption


# ------------------------------------------------------------------------------ printing
def _num(x, unit: str = "") -> str:
    if x is None:
        return "n/a"
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.1f}{suffix}{unit}"
    return f"{x:.0f}{unit}" if abs(x) >= 10 or x == 0 else f"{x:.2g}{unit}"


def _hours(x) -> str:
    if x is None:
        return "n/a"
    if x >= 24 * 365:
        return f"{x / (24 * 365):,.1f} years"
    if x >= 48:
        return f"{x:,.0f} h"
    return f"{x:.2f} h" if x >= 0.01 else f"{x * 3600:.1f} s"


def _gpu(x) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.1f}" if x >= 0.1 or x == 0 else f"{x:.2g}"


def format_plan(study, plan, est: Estimate | None, *, list_nodes: bool = False) -> str:
    """The dry-run text: the grid, counts per phase, the estimate, and (optionally) every node."""
    cfg = study.config
    lines = [f"study {cfg.name} ({study.source})",
             f"  models:        {', '.join(cfg.models)}",
             f"  intermediates: {', '.join(study.intermediates)}  ({len(study.intermediates)}, plus the baseline 'none')",
             f"  seeds:         {', '.join(map(str, cfg.seeds))}",
             f"  targets ({len(cfg.targets)}):"]

    for t in cfg.targets:
        task = get_task(t)
        langs = study.languages_of(t)
        kind = "trained + evaluated" if task.trainable else "retrieval, not trained"
        shown = ",".join(langs) if len(langs) <= 12 else ",".join(langs[:12]) + ",..."
        lines.append(f"    {t:<10} {len(langs):>3} language(s) [{shown}]  {kind}")
    lines.append(f"  data: {study.data_dir or 'hub (no data_dir): published sizes'}"
                 f"{' (example counts and tokens read from it)' if study.data_dir else ''}; "
                 f"max_examples: {cfg.max_examples or 'all'}")
    lines.append(f"  measures: {', '.join(cfg.measures) or '(none: no profiles)'}")
    lines.append("")
    header = f"  {'phase':<13}{'runs':>7}{'tokens':>12}{'CPU (this machine)':>22}{'GPU-hours (ref.)':>20}"
    lines.append(header)
    counts = plan.counts()

    for kind in KINDS:
        p = (est.phases.get(kind) if est else None) or {}
        gpu = p.get("gpu_hours")
        tokens = _num(p.get("tokens")) if p else ""
        lines.append(f"  {kind:<13}{counts[kind]:>7}{tokens:>12}"
                     f"{_hours(p.get('cpu_hours')) if p else '':>22}{_gpu(gpu) if p else '':>20}")
    if est:
        tot = est.total
        cpu_total = None if any(p.get("cpu_hours") is None for p in est.phases.values()) else \
            sum(p.get("cpu_hours") or 0 for p in est.phases.values())
        lines.append(f"  {'total':<13}{sum(counts.values()):>7}{_num(tot['tokens']):>12}{_hours(cpu_total):>22}"
                     f"{_gpu(tot['gpu_hours']):>20}")
        wall = est.wall_hours
        if wall is not None:
            lines.append(f"  wall time here with {est.workers} worker(s): about {_hours(wall)} "
                         f"(CPU total / workers; expect up to 2x either way on a shared machine)")
        lines.append("")
        lines.append("  per task (tokens include epochs; examples per run, capped by max_examples):")
        for row in sorted(est.tasks, key=lambda r: (KINDS.index(r["phase"]), -r["tokens"])):
            lines.append(f"    {row['phase']:<13}{row['task']:<16}{row['runs']:>5} runs x {_num(row['examples']):>6} ex"
                         f"  {_num(row['tokens']):>8} tokens  CPU {_hours(row['cpu_hours']):>14}"
                         f"  GPU {_gpu(row['gpu_hours'])} h  ({row.get('source', '')})")
        lines.append("")
        for m, t in est.throughput.items():
            if t.get("source") == "config":
                lines.append(f"  throughput {m}: {t['cpu_tokens_per_s']:,.0f} training tokens/s (from the config)")
                continue
            cpu = f"{t['cpu_tokens_per_s']:,.1f}" if t.get("cpu_tokens_per_s") else "n/a"
            lines.append(f"  throughput {m} ({t['params_non_embedding'] / 1e6:,.1f}M non-embedding parameters): "
                         f"{cpu} training tokens/s here, {t['gpu_tokens_per_s']:,.0f} on the reference GPU")
        local = next((t for t in est.throughput.values() if t.get("source") not in (None, "", "config")), None)
        if local is not None and est.local:
            lines.append(f"  this machine: {est.local['flops_per_s'] / 1e9:,.1f} GFLOP/s effective on "
                         f"{est.local.get('device', 'cpu')} ({est.local.get('threads', '?')} threads; probe "
                         f"{est.local.get('seconds_per_step', 0):.2f} s/step; {est.local.get('source', '')})")
        lines.append(f"  formula: compute = tokens x epochs x (6N + 12 L seq h) / FLOP/s (training, plus a selection "
                     f"pass per epoch), tokens x (2N + 4 L seq h) / FLOP/s (evaluation); per run seconds = "
                     f"overhead + factor x compute, summed over runs")
        cal = est.calibration
        if cal is not None:
            lines.append("  per-run calibration: " + ", ".join(
                f"{g} {cal.overhead[g]:.0f} s + {cal.factor[g]:.2f} x compute" for g in sorted(cal.overhead))
                + f" ({cal.source})")
        lines.append(f"  reference GPU: {GPU_REFERENCE['name']} = "
                     f"{(cfg.estimate.gpu_flops_per_s or GPU_REFERENCE['flops_per_s']) / 1e12:.0f} TFLOP/s effective"
                     f"{' (from the config)' if cfg.estimate.gpu_flops_per_s else ''}")
        for note in est.notes:
            lines.append(f"  note: {note}")
    if list_nodes:
        lines.append("")
        lines.append("  runs:")
        for n in plan.runs():
            lines.append(f"    {n.label}")
    return "\n".join(lines)
