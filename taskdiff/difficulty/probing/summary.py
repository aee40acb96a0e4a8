"""Summaries of a probing measure: group scores and per-probe tables (trained minus base).

Per probe, each quantity (accuracy, selectivity, MDL compression) is aggregated over the
fitted layers for each encoder (``"mean"`` of the per-layer values, ``"max"`` best layer,
``"last"``) and the change is trained minus base. Groups (syntactic, semantic, surface)
average the accuracy changes of their probes; :func:`syntax_semantics_index` contrasts the
syntactic and semantic ones.

Two settings shape the group scores without changing any per-probe value:

* ``groups`` re-assigns probes to groups (SentEval's grouping is a convention: in a
  language whose number and tense are marked by agreement, ``tense`` / ``subj_number`` /
  ``obj_number`` are what an agreement task is about, i.e. morphosyntax);
* ``headroom`` = ``(margin, ceiling)`` keeps in the group scores only the probes whose *base*
  accuracy is at least the majority baseline + ``margin`` (the base encoder represents the
  property at all) and at most ``ceiling`` (the accuracy has room to rise). A probe at
  ceiling can only fall, so it measures forgetting, not which knowledge a task adds; a
  probe at chance adds noise. The rule looks at the base encoder only, never at the
  trained one, so it cannot select probes by the effect being measured. Left-out probes
  keep their per-probe values and are listed in ``excluded`` with the reason.
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



def check_groups(groups, names) -> dict:
    """``groups`` ({probe: group}) validated against the probe ``names`` and :data:`GROUPS`."""
    from taskdiff.errors import ConfigError, UnknownNameError

    groups = dict(groups or {})
    for name, group in groups.items():
        if name not in names:
            raise UnknownNameError("probe (in groups)", name, names)
        if group not in GROUPS:
            raise ConfigError(f"groups[{name!r}] must be one of {GROUPS}, found {group!r}")
    return groups


def check_headroom(headroom) -> tuple[float, float] | None:
    """``headroom`` as ``(margin, ceiling)`` floats, or None; a clear error otherwise."""
    from taskdiff.errors import ConfigError

    if headroom is None:
        return None
    try:
        margin, ceiling = (float(v) for v in headroom)
    except (TypeError, ValueError):
        raise ConfigError(f"headroom must be (margin over the majority baseline, ceiling), "
                          f"e.g. (0.1, 0.95); found {headroom!r}") from None
    if not (0.0 <= margin < 1.0 and 0.0 < ceiling <= 1.0):
        raise ConfigError(f"headroom must have 0 <= margin < 1 and 0 < ceiling <= 1, found {headroom!r}")
    return margin, ceiling


def headroom_reason(entry: dict, headroom) -> str | None:
    """Why a probe (a per-probe entry) is left out of the group scores, or None to keep it."""
    if headroom is None:
        return None
    margin, ceiling = headroom
    acc, majority = entry["base"]["accuracy"], entry["base"]["majority_accuracy"]
    if acc is None:
        return "no base accuracy"
    if majority is not None and acc < majority + margin:
        return f"base accuracy {acc:.3f} < majority {majority:.3f} + {margin:g} (not represented)"
    if acc > ceiling:
        return f"base accuracy {acc:.3f} > {ceiling:g} (at ceiling: can only fall)"
    return None


def _probe_entry(group: str, level: str, rows: dict, layers: list[int], layer_aggregate: str) -> dict:
    """Base, trained and change of one probe (aggregated over ``layers``), and its per-layer table.

    ``rows``: ``"base"`` / ``"trained"`` -> {layer: result row} of this probe.
    """
    entry = {"group": group, "level": level, "per_layer": []}
    values = {}
    for key in ("base", "trained"):
        for metric in METRICS:
            seq = [rows[key][l].get(metric) if l in rows[key] else None for l in layers]
            seq = [float("nan") if v is None else float(v) for v in seq]
            values[(key, metric)] = _aggregate(seq, layer_aggregate)
        entry[key] = {m: values[(key, m)] for m in METRICS}
        entry[key]["majority_accuracy"] = next((r["majority_accuracy"] for r in rows[key].values()), None)
    entry["delta"] = {m: (values[("trained", m)] - values[("base", m)]
                          if values[("trained", m)] is not None and values[("base", m)] is not None else None)
                      for m in METRICS}
    for l in layers:
        b, t = rows["base"].get(l, {}), rows["trained"].get(l, {})
        entry["per_layer"].append({"layer": l, **{f"{m}_{k}": finite_or_none(r.get(m))
                                                  for k, r in (("base", b), ("trained", t)) for m in METRICS}})
    return entry


def summarise(suite, results: dict, layers: list[int], layer_aggregate: str = "mean", groups=None,
              headroom=None) -> dict:
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
    groups : dict, optional
        ``{probe: group}`` overriding the suite's groups (see the module docstring).
    headroom : (float, float), optional
        ``(margin, ceiling)``: only probes with majority + margin <= base accuracy <= ceiling
        enter the group scores (see the module docstring).

    Returns
    -------
    dict
        The scores of :class:`~taskdiff.difficulty.probing.measure.Probing` (JSON-able).
    """
    groups = check_groups(groups, list(suite.probes))
    headroom = check_headroom(headroom)
    by_probe = {name: {"base": {}, "trained": {}} for name in suite.probes}
    for key in ("base", "trained"):
        for r in results[key]:
            if r["probe"] in by_probe:
                by_probe[r["probe"]][key][r["layer"]] = r
    per_probe = {name: _probe_entry(groups.get(name, probe.group), probe.level, by_probe[name], layers,
                                    layer_aggregate)
                 for name, probe in suite.probes.items()}
    excluded = {n: r for n, r in ((n, headroom_reason(e, headroom)) for n, e in per_probe.items()) if r}
    scored = {n: e for n, e in per_probe.items() if n not in excluded}
    group = {g: _mean(e["delta"]["accuracy"] for e in scored.values() if e["group"] == g) for g in GROUPS}
    summary = {
        "syntactic": group["syntactic"], "semantic": group["semantic"], "surface": group["surface"],
        "syntax_semantics_index": syntax_semantics_index(group["syntactic"], group["semantic"]),
        "selectivity": _mean(e["delta"]["selectivity"] for e in per_probe.values()),
        "mdl_compression": _mean(e["delta"]["mdl_compression"] for e in per_probe.values()),
        "layer_aggregate": layer_aggregate,
        "group_probes": {g: [n for n, e in scored.items() if e["group"] == g] for g in GROUPS},
        "excluded": excluded,
        "headroom": list(headroom) if headroom is not None else None,
    }
    for key in ("base", "trained"):
        summary[key] = {
            **{f"{g}_accuracy": _mean(e[key]["accuracy"] for e in scored.values() if e["group"] == g)
               for g in GROUPS},
            "selectivity": _mean(e[key]["selectivity"] for e in per_probe.values()),
            "mdl_compression": _mean(e[key]["mdl_compression"] for e in per_probe.values()),
        }
    summary["per_probe"] = jsonable(per_probe)
    return jsonable(summary)
