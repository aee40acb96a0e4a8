"""Probing every layer x every probe with the hidden-state cache vs re-encoding per probe and layer.

*Ours* (what the ``probing`` measure does): the probe suite's deduplicated sentences go
through the encoder once (:class:`taskdiff.difficulty.hidden.HiddenStateCache`, every hidden
layer kept, written to a run store), then
:func:`~taskdiff.difficulty.probing.fit_probe_suite` fits every probe at every layer from
those arrays. *Baseline*: for each probe and each layer, the probe's own sentences are
encoded again by the same code (:func:`~taskdiff.difficulty.hidden.compute_states`) with the
encoder cut after that layer (the cheapest honest re-encoding: no layer above the probed one
runs), and that one probe is fitted at that one layer. Both fit exactly the same probes on
the same states with the same settings, so the fits cost the same on both sides and their
accuracies must agree (checked). Probe data: the first ``--sentences`` sentences of UD
English EWT dev (or the project-made CoNLL-U file).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Sequence

from benchmarks import _common as C

NAME = "probe_cache"
TREEBANK = Path("intermediate/ud_english_ewt/en_ewt-ud-dev.conllu")


@contextlib.contextmanager
def truncated(model, n_layers: int):
    """The encoder with only its first ``n_layers`` transformer layers (restored afterwards)."""
    import torch

    # transformers installs its hidden-state capturing hooks on the layers present at the first
    # call: install them on all layers before slicing
    with contextlib.suppress(ImportError):
        from transformers.utils.output_capturing import maybe_install_capturing_hooks

        maybe_install_capturing_hooks(model)
    layers = model.encoder.layer
    model.encoder.layer = torch.nn.ModuleList(list(layers)[:n_layers])
    try:
        yield model
    finally:
        model.encoder.layer = layers


def _suite(path: Path, n_sentences: int, probes):
    from taskdiff.difficulty.probing.suites import build_probe_suite, load_sentences

    sentences = load_sentences(path)[:n_sentences]
    return build_probe_suite(sentences, seed=0, probes=probes, min_examples=10 if n_sentences < 100 else 20)


def main(argv: Sequence[str] | None = None) -> dict:
    p = C.parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--sentences", type=int, default=None, help="treebank sentences (default 300, the fewest with all 10 probes; smoke 24)")
    p.add_argument("--max-examples", type=int, default=None, help="per-probe example cap of the fits "
                   "(default 1000; smoke 100)")
    p.add_argument("--control", action="store_true", help="also fit control tasks (selectivity)")
    p.add_argument("--mdl", action="store_true", help="also compute the MDL online code (about 10 extra fits)")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    started = time.perf_counter()
    s = C.setup(NAME, args, argv)
    try:
        C.quiet_transformers()
        from taskdiff.difficulty.hidden import HiddenStateCache, compute_states, load_encoder, resolve_hidden_precision
        from taskdiff.difficulty.probing.measure import sub_suite
        from taskdiff.difficulty.probing.probe import fit_probe_suite
        from taskdiff.transfer.models import load_tokenizer
        from taskdiff.transfer.store import RunStore

        n_sent = args.sentences or (24 if s.smoke else 300)
        path = s.data_dir / TREEBANK
        if not path.exists():
            return C.skipped(s, f"no treebank at {path}", started)
        suite = _suite(path, n_sent, None)
        names = list(suite.probes)
        fit_kw = dict(test_fraction=0.25, seed=0, control=args.control, mdl=args.mdl,
                      max_examples=args.max_examples or (100 if s.smoke else 1000))
        times: dict[str, float] = {}
        tok = load_tokenizer(s.model_path)
        model = load_encoder(s.model_path)
        _warm_up(model, tok, suite)

        # ---- ours: one pass, all layers, cached in a run store; every probe at every layer
        store = RunStore(s.work / "store")
        cache = HiddenStateCache(store)
        with C.stopwatch(times, "ours_encode"):
            states = cache.get(s.model_path, f"base:{s.model_name}", suite.sentences, words=True,
                               batch_size=args.batch_size)
        n_layers = states.n_layers
        token = any(pr.level == "token" for pr in suite.probes.values())
        with C.stopwatch(times, "ours_fit"):
            ours = fit_probe_suite(states.layers("pooled"), suite, states.layers("words") if token else None,
                                   **fit_kw)
        ours_batches = cache.forward_batches

        # ---- baseline: per probe, per layer, re-encode that probe's sentences up to that layer
        base_results, base_batches, base_segments = [], 0, 0
        for name in names:
            sub, _, _ = sub_suite(suite, [name])
            level_token = sub.probes[name].level == "token"
            for layer in range(n_layers):
                # layer 0 (embeddings) is read from a one-layer encoder: hidden states need a layer
                with C.stopwatch(times, "baseline_encode"), truncated(model, max(layer, 1)):
                    arrays, nb, _ = compute_states(model, tok, sub.sentences, words=True, max_length=512,
                                                   batch_size=args.batch_size)
                base_batches += nb
                base_segments += len(sub.sentences)
                sent = {layer: arrays["pooled"][layer]}
                words = {layer: arrays["words"][layer]} if level_token else None
                with C.stopwatch(times, "baseline_fit"):
                    base_results += fit_probe_suite(sent, sub, words, **fit_kw)
        agree = _agreement(ours, base_results)
        clock = C.headline_clock(s)
        ratios: dict[str, float] = {}
        totals = {}
        for c, suffix in (("wall", ""), ("cpu", "_cpu")):
            o_enc, o_fit = times["ours_encode" + suffix], times["ours_fit" + suffix]
            b_enc, b_fit = times["baseline_encode" + suffix], times["baseline_fit" + suffix]
            totals[c] = (o_enc + o_fit, b_enc + b_fit)
            ratios[f"end_to_end_speedup_{c}"] = C.ratio(b_enc + b_fit, o_enc + o_fit)
            ratios[f"encode_speedup_{c}"] = C.ratio(b_enc, o_enc)
            ratios[f"fit_time_ratio_{c}"] = C.ratio(b_fit, o_fit)
        ratios["end_to_end_speedup"] = ratios[f"end_to_end_speedup_{clock}"]
        ratios["encode_speedup"] = ratios[f"encode_speedup_{clock}"]
        ratios["forward_batches_ratio"] = C.ratio(base_batches, ours_batches)
        sfx = "_cpu" if clock == "cpu" else ""
        table = [
            {"path": "ours: encode once (all layers) + fit all", "encode s": times["ours_encode" + sfx],
             "fit s": times["ours_fit" + sfx], "total s": totals[clock][0], "wall s": times["ours_encode"] + times["ours_fit"],
             "forward batches": ours_batches, "segments encoded": len(suite.sentences), "speedup": 1.0},
            {"path": "baseline: re-encode per probe x layer", "encode s": times["baseline_encode" + sfx],
             "fit s": times["baseline_fit" + sfx], "total s": totals[clock][1],
             "wall s": times["baseline_encode"] + times["baseline_fit"], "forward batches": base_batches,
             "segments encoded": base_segments, "speedup": ratios["end_to_end_speedup"]},
        ]
        return C.finish(s, {
            "ratios": ratios,
            "targets": {"end_to_end_speedup": C.target("end_to_end_speedup", ratios["end_to_end_speedup"], ">=", 10.0)},
            "workload": {"treebank": str(path), "sentences": n_sent, "suite_sentences": len(suite.sentences),
                         "probes": names, "n_probes": len(names), "dropped": {k: str(v) for k, v in suite.dropped.items()},
                         "layers": n_layers, "fit": fit_kw, "batch_size": args.batch_size,
                         "precision": f"{resolve_hidden_precision('auto')} (compute_states' default, both paths)"},
            "seconds": times, "clock": clock, "agreement": agree,
            "notes": [f"times in the table: {clock} seconds (see docs/performance.md, 'clocks')",
                      f"fits: {len(ours)} (probe, layer) cells on both sides; control={args.control}, "
                      f"mdl={args.mdl} (the probing measure's defaults are control=True, mdl=False: "
                      "more fit time, identical on both sides)"]}, table, started=started)
    finally:
        s.close()


def _warm_up(model, tok, suite) -> None:
    """First-call costs (kernel selection, scipy/sklearn imports) out of both timings."""
    import numpy as np

    from taskdiff.difficulty.hidden import compute_states
    from taskdiff.difficulty.probing.probe import LinearProbe

    compute_states(model, tok, suite.sentences[:4], words=True, batch_size=4)
    rng = np.random.default_rng(0)
    LinearProbe().fit(rng.normal(size=(60, 8)), np.arange(60) % 3)


def _agreement(ours, base) -> dict:
    """Largest accuracy difference between the two paths over matching (probe, layer) cells."""
    a = {(r.probe, r.layer): r.accuracy for r in ours}
    b = {(r.probe, r.layer): r.accuracy for r in base}
    diffs = [abs(a[k] - b[k]) for k in a if k in b and a[k] == a[k] and b[k] == b[k]]
    return {"cells": len(diffs), "max_abs_accuracy_difference": max(diffs) if diffs else None,
            "missing_cells": len(set(a) ^ set(b))}


if __name__ == "__main__":
    main()
