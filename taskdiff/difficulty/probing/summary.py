"""Summaries of a probing measure: group scores and per-probe tables (trained minus base).

Per probe, each quantity (accuracy, selectivity, MDL compression) is aggregated over the
fitted layers for each encoder (``"mean"`` of the per-layer values, ``"max"`` best layer,
``"last"``) and the change is trained minus base. Groups (syntactic, semantic, surface)
average the accuracy changes of their probes; :func:`syntax_semantics_index` contrasts the
syntactic and semantic ones.
"""

from __future__ import annotations

import math

import numpy as np

from taskdiff.difficulty.base import finite_or_none, jsonable

GROUPS = ("syntactic", "semantic", "surface")
METRICS = ("accuracy", "selectivity", "mdl_compression")


def syntax_semantics_index(syntactic, semantic):
    """(syn - sem) / (|syn| + |sem|), 0 when both are 0, None when either is missing."""
    if syntactic is None or semantic is None:
        return None
    denom = abs(syntactic) + abs(semantic)
    return 0.0 if denom == 0 else (syntactic - semantic) / denom


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def _aggregate(values, how: str) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return None
    if how == "mean":
        return float(np.mean(vals))
    if how == "max":
        return float(np.max(vals))
    return float(values[-1]) if values[-1] is not None and not math.isnan(values[-1]) else None



def summarise(suite, results: dict, layers: list[int], layer_aggregate: str = "mean") -> dict:
    """Group scores, per-probe tables and per-encoder means of the probe results.

    Parameters
    ----------
    suite : ProbeSuite
        The fitted probes.
    results : dict
        ``"base"`` / ``"trained"`` -> list of :meth:`ProbeResult.as_dict` rows.
    layers : list of int
        The fitted layers, ascending.
    layer_aggregate : {"mean", "max", "last"}
        How a probe's per-layer values are aggregated for each encoder.

    Returns
    -------
    dict
        The scores of :class:`~taskdiff.difficulty.probing.measure.Probing` (JSON-able).
    """
    per_probe = {}
    for name, probe in suite.probes.items():
        entry = {"group": probe.group, "level": probe.level, "per_layer": []}
        values = {}
        for key in ("base", "trained"):
            rows = {r["layer"]: r for r in results[key] if r["probe"] == name}
            for metric in ("accuracy", "selectivity", "mdl_compression"):
                seq = [rows[l].get(metric) if l in rows else None for l in layers]
                seq = [float("nan") if v is None else float(v) for v in seq]
                values[(key, metric)] = _aggregate(seq, layer_aggregate)
            entry[key] = {m: values[(key, m)] for m in ("accuracy", "selectivity", "mdl_compression")}
            entry[key]["majority_accuracy"] = next((r["majority_accuracy"] for r in rows.values()), None)
        entry["delta"] = {m: (values[("trained", m)] - values[("base", m)]
                              if values[("trained", m)] is not None and values[("base", m)] is not None else None)
                          for m in ("accuracy", "selectivity", "mdl_compression")}
        base_rows = {r["layer"]: r for r in results["base"] if r["probe"] == name}
        trained_rows = {r["layer"]: r for r in results["trained"] if r["probe"] == name}
        for l in layers:
            b, t = base_rows.get(l, {}), trained_rows.get(l, {})
            entry["per_layer"].append({"layer": l, **{f"{m}_{k}": finite_or_none(r.get(m))
                                                      for k, r in (("base", b), ("trained", t))
                                                      for m in ("accuracy", "selectivity", "mdl_compression")}})
        per_probe[name] = entry
    group = {g: _mean(e["delta"]["accuracy"] for e in per_probe.values() if e["group"] == g) for g in GROUPS}
    summary = {
        "syntactic": group["syntactic"], "semantic": group["semantic"], "surface": group["surface"],
        "syntax_semantics_index": syntax_semantics_index(group["syntactic"], group["semantic"]),
        "selectivity": _mean(e["delta"]["selectivity"] for e in per_probe.values()),
        "mdl_compression": _mean(e["delta"]["mdl_compression"] for e in per_probe.values()),
        "layer_aggregate": layer_aggregate,
    }
    for key in ("base", "trained"):
        summary[key] = {
            **{f"{g}_accuracy": _mean(e[key]["accuracy"] for e in per_probe.values() if e["group"] == g)
               for g in GROUPS},
            "selectivity": _mean(e[key]["selectivity"] for e in per_probe.values()),
            "mdl_compression": _mean(e[key]["mdl_compression"] for e in per_probe.values()),
        }
    summary["per_probe"] = jsonable(per_probe)
    return jsonable(summary)
