"""Training throughput: our target-task training vs a plain ``transformers.Trainer`` fine-tuning.

*Ours* is :func:`taskdiff.transfer.training.train_phase` with the default
:class:`~taskdiff.transfer.training.TrainConfig` (bf16 autocast where native, frozen word
embeddings, dynamic padding, length-grouped batches, an epoch checkpoint). *Plain* is a
``transformers.Trainer`` with default arguments: fp32, every parameter trained, inputs padded
to ``max_length`` (128), the random sampler. Both train the same freshly initialised model
(same seed) on the same SNLI pairs (the real slice's dev file is the training set) with the
same batch size, learning rate and number of epochs, then both are scored on the same
held-out English pairs by the same fp32 inference code. Seeds are interleaved (plain, ours,
ours, plain, ...) so that load from other processes hits both alike.

Throughput = training examples / wall seconds of the whole call (tokenisation, set-up, the
steps, checkpoint), and separately of the optimisation steps alone. Tokens/s counts real
(non-pad) tokens, identical for both, so its ratio equals the examples/s ratio; the padded
tokens per example show what dynamic padding removes. One ablation row per speed feature
switches that feature on in the plain set-up.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Sequence

from benchmarks import _common as C

NAME = "train_throughput"


def _load_pairs(s: C.Setup, n_train: int, n_dev: int):
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.tasks import get_task

    task = get_task("snli")
    train = load_role(task, "train", "en", s.data_dir).rows[:n_train]  # n_train None: all
    dev = load_role(task, "selection", "en", s.data_dir).rows[:n_dev]
    return task, train, dev


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


def _dev_accuracy(model, tokenizer, fmt, dev, labels) -> float:
    from taskdiff.transfer.evaluation import predict

    preds = predict(model, tokenizer, fmt, dev, labels, 128, precision="fp32")
    return 100.0 * sum(p == r["label"] for p, r in zip(preds, dev)) / len(dev)


def run_ours(s: C.Setup, train, dev, labels, seed: int, epochs: float, lr: float, batch: int) -> dict:
    """``train_phase`` with the default TrainConfig (only epochs / lr / batch size matched)."""
    import torch
    from transformers import set_seed

    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import build_model, load_tokenizer
    from taskdiff.transfer.precision import resolve_precision
    from taskdiff.transfer.training import TrainConfig, train_phase

    fmt = get_format("pair_classification")
    tok = load_tokenizer(s.model_path)
    set_seed(seed)
    model = build_model(fmt, s.model_path, labels).to(s.device)
    cfg = TrainConfig(epochs=epochs, learning_rate=lr, batch_size=batch)
    clock = _Clock()
    handle = model.register_forward_pre_hook(clock.hook, with_kwargs=True)
    out_dir = s.work / f"ours-{seed}-{time.monotonic_ns()}"
    w0, c0 = C.now()
    trainer = train_phase(model, tok, fmt, train, labels, cfg, out_dir, seed, None, "accuracy",
                          max_length=128, progress=False, callbacks=[clock.callback()])
    w1, c1 = C.now()
    wall, cpu = w1 - w0, c1 - c0
    handle.remove()
    acc = _dev_accuracy(trainer.model, tok, fmt, dev, labels) if dev else float("nan")
    trained = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    del trainer, model
    _cleanup(out_dir)
    return _row("ours (train_phase, default TrainConfig)", "ours", seed, wall, cpu, clock, acc, trained,
                precision=resolve_precision(cfg.precision), freeze=cfg.freeze_embeddings,
                dynamic=True, grouped=cfg.group_by_length, torch_threads=torch.get_num_threads())


def run_plain(s: C.Setup, train, dev, labels, seed: int, epochs: float, lr: float, batch: int, *,
              bf16: bool = False, fp16: bool = False, freeze: bool = False, dynamic: bool = False,
              grouped: bool = False,
              label: str = "plain Trainer (fp32, all params, pad 128, random)", key: str = "plain") -> dict:
    """A plain ``Trainer`` fine-tuning with default arguments; optionally one speed feature on."""
    import datasets
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import build_model, freeze_word_embeddings, load_tokenizer

    fmt = get_format("pair_classification")
    tok = load_tokenizer(s.model_path)
    set_seed(seed)
    model = build_model(fmt, s.model_path, labels).to(s.device)
    clock = _Clock()
    handle = model.register_forward_pre_hook(clock.hook, with_kwargs=True)
    out_dir = s.work / f"{key}-{seed}-{time.monotonic_ns()}"
    index = {l: i for i, l in enumerate(labels)}
    w0, c0 = C.now()
    # plain pads everything to max_length; with dynamic padding the collator pads each batch
    enc = tok([r["text_a"] for r in train], [r["text_b"] for r in train], truncation=True, max_length=128,
              padding=False if dynamic else "max_length")
    cols = {k: list(v) for k, v in enc.items()}
    cols["labels"] = [index[r["label"]] for r in train]
    if grouped:
        cols["length"] = [len(x) for x in cols["input_ids"]]
    dataset = datasets.Dataset.from_dict(cols)
    if freeze:
        freeze_word_embeddings(model)
    extra = {"train_sampling_strategy": "group_by_length"} if grouped else {}
    args = TrainingArguments(output_dir=str(out_dir), per_device_train_batch_size=batch, num_train_epochs=epochs,
                             learning_rate=lr, seed=seed, data_seed=seed, bf16=bf16, fp16=fp16,
                             use_cpu=not torch.cuda.is_available(), report_to="none", disable_tqdm=True,
                             save_strategy="no", **extra)
    trainer = Trainer(model=model, args=args, train_dataset=dataset,
                      data_collator=DataCollatorWithPadding(tok) if dynamic else None,
                      processing_class=tok, callbacks=[clock.callback()])
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    trainer.train()
    w1, c1 = C.now()
    wall, cpu = w1 - w0, c1 - c0
    handle.remove()
    acc = _dev_accuracy(trainer.model, tok, fmt, dev, labels) if dev else float("nan")
    trained = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    del trainer, model
    _cleanup(out_dir)
    return _row(label, key, seed, wall, cpu, clock, acc, trained,
                precision="bf16" if bf16 else "fp16" if fp16 else "fp32",
                freeze=freeze, dynamic=dynamic, grouped=grouped, torch_threads=torch.get_num_threads())


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


def _tokenise_seconds(s: C.Setup, train, labels) -> float:
    """Tokenising the training rows with the format (what an encode cache would save)."""
    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import load_tokenizer

    tok = load_tokenizer(s.model_path)
    start = time.perf_counter()
    get_format("pair_classification").encode(train, tok, labels, 128, train=True)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> dict:
    p = C.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--train-examples", type=int, default=None,
                   help="training pairs (default: all, 1,273 in the real slice, 512 fixture pairs; smoke 32). "
                        "Fewer than ~80 steps leave both models near chance, so accuracies say nothing")
    p.add_argument("--dev-examples", type=int, default=None, help="held-out pairs (default 250; smoke 16)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=5e-5, help="learning rate of both (Trainer's default)")
    p.add_argument("--batch-size", type=int, default=16, help="batch size of both (TrainConfig's default)")
    p.add_argument("--seeds", default=None, help="comma-separated (default 1,2; smoke 1)")
    p.add_argument("--no-ablations", action="store_true", help="skip the one-feature-at-a-time rows")
    args = p.parse_args(argv)
    started = time.perf_counter()
    s = C.setup(NAME, args, argv)
    try:
        C.quiet_transformers()
        n_train = args.train_examples or (32 if s.smoke else None)
        n_dev = args.dev_examples or (16 if s.smoke else 250)
        batch = 8 if s.smoke and args.batch_size == 16 else args.batch_size
        lr = 5e-4 if s.smoke and args.lr == 5e-5 else args.lr
        seeds = [int(x) for x in (args.seeds or ("1" if s.smoke else "1,2")).split(",")]
        task, train, dev = _load_pairs(s, n_train, n_dev)
        labels = list(task.labels)
        kw = dict(epochs=args.epochs, lr=lr, batch=batch)
        rows: list[dict] = []
        warm = train[: 2 * batch]  # first-call costs (kernel selection, allocator) out of the timings
        run_plain(s, warm, [], labels, seeds[0], **kw)
        run_ours(s, warm, [], labels, seeds[0], **kw)
        for i, seed in enumerate(seeds):  # interleaved: plain, ours / ours, plain / ...
            order = (run_plain, run_ours) if i % 2 == 0 else (run_ours, run_plain)
            for fn in order:
                rows.append(fn(s, train, dev, labels, seed, **kw))
                _progress(rows[-1], args.quiet)
        if not args.no_ablations:
            fast = _fast_precision()
            ablations = ([dict(**{fast: True}, label=f"plain + {fast} autocast", key=f"plain+{fast}")]
                         if fast != "fp32" else [])
            ablations += [dict(freeze=True, label="plain + frozen embeddings", key="plain+freeze"),
                         dict(dynamic=True, label="plain + dynamic padding", key="plain+dynamic"),
                         dict(dynamic=True, grouped=True, label="plain + dynamic padding + length grouping",
                              key="plain+dynamic+grouped")]
            for ab in ablations:
                rows.append(run_plain(s, train, dev, labels, seeds[0], **kw, **ab))
                _progress(rows[-1], args.quiet)
        result = _result(s, rows, seeds, n_train, len(dev), args, lr, batch, train, labels)
        table = result.pop("_table")
        return C.finish(s, result, table, started=started)
    finally:
        s.close()


def _fast_precision() -> str:
    """What ``precision="auto"`` picks here (bf16 / fp16 / fp32)."""
    from taskdiff.transfer.precision import resolve_precision

    return resolve_precision("auto")


def _progress(row: dict, quiet: bool) -> None:
    if not quiet:
        print(f"  {row['config']} seed {row['seed']}: {row['examples_per_wall_s']:.2f} ex/s wall, "
              f"{row['examples_per_cpu_s']:.2f} ex/CPU-s (steps only {row['step_examples_per_wall_s']:.2f} ex/s), "
              f"dev acc {row['dev_accuracy']:.1f}", flush=True)


def _paired(rows: list[dict], field: str) -> list[float]:
    """Per-seed ratios ours / plain (same seed: same head init and sampler seed)."""
    ours = sorted((r for r in rows if r["key"] == "ours"), key=lambda r: r["seed"])
    plain = sorted((r for r in rows if r["key"] == "plain"), key=lambda r: r["seed"])
    return [C.ratio(o[field], p[field]) for o, p in zip(ours, plain)]


def _result(s, rows, seeds, n_train, n_dev, args, lr, batch, train, labels) -> dict:
    clock = C.headline_clock(s)
    plain, ours = _summary(rows, "plain"), _summary(rows, "ours")
    ratios = {}
    for c in ("wall", "cpu"):
        ratios[f"examples_per_s_speedup_{c}"] = C.mean_sd(_paired(rows, f"examples_per_{c}_s"))[0]
        ratios[f"step_examples_per_s_speedup_{c}"] = C.mean_sd(_paired(rows, f"step_examples_per_{c}_s"))[0]
    speedup = ratios[f"examples_per_s_speedup_{clock}"]
    ratios.update({
        "examples_per_s_speedup": speedup,
        # real tokens are the same in both runs, so this equals the examples/s ratio
        "real_tokens_per_s_speedup": C.ratio(ours[f"real_tokens_per_{clock}_s"], plain[f"real_tokens_per_{clock}_s"]),
        "step_examples_per_s_speedup": ratios[f"step_examples_per_s_speedup_{clock}"],
        "padded_tokens_reduction": C.ratio(plain["padded_tokens_per_example"], ours["padded_tokens_per_example"]),
        "dev_accuracy_difference": ours["dev_accuracy"] - plain["dev_accuracy"]})
    # noise of an accuracy difference: seed spread, and the binomial error of n_dev examples
    p = max(min(plain["dev_accuracy"] / 100, 0.999), 0.001) if plain["dev_accuracy"] == plain["dev_accuracy"] else 0.5
    binom = 100 * math.sqrt(2 * p * (1 - p) / max(n_dev, 1))
    seed_sd = math.sqrt((plain["dev_accuracy_sd"] ** 2 + ours["dev_accuracy_sd"] ** 2) / max(len(seeds), 1))
    noise = max(binom, seed_sd)
    equal = abs(ratios["dev_accuracy_difference"]) <= 2 * noise
    summaries = [plain, ours] + [_summary(rows, k) for k in dict.fromkeys(r["key"] for r in rows)
                                 if k not in ("plain", "ours")]
    for sm in summaries:
        sm["speedup_vs_plain"] = C.ratio(sm[f"examples_per_{clock}_s"], plain[f"examples_per_{clock}_s"])
    table = [{"config": sm["config"], "runs": sm["runs"], "precision": sm["precision"],
              "trained params (M)": sm["trained_params"] / 1e6,
              f"ex/s ({clock})": sm[f"examples_per_{clock}_s"],
              f"ex/s steps only ({clock})": sm[f"step_examples_per_{clock}_s"],
              f"real tok/s ({clock})": sm[f"real_tokens_per_{clock}_s"],
              "padded tok/ex": sm["padded_tokens_per_example"],
              "speedup": sm["speedup_vs_plain"],
              "speedup (wall)": C.ratio(sm["examples_per_wall_s"], plain["examples_per_wall_s"]),
              "dev acc": f"{sm['dev_accuracy']:.1f}±{sm['dev_accuracy_sd']:.1f}"} for sm in summaries]
    tokenise = _tokenise_seconds(s, train, labels)
    return {
        "ratios": ratios,
        "targets": {"examples_per_s_speedup": C.target("examples_per_s_speedup", speedup, ">=", 5.0)},
        "clock": clock,
        "accuracy": {"plain_mean": plain["dev_accuracy"], "plain_sd": plain["dev_accuracy_sd"],
                     "ours_mean": ours["dev_accuracy"], "ours_sd": ours["dev_accuracy_sd"],
                     "difference": ratios["dev_accuracy_difference"], "noise_1sd": noise,
                     "equal_within_noise": equal,
                     "rule": "|ours - plain| <= 2 x max(binomial SE of a difference on the dev set, seed SD)"},
        "workload": {"task": "snli (pair classification)", "train_examples": len(train),
                     "dev_examples": n_dev, "epochs": args.epochs, "batch_size": batch, "learning_rate": lr,
                     "max_length": 128, "seeds": seeds},
        "encode_cache_evidence": {
            "tokenise_seconds": tokenise,
            "share_of_our_training_wall": C.ratio(tokenise, ours["wall_s"])},
        "summaries": summaries,
        "measurements": rows,
        "notes": [f"speedups from {clock} seconds (see docs/performance.md, 'clocks'); 'speedup (wall)' alongside",
                  "dev accuracy of every config comes from the same fp32 inference code (taskdiff predict)",
                  "ours includes its epoch checkpoint in its time; plain saves nothing (save_strategy='no')"],
        "_table": table,
    }

if __name__ == "__main__":
    main()
