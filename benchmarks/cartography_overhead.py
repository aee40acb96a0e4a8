"""Overhead of recording training dynamics (dataset cartography) from the training forward pass.

The same :func:`~taskdiff.transfer.training.train_phase` run (default TrainConfig, same seed,
same SNLI pairs, a fresh model each time) with a
:class:`~taskdiff.transfer.dynamics.DynamicsRecorder` in ``forward`` mode and without one.
Repetitions are interleaved in ABBA order so that load from other processes falls on both;
the overhead is the median over repetitions of the paired ratio (with / without) - 1, for the
whole call and for the optimisation steps alone.
"""

from __future__ import annotations

import shutil
import time
from typing import Sequence

from benchmarks import _common as C
from benchmarks.train_throughput import _Clock, _load

NAME = "cartography_overhead"


def one_run(s: C.Setup, train, labels, seed: int, record: bool, epochs: float, batch: int, lr: float) -> dict:
    from transformers import set_seed

    from taskdiff.transfer.dynamics import DynamicsRecorder
    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import build_model, load_tokenizer
    from taskdiff.transfer.training import TrainConfig, train_phase

    fmt = get_format("pair_classification")
    tok = load_tokenizer(s.model_path)
    set_seed(seed)
    model = build_model(fmt, s.model_path, labels).to(s.device)
    cfg = TrainConfig(epochs=epochs, batch_size=batch, learning_rate=lr, record_dynamics=record)
    recorder = DynamicsRecorder(len(train), cfg.dynamics_mode) if record else None
    clock = _Clock()
    out_dir = s.work / f"carto-{int(record)}-{time.monotonic_ns()}"
    w0, c0 = C.now()
    train_phase(model, tok, fmt, train, labels, cfg, out_dir, seed, None, "accuracy", recorder=recorder,
                max_length=128, progress=False, callbacks=[clock.callback()])
    w1, c1 = C.now()
    shutil.rmtree(out_dir, ignore_errors=True)
    recorded = None
    if recorder is not None:
        probs, _ = recorder.arrays()
        recorded = int((probs == probs).sum())  # non-NaN entries: examples x epochs seen
    return {"record": record, "wall_s": w1 - w0, "cpu_s": c1 - c0, "steps_wall_s": clock.step_seconds(),
            "steps_cpu_s": clock.step_seconds(cpu=True), "recorded_values": recorded}


def main(argv: Sequence[str] | None = None) -> dict:
    p = C.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--train-examples", type=int, default=None, help="default 256; smoke 32")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--reps", type=int, default=None, help="pairs of runs (default 4; smoke 2)")
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args(argv)
    started = time.perf_counter()
    s = C.setup(NAME, args, argv)
    try:
        C.quiet_transformers()
        n = args.train_examples or (32 if s.smoke else 256)
        reps = args.reps or (2 if s.smoke else 4)
        batch = 8 if s.smoke else args.batch_size
        lr = 5e-4 if s.smoke else 5e-5
        task, _fmt, _labels, train, _dev = _load(s, "snli", n, 0)
        labels = list(task.labels)
        one_run(s, train[: 2 * batch], labels, 0, True, 1.0, batch, lr)  # warm-up, not timed
        clock = C.headline_clock(s)
        runs = []
        for r in range(reps):  # ABBA: off,on / on,off / ...
            for record in ((False, True) if r % 2 == 0 else (True, False)):
                runs.append({"rep": r, **one_run(s, train, labels, 1, record, args.epochs, batch, lr)})
                if not args.quiet:
                    x = runs[-1]
                    print(f"  rep {r} dynamics={'on ' if record else 'off'}: wall {x['wall_s']:.2f}s "
                          f"cpu {x['cpu_s']:.2f}s, steps {x['steps_wall_s']:.2f}s wall", flush=True)
        ratios, paired = {}, {}
        for field in ("wall_s", "cpu_s", "steps_wall_s", "steps_cpu_s"):
            pairs = []
            for r in range(reps):
                on = next(x for x in runs if x["rep"] == r and x["record"])
                off = next(x for x in runs if x["rep"] == r and not x["record"])
                pairs.append(C.ratio(on[field], off[field]))
            paired[field] = pairs
            ratios[f"{field[:-2]}_overhead"] = C.median(pairs) - 1
        total = "cpu_s" if clock == "cpu" else "wall_s"
        steps = "steps_cpu_s" if clock == "cpu" else "steps_wall_s"
        ratios["overhead"] = ratios[f"{total[:-2]}_overhead"]
        ratios["steps_overhead"] = ratios[f"{steps[:-2]}_overhead"]
        med = {k: {f: C.median(x[f] for x in runs if x["record"] == k) for f in (total, steps)} for k in (False, True)}
        expected = len(train) * int(args.epochs) if args.epochs >= 1 else None
        complete = all(x["recorded_values"] == expected for x in runs if x["record"]) if expected else None
        table = [{"dynamics": "off", f"median {clock} s": med[False][total], f"median steps {clock} s": med[False][steps]},
                 {"dynamics": "on (forward mode)", f"median {clock} s": med[True][total],
                  f"median steps {clock} s": med[True][steps]},
                 {"dynamics": "overhead (median of paired ratios - 1)", f"median {clock} s": ratios["overhead"],
                  f"median steps {clock} s": ratios["steps_overhead"]},
                 {"dynamics": "overhead, wall clock", f"median {clock} s": ratios["wall_overhead"],
                  f"median steps {clock} s": ratios["steps_wall_overhead"]}]
        return C.finish(s, {"ratios": ratios, "clock": clock,
                            "targets": {"overhead": C.target("overhead", ratios["overhead"], "<=", 0.05)},
                            "workload": {"train_examples": len(train), "epochs": args.epochs, "batch_size": batch,
                                         "reps": reps, "order": "ABBA"},
                            "paired_ratios": paired,
                            "every_example_recorded": complete, "measurements": runs},
                        table, started=started)
    finally:
        s.close()


if __name__ == "__main__":
    main()
