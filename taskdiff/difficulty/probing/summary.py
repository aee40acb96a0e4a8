"""Summaries of a probing measure: group scores and per-probe tables (trained minus base).

Per probe, each quantity (accuracy, selectivity, MDL compression) is aggregated over the
fitted layers for each encoder (``"mean"`` of the per-layer values, ``"max"`` best layer,
``"last"``) and the change is trained minus base. Groups (syntactic, semantic, surface)
average the accuracy changes of their probes.

**The syntax–semantics contrast** is the difference ``syntactic - semantic`` of the two
group means (accuracy points; bounded in [-2, 2], in practice a few hundredths), with a
percentile bootstrap interval (:func:`contrast_interval`) that resamples the probes of each
group and, within each probe, its test sentences (the per-example correctness of both
encoders, paired). ``syntax_semantics_index`` is that difference when its 95 % interval
excludes 0 and ``None`` (undetermined, with the reason in ``syntax_semantics_note``) when
it covers 0; the difference and its interval are always in ``syntax_semantics``. It
replaced the ratio ``(syn - sem) / (|syn| + |sem|)``, which is ±1 whenever one change is
near 0 (SNLI with e5-small: -1.0 from -0.010 and +0.001, two noise-sized numbers);
:func:`syntax_semantics_ratio` keeps the old formula for reading old profiles.

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
from taskdiff.errors import ConfigError, UnknownNameError

GROUPS = ("syntactic", "semantic", "surface")
METRICS = ("accuracy", "selectivity", "mdl_compression")


#: Bootstrap replicates and seed of the contrast's interval; its level.
N_BOOT, BOOT_SEED, LEVEL = 2000, 0, 0.95


def syntax_semantics_ratio(syntactic, semantic):
    """The former index, (syn - sem) / (|syn| + |sem|); 0 when both are 0, None when either is missing.

    Kept to read profiles made before the bounded difference (see the module docstring);
    it is ±1 as soon as one of the two changes is 0, whatever their size.
    """
    if syntactic is None or semantic is None:
        return None
    denom = abs(syntactic) + abs(semantic)
    return 0.0 if denom == 0 else (syntactic - semantic) / denom


def syntax_semantics_index(syntactic, semantic):
    """The contrast's point value, ``syntactic - semantic`` (None when either is missing)."""
    if syntactic is None or semantic is None:
        return None
    return float(syntactic - semantic)


def _layer_accuracies(entry_rows: dict, layers: list[int]):
    """``(correct (L, n) float array, sentence ids (n,))`` of one probe and encoder, or None."""
    rows = [entry_rows.get(l) for l in layers]
    if any(r is None or not r.get("test_correct") for r in rows):
        return None
    lengths = {len(r["test_correct"]) for r in rows}
    if len(lengths) != 1:
        return None
    correct = np.array([[c == "1" for c in r["test_correct"]] for r in rows], dtype=np.float64)
    return correct, np.asarray(rows[0]["test_sentences"], dtype=np.int64)


def _aggregate_layers(acc: np.ndarray, how: str) -> np.ndarray:
    """(B, L) accuracies -> (B,) by the layer aggregate (NaN layers ignored)."""
    if how == "mean":
        return np.nanmean(acc, axis=1)
    if how == "max":
        return np.nanmax(acc, axis=1)
    return acc[:, -1]


def _bootstrap_change(rows: dict, layers: list[int], how: str, point: float, rng, n_boot: int) -> np.ndarray:
    """(n_boot,) replicates of one probe's accuracy change, its test sentences resampled.

    Paired: base and trained are scored on the same resampled sentences (the split depends
    on the seed and the probe only). Without per-example data (fits made before
    ``FIT_VERSION`` 2) the change is held at its point value.
    """
    base, trained = _layer_accuracies(rows["base"], layers), _layer_accuracies(rows["trained"], layers)
    if base is None or trained is None or not np.array_equal(base[1], trained[1]) or base[1].size == 0:
        return np.full(n_boot, point)
    sent, inverse = np.unique(base[1], return_inverse=True)
    counts = rng.multinomial(sent.size, np.full(sent.size, 1.0 / sent.size), size=n_boot)  # (B, S)
    weights = counts[:, inverse].astype(np.float64)  # (B, n): each example weighs its sentence's count
    total = weights.sum(axis=1, keepdims=True)
    acc_b, acc_t = weights @ base[0].T / total, weights @ trained[0].T / total  # (B, L)
    return _aggregate_layers(acc_t, how) - _aggregate_layers(acc_b, how)


def contrast_interval(by_probe: dict, per_probe: dict, names: dict, layers: list[int], how: str, *,
                      n_boot: int = N_BOOT, seed: int = BOOT_SEED, level: float = LEVEL) -> dict:
    """The syntax–semantics contrast, its bootstrap interval, and whether it is determined.

    Parameters
    ----------
    by_probe : dict
        probe -> ``{"base": {layer: row}, "trained": {layer: row}}`` (rows with
        ``test_correct`` / ``test_sentences``).
    per_probe : dict
        probe -> its entry (``delta.accuracy`` is the point change).
    names : dict
        ``{"syntactic": [...], "semantic": [...]}``: the probes of each group score.
    layers, how
        The fitted layers and the layer aggregate.

    Returns
    -------
    dict
        ``difference`` (syn - sem), ``ci`` ([lo, hi], percentile bootstrap at ``level``),
        ``determined`` (the interval excludes 0), ``note``, ``n_boot``, ``n_probes``,
        ``sentence_bootstrap`` (per-example data were available for every probe).
    """
    points = {n: per_probe[n]["delta"]["accuracy"] for g in ("syntactic", "semantic") for n in names[g]}
    points = {n: v for n, v in points.items() if v is not None}
    groups = {g: [n for n in names[g] if n in points] for g in ("syntactic", "semantic")}
    out = {"difference": None, "ci": None, "determined": False, "level": level, "n_boot": n_boot,
           "n_probes": {g: len(v) for g, v in groups.items()}, "sentence_bootstrap": None}
    if not groups["syntactic"] or not groups["semantic"]:
        return {**out, "note": "no syntactic or no semantic probe with an accuracy change"}
    rng = np.random.default_rng(seed)
    reps = {n: _bootstrap_change(by_probe[n], layers, how, points[n], rng, n_boot) for g in groups for n in groups[g]}
    means = {}
    for g, members in groups.items():
        stack = np.stack([reps[n] for n in members])  # (m, B)
        pick = rng.integers(0, len(members), size=(n_boot, len(members)))  # probes resampled per replicate
        means[g] = stack[pick, np.arange(n_boot)[:, None]].mean(axis=1)
    diff = means["syntactic"] - means["semantic"]
    alpha = (1 - level) / 2
    lo, hi = (float(v) for v in np.quantile(diff, [alpha, 1 - alpha]))
    point = float(np.mean([points[n] for n in groups["syntactic"]]) - np.mean([points[n] for n in groups["semantic"]]))
    determined = not (lo <= 0.0 <= hi)
    full = all(_layer_accuracies(by_probe[n][k], layers) is not None for n in reps for k in ("base", "trained"))
    note = (f"{level:.0%} interval [{lo:.4f}, {hi:.4f}] excludes 0" if determined else
            f"undetermined: the {level:.0%} interval [{lo:.4f}, {hi:.4f}] of syntactic - semantic covers 0")
    if not full:
        note += " (probes only: some fits have no per-example results, their changes were not resampled)"
    return {**out, "difference": point, "ci": [lo, hi], "determined": determined, "note": note,
            "sentence_bootstrap": full}


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

    groups = dict(groups or {})
    for name, group in groups.items():
        if name not in names:
            raise UnknownNameError("probe (in groups)", name, names)
        if group not in GROUPS:
            raise ConfigError(f"groups[{name!r}] must be one of {GROUPS}, found {group!r}")
    return groups


def check_headroom(headroom) -> tuple[float, float] | None:
    """``headroom`` as ``(margin, ceiling)`` floats, or None; a clear error otherwise."""

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
    names = {g: [n for n, e in scored.items() if e["group"] == g] for g in GROUPS}
    contrast = contrast_interval(by_probe, per_probe, names, layers, layer_aggregate)
    summary = {
        "syntactic": group["syntactic"], "semantic": group["semantic"], "surface": group["surface"],
        "syntax_semantics_index": contrast["difference"] if contrast["determined"] else None,
        "syntax_semantics_note": contrast["note"], "syntax_semantics": contrast,
        "syntax_semantics_ratio": syntax_semantics_ratio(group["syntactic"], group["semantic"]),
        "selectivity": _mean(e["delta"]["selectivity"] for e in per_probe.values()),
        "mdl_compression": _mean(e["delta"]["mdl_compression"] for e in per_probe.values()),
        "layer_aggregate": layer_aggregate,
        "group_probes": names,
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
