"""Training throughput: our target-task training vs a plain and a tuned ``transformers.Trainer``.

Every task format is measured (:data:`FORMATS`: pair classification on SNLI, tagging on UD
English POS, extractive QA on TyDi QA's English carve, multiple choice on Social IQa, and
regression on STS-B when its data is there), each with the same three configurations:

*Ours* is :func:`taskdiff.transfer.training.train_phase` with the default
:class:`~taskdiff.transfer.training.TrainConfig` (bf16 autocast where native, frozen word
embeddings, dynamic padding, length-grouped batches, an epoch checkpoint). *Plain* is a
``transformers.Trainer`` with default arguments: fp32, every parameter trained, inputs padded
to ``max_length`` (128), the random sampler. *Tuned* is the ``Trainer`` a careful user would
set up: dynamic padding (the format's own collator), ``group_by_length`` and bf16 **on a GPU
only** (on a CPU the ``Trainer``'s bf16 is autocast too, but users rarely turn it on there;
``--tuned-bf16-cpu`` does). All three train the same freshly initialised model (same seed) on
the same rows, encoded by the format's own ``encode`` (so tokenisation is identical), with the
same batch size, learning rate and number of epochs, then are scored on the same held-out
English rows by the same fp32 inference code and the task's metric. Seeds are interleaved
(plain, ours, tuned / tuned, ours, plain, ...) so that load from other processes hits all alike.

Throughput = training examples / seconds of the whole call (set-up, the steps, checkpoint),
and separately of the optimisation steps alone. Tokens/s counts real (non-pad) tokens,
identical for all, so its ratio equals the examples/s ratio; the padded tokens per example
show what dynamic padding removes. For pair classification, one ablation row per speed
feature switches that feature on in the plain set-up.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Sequence

from benchmarks import _common as C

NAME = "train_throughput"
#: format -> the task it is measured on (a task with English training data in the slices and
#: in the project-made fixture data; STS-B only in the slices).
FORMATS = {"pair_classification": "snli", "tagging": "ud_en_pos", "extractive_qa": "tydiqa",
           "multiple_choice": "siqa", "regression": "stsb"}
HEADLINE = "pair_classification"
MAX_LENGTH = 128


def _load(s: C.Setup, task_name: str, n_train: int | None, n_dev: int):
    """(task, format, labels, train rows, dev rows) of ``task_name`` (None if no local data)."""
    from taskdiff.transfer.data import available_splits, load_role
    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.phases import task_labels
    from taskdiff.transfer.tasks import get_task

    task = get_task(task_name)
    if not available_splits(task, s.data_dir, "en"):
        return None
    train = load_role(task, "train", "en", s.data_dir).rows[:n_train]  # n_train None: all
    dev = load_role(task, "selection", "en", s.data_dir).rows[:n_dev]
    return task, get_format(task.format), task_labels(task, train), train, dev


class _Clock:
    """Trainer callback + forward pre-hook: step time (no saves/evals), tokens seen in training."""

    def __init__(self):
        self.marks: list[tuple[str, float]] = []
        self.padded_tokens = 0
        self.real_tokens = 0
        self.examples = 0

    def callback(self):
        from transformers import TrainerCallback

        clock = self

        class _CB(TrainerCallback):
            def on_train_begin(self, args, state, control, **kw):
                clock.marks.append(("begin", *C.now()))

            def on_step_end(self, args, state, control, **kw):
                clock.marks.append(("step", *C.now()))

            def on_save(self, args, state, control, **kw):
                clock.marks.append(("save", *C.now()))

            def on_evaluate(self, args, state, control, **kw):
                clock.marks.append(("eval", *C.now()))

            def on_log(self, args, state, control, **kw):
                clock.marks.append(("log", *C.now()))

        return _CB()

    def hook(self, module, args, kwargs):
        if not module.training:
            return
        ids = kwargs.get("input_ids")
        mask = kwargs.get("attention_mask")
        if ids is not None:
            self.padded_tokens += int(ids.numel())
            self.examples += int(ids.shape[0])
        if mask is not None:
            self.real_tokens += int(mask.sum())

    def step_seconds(self, cpu: bool = False) -> float:
        """Sum of the intervals that end in a step (data loading + forward + backward + update)."""
        total, last = 0.0, None
        for kind, wall, proc in self.marks:
            t = proc if cpu else wall
            if last is not None and kind == "step":
                total += t - last
            last = t
        return total

    def other_seconds(self, cpu: bool = False) -> float:
        """Intervals ending in a save / eval / log (checkpoints, logging)."""
        total, last = 0.0, None
        for kind, wall, proc in self.marks:
            t = proc if cpu else wall
            if last is not None and kind not in ("step", "begin"):
                total += t - last
            last = t
        return total


def _dev_score(model, tokenizer, fmt, task, dev, labels) -> float:
    """The task's primary metric (0-100) on ``dev`` by the same fp32 inference code for all."""
    from taskdiff.transfer.evaluation import predict, score
    from taskdiff.transfer.phases import primary_key

    if not dev:
        return float("nan")
    preds = predict(model, tokenizer, fmt, dev, labels, MAX_LENGTH, precision="fp32")
    return float(score(task.metric, preds, fmt.references(dev))[primary_key(task.metric)])


def run_ours(s: C.Setup, w: dict, seed: int, epochs: float, lr: float, batch: int) -> dict:
    """``train_phase`` with the default TrainConfig (only epochs / lr / batch size matched)."""
    import torch
    from transformers import set_seed

    from taskdiff.transfer.models import build_model, load_tokenizer
    from taskdiff.transfer.precision import resolve_precision
    from taskdiff.transfer.training import TrainConfig, train_phase

    fmt, labels = w["fmt"], w["labels"]
    tok = load_tokenizer(s.model_path)
    set_seed(seed)
    model = build_model(fmt, s.model_path, labels).to(s.device)
    cfg = TrainConfig(epochs=epochs, learning_rate=lr, batch_size=batch)
    clock = _Clock()
    handle = model.register_forward_pre_hook(clock.hook, with_kwargs=True)
    out_dir = s.work / f"ours-{seed}-{time.monotonic_ns()}"
    w0, c0 = C.now()
    trainer = train_phase(model, tok, fmt, w["train"], labels, cfg, out_dir, seed, None, w["task"].metric,
                          max_length=MAX_LENGTH, progress=False, callbacks=[clock.callback()])
    w1, c1 = C.now()
    handle.remove()
    acc = _dev_score(trainer.model, tok, fmt, w["task"], w["dev"], labels)
    trained = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    del trainer, model
    _cleanup(out_dir)
    return _row("ours (train_phase, default TrainConfig)", "ours", seed, w1 - w0, c1 - c0, clock, acc, trained,
                fmt=fmt.name, precision=resolve_precision(cfg.precision), freeze=cfg.freeze_embeddings,
                dynamic=True, grouped=cfg.group_by_length, torch_threads=torch.get_num_threads())


class _PadTo:
    """Collate with the format's collator, then pad every sequence tensor to ``width``
    (``padding="max_length"``: what a plain ``Trainer`` set-up feeds the model)."""

    def __init__(self, inner, pad_id: int, width: int = MAX_LENGTH):
        self.inner, self.pad_id, self.width = inner, pad_id, width

    def __call__(self, features):
        import torch.nn.functional as F

        batch = dict(self.inner([{k: v for k, v in f.items() if k != "length"} for f in features]))
        batch.pop("example_index", None)
        seq = batch["input_ids"].shape[-1]
        for key, value in batch.items():
            if value.ndim >= 2 and value.shape[-1] == seq and seq < self.width:
                fill = self.pad_id if key == "input_ids" else (-100 if key == "labels" else 0)
                batch[key] = F.pad(value, (0, self.width - seq), value=fill)
        return batch


class _NoIndex:
    """The format's collator without ``example_index`` (not a model input)."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, features):
        batch = dict(self.inner([{k: v for k, v in f.items() if k != "length"} for f in features]))
        batch.pop("example_index", None)
        return batch


def _dataset(fmt, tok, w: dict, grouped: bool):
    """The format's training features as a ``datasets.Dataset`` (``length``: tokens per feature)."""
    import datasets
    import numpy as np

    feats = fmt.encode(w["train"], tok, w["labels"], MAX_LENGTH, train=True).features
    rows = [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.items()} for f in feats]
    if grouped:
        for r in rows:
            ids = r["input_ids"]  # multiple choice: one list per choice
            r["length"] = sum(len(x) for x in ids) if ids and isinstance(ids[0], list) else len(ids)
    return datasets.Dataset.from_list(rows)


def run_plain(s: C.Setup, w: dict, seed: int, epochs: float, lr: float, batch: int, *,
              bf16: bool = False, fp16: bool = False, freeze: bool = False, dynamic: bool = False,
              grouped: bool = False,
              label: str = "plain Trainer (fp32, all params, pad 128, random)", key: str = "plain") -> dict:
    """A ``Trainer`` fine-tuning with default arguments; optionally speed features on (the
    tuned baseline: dynamic padding + ``group_by_length`` (+ bf16 on a GPU))."""
    import torch
    from transformers import Trainer, TrainingArguments, set_seed

    from taskdiff.transfer.models import build_model, freeze_word_embeddings, load_tokenizer

    fmt, labels = w["fmt"], w["labels"]
    tok = load_tokenizer(s.model_path)
    set_seed(seed)
    model = build_model(fmt, s.model_path, labels).to(s.device)
    clock = _Clock()
    handle = model.register_forward_pre_hook(clock.hook, with_kwargs=True)
    out_dir = s.work / f"{key}-{seed}-{time.monotonic_ns()}"
    w0, c0 = C.now()
    dataset = _dataset(fmt, tok, w, grouped)
    if freeze:
        freeze_word_embeddings(model)
    extra = {"train_sampling_strategy": "group_by_length"} if grouped else {}
    args = TrainingArguments(output_dir=str(out_dir), per_device_train_batch_size=batch, num_train_epochs=epochs,
                             learning_rate=lr, seed=seed, data_seed=seed, bf16=bf16, fp16=fp16,
                             use_cpu=not torch.cuda.is_available(), report_to="none", disable_tqdm=True,
                             save_strategy="no", remove_unused_columns=False, **extra)
    collate = _NoIndex(fmt.collator(tok)) if dynamic else _PadTo(fmt.collator(tok), tok.pad_token_id)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=collate,
                      processing_class=tok, callbacks=[clock.callback()])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    trainer.train()
    w1, c1 = C.now()
    handle.remove()
    acc = _dev_score(trainer.model, tok, fmt, w["task"], w["dev"], labels)
    trained = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    del trainer, model
    _cleanup(out_dir)
    return _row(label, key, seed, w1 - w0, c1 - c0, clock, acc, trained, fmt=fmt.name,
                precision="bf16" if bf16 else "fp16" if fp16 else "fp32",
                freeze=freeze, dynamic=dynamic, grouped=grouped, torch_threads=torch.get_num_threads())


def tuned_options(device: str, bf16_cpu: bool = False) -> dict:
    """The tuned ``Trainer``: dynamic padding, ``group_by_length``, bf16 on a GPU (or when asked)."""
    bf16 = (device == "cuda" and _cuda_bf16()) or bf16_cpu
    return dict(dynamic=True, grouped=True, bf16=bf16, key="tuned",
                label=f"tuned Trainer ({'bf16, ' if bf16 else ''}dynamic padding, group_by_length)")


def _cuda_bf16() -> bool:
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def _cleanup(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _row(label, key, seed, wall, cpu, clock: _Clock, acc, trained, **kw) -> dict:
    n = clock.examples
    out = {"config": label, "key": key, "seed": seed, "examples": n}
    for c, total, steps, other in (("wall", wall, clock.step_seconds(), clock.other_seconds()),
                                   ("cpu", cpu, clock.step_seconds(True), clock.other_seconds(True))):
        out.update({f"{c}_s": total, f"steps_{c}_s": steps, f"other_{c}_s": other,
                    f"examples_per_{c}_s": C.ratio(n, total), f"step_examples_per_{c}_s": C.ratio(n, steps),
                    f"real_tokens_per_{c}_s": C.ratio(clock.real_tokens, total)})
    return {**out, "real_tokens": clock.real_tokens,
            "padded_tokens_per_example": C.ratio(clock.padded_tokens, n), "dev_accuracy": acc,
            "trained_params": trained, **kw}


def _summary(rows: list[dict], key: str) -> dict:
    mine = [r for r in rows if r["key"] == key]
    out = {"config": mine[0]["config"], "key": key, "runs": len(mine)}
    fields = ["padded_tokens_per_example", "dev_accuracy"]
    for c in ("wall", "cpu"):
        fields += [f"examples_per_{c}_s", f"step_examples_per_{c}_s", f"real_tokens_per_{c}_s", f"{c}_s"]
    for field in fields:
        out[field], out[field + "_sd"] = C.mean_sd(r[field] for r in mine)
    out["precision"] = mine[0]["precision"]
    out["trained_params"] = mine[0]["trained_params"]
    return out


def _tokenise_seconds(s: C.Setup, w: dict) -> float:
    """Tokenising the training rows with the format (what an encode cache would save)."""
    from taskdiff.transfer.models import load_tokenizer

    tok = load_tokenizer(s.model_path)
    start = time.perf_counter()
    w["fmt"].encode(w["train"], tok, w["labels"], MAX_LENGTH, train=True)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> dict:
    p = C.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--formats", default="all",
                   help=f"comma-separated formats (default all: {', '.join(FORMATS)}; a format whose task has "
                        "no local data is skipped with a note)")
    p.add_argument("--train-examples", type=int, default=None,
                   help="training rows per format (default: all for pair classification, 1,273 SNLI pairs in the "
                        "real slice; 512 for the other formats; smoke 32). Fewer than ~80 steps leave the models "
                        "near chance, so the scores say nothing")
    p.add_argument("--dev-examples", type=int, default=None, help="held-out rows (default 250; smoke 16)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=5e-5, help="learning rate of all (Trainer's default)")
    p.add_argument("--batch-size", type=int, default=16, help="batch size of all (TrainConfig's default)")
    p.add_argument("--seeds", default=None, help="comma-separated (default 1,2; smoke 1)")
    p.add_argument("--no-ablations", action="store_true", help="skip the one-feature-at-a-time rows")
    p.add_argument("--tuned-bf16-cpu", action="store_true", help="the tuned Trainer uses bf16 on a CPU too")
    args = p.parse_args(argv)
    started = time.perf_counter()
    s = C.setup(NAME, args, argv)
    try:
        C.quiet_transformers()
        formats = list(FORMATS) if args.formats == "all" else [f.strip() for f in args.formats.split(",") if f.strip()]
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            raise SystemExit(f"--formats: unknown {unknown}; expected some of {list(FORMATS)}")
        n_dev = args.dev_examples or (16 if s.smoke else 250)
        batch = 8 if s.smoke and args.batch_size == 16 else args.batch_size
        lr = 5e-4 if s.smoke and args.lr == 5e-5 else args.lr
        seeds = [int(x) for x in (args.seeds or ("1" if s.smoke else "1,2")).split(",")]
        kw = dict(epochs=args.epochs, lr=lr, batch=batch)
        tuned = tuned_options(s.device, args.tuned_bf16_cpu)
        per_format: dict[str, dict] = {}
        for fmt_name in formats:
            n_train = args.train_examples or (32 if s.smoke else None if fmt_name == HEADLINE else 512)
            loaded = _load(s, FORMATS[fmt_name], n_train, n_dev)
            if loaded is None:
                s.notes.append(f"{fmt_name}: no local data for {FORMATS[fmt_name]} in {s.data_dir}: skipped")
                continue
            task, fmt, labels, train, dev = loaded
            w = {"task": task, "fmt": fmt, "labels": labels, "train": train, "dev": dev}
            rows = _measure(s, w, seeds, kw, tuned, args.quiet)
            if fmt_name == HEADLINE and not args.no_ablations:
                rows += _ablations(s, w, seeds[0], kw, args.quiet)
            per_format[fmt_name] = {"task": task.name, "rows": rows, "w": w}
        if HEADLINE not in per_format:
            raise SystemExit(f"train_throughput: no data for {FORMATS[HEADLINE]} (the headline format)")
        result = _result(s, per_format, seeds, args, lr, batch)
        table = result.pop("_table")
        return C.finish(s, result, table, started=started)
    finally:
        s.close()


def _measure(s, w: dict, seeds, kw: dict, tuned: dict, quiet: bool) -> list[dict]:
    """Warm-up, then plain / ours / tuned per seed, the order rotated from seed to seed."""
    if not s.smoke:  # first-call costs (kernel selection, allocator) out of the timings
        warm = dict(w, train=w["train"][: 2 * kw["batch"]], dev=[])
        run_plain(s, warm, seeds[0], **kw)
        run_ours(s, warm, seeds[0], **kw)
    plain = lambda seed: run_plain(s, w, seed, **kw)  # noqa: E731
    ours = lambda seed: run_ours(s, w, seed, **kw)  # noqa: E731
    tune = lambda seed: run_plain(s, w, seed, **kw, **tuned)  # noqa: E731
    rows = []
    for i, seed in enumerate(seeds):
        order = [plain, ours, tune] if i % 2 == 0 else [tune, ours, plain]
        for fn in order:
            rows.append(fn(seed))
            _progress(rows[-1], quiet)
    return rows


def _ablations(s, w: dict, seed: int, kw: dict, quiet: bool) -> list[dict]:
    fast = _fast_precision()
    ablations = ([dict(**{fast: True}, label=f"plain + {fast} autocast", key=f"plain+{fast}")]
                 if fast != "fp32" else [])
    ablations += [dict(freeze=True, label="plain + frozen embeddings", key="plain+freeze"),
                  dict(dynamic=True, label="plain + dynamic padding", key="plain+dynamic"),
                  dict(dynamic=True, grouped=True, label="plain + dynamic padding + length grouping",
                       key="plain+dynamic+grouped")]
    rows = []
    for ab in ablations:
        rows.append(run_plain(s, w, seed, **kw, **ab))
        _progress(rows[-1], quiet)
    return rows


def _fast_precision() -> str:
    """What ``precision="auto"`` picks here (bf16 / fp16 / fp32)."""
    from taskdiff.transfer.precision import resolve_precision

    return resolve_precision("auto")


def _progress(row: dict, quiet: bool) -> None:
    if not quiet:
        print(f"  [{row['fmt']}] {row['config']} seed {row['seed']}: {row['examples_per_wall_s']:.2f} ex/s wall, "
              f"{row['examples_per_cpu_s']:.2f} ex/CPU-s (steps only {row['step_examples_per_wall_s']:.2f} ex/s), "
              f"dev score {row['dev_accuracy']:.1f}", flush=True)


def _paired(rows: list[dict], field: str, base: str = "plain") -> list[float]:
    """Per-seed ratios ours / ``base`` (same seed: same head init and sampler seed)."""
    ours = sorted((r for r in rows if r["key"] == "ours"), key=lambda r: r["seed"])
    other = sorted((r for r in rows if r["key"] == base), key=lambda r: r["seed"])
    return [C.ratio(o[field], p[field]) for o, p in zip(ours, other)]


def _format_ratios(rows: list[dict], clock: str, n_dev: int, n_seeds: int) -> dict:
    """Speedups of ours over plain and over tuned, padding, and the dev-score comparison."""
    plain, ours, tuned = (_summary(rows, k) for k in ("plain", "ours", "tuned"))
    r: dict = {}
    for c in ("wall", "cpu"):
        r[f"examples_per_s_speedup_{c}"] = C.mean_sd(_paired(rows, f"examples_per_{c}_s"))[0]
        r[f"step_examples_per_s_speedup_{c}"] = C.mean_sd(_paired(rows, f"step_examples_per_{c}_s"))[0]
        r[f"examples_per_s_speedup_vs_tuned_{c}"] = C.mean_sd(_paired(rows, f"examples_per_{c}_s", "tuned"))[0]
    r["examples_per_s_speedup"] = r[f"examples_per_s_speedup_{clock}"]
    r["examples_per_s_speedup_vs_tuned"] = r[f"examples_per_s_speedup_vs_tuned_{clock}"]
    # real tokens are the same in every run, so this equals the examples/s ratio
    r["real_tokens_per_s_speedup"] = C.ratio(ours[f"real_tokens_per_{clock}_s"], plain[f"real_tokens_per_{clock}_s"])
    r["step_examples_per_s_speedup"] = r[f"step_examples_per_s_speedup_{clock}"]
    r["padded_tokens_reduction"] = C.ratio(plain["padded_tokens_per_example"], ours["padded_tokens_per_example"])
    r["dev_accuracy_difference"] = ours["dev_accuracy"] - plain["dev_accuracy"]
    r["dev_accuracy_difference_vs_tuned"] = ours["dev_accuracy"] - tuned["dev_accuracy"]
    # noise of a score difference: seed spread, and the binomial error of n_dev examples
    acc = plain["dev_accuracy"]
    p = max(min(acc / 100, 0.999), 0.001) if acc == acc else 0.5
    binom = 100 * math.sqrt(2 * p * (1 - p) / max(n_dev, 1))
    seed_sd = math.sqrt((plain["dev_accuracy_sd"] ** 2 + ours["dev_accuracy_sd"] ** 2) / max(n_seeds, 1))
    noise = max(binom, seed_sd)
    accuracy = {"plain_mean": plain["dev_accuracy"], "plain_sd": plain["dev_accuracy_sd"],
                "ours_mean": ours["dev_accuracy"], "ours_sd": ours["dev_accuracy_sd"],
                "tuned_mean": tuned["dev_accuracy"], "tuned_sd": tuned["dev_accuracy_sd"],
                "difference": r["dev_accuracy_difference"], "noise_1sd": noise,
                "equal_within_noise": abs(r["dev_accuracy_difference"]) <= 2 * noise,
                "rule": "|ours - plain| <= 2 x max(binomial SE of a difference on the dev set, seed SD)"}
    return {"ratios": r, "accuracy": accuracy}


def _result(s, per_format: dict, seeds, args, lr, batch) -> dict:
    clock = C.headline_clock(s)
    ratios, targets, formats, table, rows_all = {}, {}, {}, [], []
    for fmt_name, pf in per_format.items():
        rows, w = pf["rows"], pf["w"]
        fr = _format_ratios(rows, clock, len(w["dev"]), len(seeds))
        rows_all += rows
        if fmt_name == HEADLINE:  # the historical keys: pair classification
            ratios.update(fr["ratios"])
            targets["examples_per_s_speedup"] = C.target("examples_per_s_speedup",
                                                         fr["ratios"]["examples_per_s_speedup"], ">=", 5.0)
        for k in ("examples_per_s_speedup", "examples_per_s_speedup_vs_tuned", "padded_tokens_reduction",
                  "dev_accuracy_difference"):
            ratios[f"{k}[{fmt_name}]"] = fr["ratios"][k]
        if fmt_name != HEADLINE:
            key = f"examples_per_s_speedup[{fmt_name}]"
            targets[key] = C.target(key, fr["ratios"]["examples_per_s_speedup"], ">=", 5.0)
        summaries = [_summary(rows, k) for k in dict.fromkeys(r["key"] for r in rows)]
        plain = next(sm for sm in summaries if sm["key"] == "plain")
        for sm in summaries:
            sm["speedup_vs_plain"] = C.ratio(sm[f"examples_per_{clock}_s"], plain[f"examples_per_{clock}_s"])
        formats[fmt_name] = {"task": pf["task"], "train_examples": len(w["train"]), "dev_examples": len(w["dev"]),
                             "metric": w["task"].metric, "ratios": fr["ratios"], "accuracy": fr["accuracy"],
                             "summaries": summaries, "tokenise_seconds": _tokenise_seconds(s, w)}
        table += [{"format": fmt_name, "config": sm["config"], "runs": sm["runs"], "precision": sm["precision"],
                   "trained params (M)": sm["trained_params"] / 1e6,
                   f"ex/s ({clock})": sm[f"examples_per_{clock}_s"],
                   f"ex/s steps only ({clock})": sm[f"step_examples_per_{clock}_s"],
                   f"real tok/s ({clock})": sm[f"real_tokens_per_{clock}_s"],
                   "padded tok/ex": sm["padded_tokens_per_example"],
                   "speedup": sm["speedup_vs_plain"],
                   "speedup (wall)": C.ratio(sm["examples_per_wall_s"], plain["examples_per_wall_s"]),
                   "dev score": f"{sm['dev_accuracy']:.1f}±{sm['dev_accuracy_sd']:.1f}"} for sm in summaries]
    head = formats[HEADLINE]
    return {
        "ratios": ratios, "targets": targets, "clock": clock,
        "accuracy": head["accuracy"], "formats": formats,
        "workload": {"tasks": {f: pf["task"] for f, pf in per_format.items()}, "epochs": args.epochs,
                     "batch_size": batch, "learning_rate": lr, "max_length": MAX_LENGTH, "seeds": seeds,
                     "train_examples": {f: v["train_examples"] for f, v in formats.items()}},
        "encode_cache_evidence": {f: {"tokenise_seconds": v["tokenise_seconds"]} for f, v in formats.items()},
        "summaries": head["summaries"],
        "measurements": rows_all,
        "notes": [f"speedups from {clock} seconds (see docs/performance.md, 'clocks'); 'speedup (wall)' alongside",
                  "dev scores of every config come from the same fp32 inference code (taskdiff predict) and the "
                  "task's metric (accuracy, POS accuracy, SQuAD F1, Pearson r)",
                  "ours includes its epoch checkpoint in its time; plain and tuned save nothing (save_strategy='no')",
                  "tuned = dynamic padding + group_by_length (+ bf16 on a GPU): the Trainer a careful user sets up"],
        "_table": table,
    }


if __name__ == "__main__":
    main()
