"""Turn a :class:`StudyAnalysis` into the variables of the report templates.

Every number shown is formatted here, once, for both the HTML and the Markdown template, so
the two files carry the same content. Tables are ``{"columns", "rows", "markdown"}`` dicts.
"""

from __future__ import annotations

import datetime as _dt
import json
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from taskdiff.analysis._format import (fmt_number, fmt_p, frame_cells, frame_to_markdown,
                                       p_phrase)
from taskdiff.analysis.correlation import CORRECTION_NAMES, POOLED
from taskdiff.analysis.multitest import bh_adjust, holm_adjust
from taskdiff.analysis.report.analyses import StudyAnalysis
from taskdiff.analysis.report.published import direction_check
from taskdiff.analysis.report.records import (baseline_frame, provenance_frame, read_targets,
                                              records_sentences, study_records)
from taskdiff.analysis.table import LOG_FEATURES
from taskdiff.analysis.design import min_tasks_for_inference

__all__ = ["make_table", "build_context", "findings", "provenance_summary"]

_P = {"p": fmt_p, "p_value": fmt_p, "p_bh": fmt_p, "p_holm": fmt_p, "p_wcb": fmt_p}
_PACKAGES = ("taskdiff", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn",
             "matplotlib", "Jinja2")


def _pct2(x) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.2%}"


def make_table(df: pd.DataFrame, formats=None, index: bool = False) -> dict:
    """Header, string rows and a Markdown rendering of ``df``."""
    cols, rows = frame_cells(df, formats, index)
    return {"columns": cols, "rows": rows, "markdown": frame_to_markdown(df, formats, index)}


def _regression_sentence(a: StudyAnalysis) -> str:
    m = a.multivariable
    if not m.ok:
        return f"The pre-specified multivariable model was not fitted: {m.message}."
    f = m.results.to_frame().drop(index="const")
    alpha = a.settings["alpha"]
    sig = f[f["p"] <= alpha]
    parts = "; ".join(f"{t}: {r.estimate:+.2f} SD of gain per SD (95% CI {r.lower:+.2f} to "
                      f"{r.upper:+.2f}, {p_phrase(r.p)})" for t, r in f.iterrows())
    se = "CR2 SEs clustered by intermediate task, Bell–McCaffrey df"
    head = ("No feature of the pre-specified model has a coefficient significantly different "
            f"from 0 (α = {alpha:g}, {se})"
            if sig.empty else
            f"{len(sig)} of {len(f)} pre-specified features have coefficients significantly "
            f"different from 0 (α = {alpha:g}, {se})")
    warn = f" Caution: {m.results.small_n_warning}." if m.results.small_n_warning else ""
    return f"{head}: {parts}.{warn}{_agreement(a)}"


def _agreement(a: StudyAnalysis) -> str:
    """Name the features where the pre-specified OLS and the mixed model disagree on
    significance, so the two sections are never read as saying different things."""
    if not (a.multivariable.ok and a.mixed.ok):
        return ""
    alpha = a.settings["alpha"]
    ols, mix = a.multivariable.results.pvalues, a.mixed.results.pvalues
    split = [f"{f} (OLS {p_phrase(ols[f])}, mixed model {p_phrase(mix[f])})"
             for f in ols.index.drop("const") if f in mix.index
             and (ols[f] <= alpha) != (mix[f] <= alpha)]
    if not split:
        return " The mixed model agrees on which coefficients are significant."
    return (" The OLS (CR2) and the mixed model disagree on " + "; ".join(split)
            + ": treat these effects as not established.")


def findings(a: StudyAnalysis) -> list[str]:
    """The headline sentences: correlations, regression, prediction."""
    out = [f"Effective sample size: {a.table.n_tasks} intermediate tasks (every task-level "
           f"statistic has n = {a.table.n_tasks}, whatever the number of rows)."]
    chance = _chance_sentence(a)
    if chance:
        out.append(chance)
    if a.floor_message:
        out.append(f"No correlation or regression is reported: {a.floor_message}.")
    else:
        out.append(a.correlations.verdict() if a.correlations is not None else
                   "Correlations were not computed: they need at least 3 intermediate tasks.")
        out.append(_regression_sentence(a))
    if a.dropped_features:
        out.append(_dropped_sentence(a))
    out.append(a.evaluation.verdict() if a.evaluation is not None else
               f"Prediction was not evaluated: {a.evaluation_message}.")
    return out


def _dropped_sentence(a: StudyAnalysis) -> str:
    why = "; ".join(f"{f} — {r}" for f, r in a.dropped_features.items())
    used = ", ".join(a.settings["model_features"]) or "none"
    return f"Pre-specified features left out of the models: {why} (used: {used})."


def _baselines(a: StudyAnalysis) -> pd.DataFrame:
    src = a.table.source
    return baseline_frame(a.table.primary(), a.table.targets, read_targets(src.directory if src else None))


def _chance_sentence(a: StudyAnalysis) -> str | None:
    b = _baselines(a)
    flagged = b[b["flag"] != ""]
    if flagged.empty:
        return None
    items = "; ".join(f"{t} (mean {r['mean']:.1f}, chance {r['chance']:.1f}: {r['flag']})"
                      for t, r in flagged.iterrows())
    return (f"Baseline at chance level for {items}: the target model did not learn there, so "
            f"gains on it measure whether an intermediate task lifts it off chance, not transfer "
            f"to a working model.")


def _baseline_table(a: StudyAnalysis) -> dict:
    b = _baselines(a)
    fmt = {c: (lambda x: "–" if x is None or not np.isfinite(x) else f"{x:.1f}")
           for c in b.columns if c not in ("metric", "flag")}
    return make_table(b, {**fmt, "metric": str, "flag": str}, index=True)


def _published(a: StudyAnalysis) -> dict | None:
    d = direction_check(a.table.task_means("gain"), a.table.primary_metrics)
    if d.empty:
        return None
    fmt = {c: (lambda x: f"{x:+.1f}") for c in ("published_gain", "study_best_gain",
                                                 "study_mean_gain")}
    fmt.update({c: (lambda x: f"{x:.1f}") for c in ("published_baseline", "published_best")})
    fmt.update({c: str for c in ("study_best_intermediate", "same_direction")})
    names = {"published_baseline": "XLM-R L", "published_best": "best X-STILTs",
             "published_gain": "published gain", "study_best_intermediate": "study's best",
             "study_best_gain": "its gain", "study_mean_gain": "study mean gain",
             "same_direction": "same sign"}
    fmt = {names[k]: v for k, v in fmt.items()}
    return {"table": make_table(d.rename(columns=names), fmt, index=True),
            "note": d.attrs["note"]}


def _seed_table(a: StudyAnalysis) -> dict:
    df = a.table.primary()
    cell = df.groupby(["intermediate", "target", "language"])["gain"].agg(["mean", "std"])
    agg = cell.groupby(level=["intermediate", "target"]).mean()
    text = agg.apply(lambda r: f"{r['mean']:+.3f} ± {r['std']:.3f}" if np.isfinite(r["std"])
                     else f"{r['mean']:+.3f}", axis=1).unstack("target")
    text = text.reindex(columns=a.table.targets)
    text.index.name = "intermediate"
    out = make_table(text.fillna("–"), {c: str for c in text.columns}, index=True)
    out["note"] = ("–: no gains rows for this intermediate task and target (not run, or "
                   "not finished)" if text.isna().any().any() else "")
    return out


def _correlation_tables(a: StudyAnalysis) -> dict:
    if a.correlations is None:
        return {}
    f = a.correlations.to_frame()
    prim = a.correlations.settings["primary"]
    main = f[f["method"] == prim].drop(columns="method").sort_values(["target", "p_value"])
    pooled = f[f["target"] == POOLED].pivot(index="feature", columns="method",
                                            values="estimate")
    pooled = pooled.join(f[(f["target"] == POOLED) & (f["method"] == prim)]
                         .set_index("feature")[["p_value", "p_bh", "p_holm"]])
    return {"main": make_table(main, _P), "pooled": make_table(pooled, _P, index=True)}


def _coef_table(outcome) -> dict | None:
    return make_table(outcome.results.to_frame(), _P, index=True) if outcome.ok else None


def _univariate_frame(a: StudyAnalysis) -> pd.DataFrame:
    """One row per one-feature model, with p-values adjusted (BH, Holm) across them."""
    rows = {f: o.results.to_frame().loc[f] for f, o in a.univariate.items() if o.ok}
    if not rows:
        return pd.DataFrame()
    out = pd.DataFrame(rows).T
    out.index.name = "feature"
    out["p_bh"] = bh_adjust(out["p"].to_numpy(dtype=float))
    out["p_holm"] = holm_adjust(out["p"].to_numpy(dtype=float))
    return out


def _profiles_table(a: StudyAnalysis) -> dict:
    """Feature values per task, with each feature's kind and direction as its profiles declare them."""
    prof = a.table.task_features().T
    declared = [a.table.declarations.get(LOG_FEATURES.get(name, name)) for name in prof.index]
    prof.insert(0, "larger means", [f.direction if f else "unknown" for f in declared])
    prof.insert(0, "kind", [f.kind if f else "other" for f in declared])
    prof.index.name = "feature"
    return make_table(prof, index=True)


def _scalar(v) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def provenance_summary(prov: dict, limit: int = 600) -> str:
    """One line of a profile's provenance: scalars, small objects, measure names and runs.

    Full per-measure results (learning curves, probe tables) stay in the profile file,
    whose checksum the report lists.
    """
    parts = []
    for key, value in sorted(prov.items()):
        if key == "measures" and isinstance(value, dict):
            runs = [f"{name}" + (f" (run {e.get('run_id')})" if isinstance(e, dict)
                                 and e.get("run_id") else "") for name, e in value.items()]
            parts.append(f"measures: {', '.join(runs)}")
        elif _scalar(value):
            parts.append(f"{key}: {value}")
        elif isinstance(value, dict):
            small = {k: v for k, v in value.items() if _scalar(v)}
            parts.append(f"{key}: {json.dumps(small, sort_keys=True, default=str)}")
        elif isinstance(value, list) and all(_scalar(v) for v in value):
            parts.append(f"{key}: {json.dumps(value, default=str)}")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _provenance(a: StudyAnalysis) -> dict:
    src = a.table.source
    checks = pd.DataFrame(sorted((src.checksums if src else {}).items()),
                          columns=["file", "sha256"])
    prov = provenance_frame(src.provenance if src else {})
    versions = []
    for pkg in _PACKAGES:
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            continue
    fmt = {c: str for c in ("file", "sha256", *prov.columns)}
    return {"directory": src.directory if src else "(built in memory)",
            "checksums": make_table(checks, fmt), "profiles": make_table(prov, fmt),
            "versions": ", ".join(versions)}


def _methods(a: StudyAnalysis) -> list[str]:
    t, s = a.table, a.settings
    prim = t.primary()
    seeds = prim.groupby(["intermediate", "target", "language"])["seed"].nunique()
    corr = a.correlations.settings if a.correlations is not None else {}
    metric = ", ".join(f"{k}: {v}" for k, v in t.primary_metrics.items())
    src = t.source
    rec = study_records(src.directory if src else None, src.provenance if src else {})
    return records_sentences(rec) + [
        f"Rows analysed: {len(prim)} (primary metric per target — {metric}); "
        f"{t.n_tasks} intermediate tasks, {len(t.targets)} targets, "
        f"{prim['language'].nunique()} languages, {seeds.min()}–{seeds.max()} seeds per cell.",
        f"Effective n = {t.n_tasks} intermediate tasks: features are properties of the "
        f"intermediate task, so correlations use one mean gain per task (mean over seeds, "
        f"then languages) and regression SEs are clustered by task: CR2 (Bell–McCaffrey "
        f"bias-reduced sandwich) with Bell–McCaffrey degrees of freedom per coefficient, "
        f"valid with few clusters (CR1 with G − 1 df gave t in the thousands from 4 tasks). "
        f"Below {_floor(a)} intermediate tasks no task-level test can reach α "
        f"(smallest two-sided permutation p-value 2/n!), and no correlation, slope, SE, t, "
        f"p or interval is shown.",
        "gain = score − mean baseline score over seeds (same target, language, metric); "
        "gain_z standardises the gain within each (target, metric).",
        f"Correlations: Spearman (primary), Kendall tau-b and Pearson; two-sided "
        f"permutation p-values ({corr.get('n_perm', '–')} permutations, exact when n! is "
        f"smaller), {corr.get('level', 0.95):.0%} hierarchical bootstrap percentile intervals "
        f"({corr.get('n_boot', '–')} resamples of tasks, then languages, then seeds); "
        f"{CORRECTION_NAMES['bh']} (primary) and {CORRECTION_NAMES['holm']} corrections "
        f"over all features × targets of a method; α = {s['alpha']:g}; seed {s['seed']}.",
        f"Regression: OLS of gain_z on standardised features, one feature at a time and the "
        f"pre-specified model ({', '.join(s['model_features']) or 'none'}); mixed model "
        f"with crossed random intercepts (statsmodels MixedLM, REML; target intercepts "
        f"omitted for gain_z, which is centred within target). One-feature slopes also "
        f"get a wild cluster restricted bootstrap p-value (p_wcb; Webb weights, "
        f"{s.get('n_wild', 0)} replicates, seed {s['seed']}). Fits with fewer than "
        f"k + 2 tasks for k features, or rank-deficient designs, are refused.",
        f"Prediction: {s['predictor']}, leave-one-intermediate-task-out; metrics Spearman, "
        f"NDCG@{s['k']} (relevance = score − worst candidate's score), Regret@{s['k']} = "
        f"(O − M_k)/O on target scores, top-1 hit; baselines data size (n_examples), "
        f"LogME, best on average over the other targets, and random (exact expectation).",
    ]


def _floor(a: StudyAnalysis) -> int:

    return min_tasks_for_inference(a.settings["alpha"])


def _why_missing(a: StudyAnalysis, row) -> str:
    """Why a per-target prediction metric is shown as '–'."""
    reasons = []
    gains = a.table.task_means("gain")
    scores = a.table.task_means("score") if "score" in a.table.data.columns else None
    target = row["target"]
    if not np.isfinite(row.get("spearman", 0.0)):
        col = gains[target].dropna() if target in gains.columns else pd.Series(dtype=float)
        if col.nunique() < 2:
            reasons.append("Spearman undefined: the observed gains are equal for every task")
        else:
            reasons.append("Spearman undefined: this method gives every held-out task the "
                           "same score (e.g. a feature that is constant or missing)")
    if "regret" in row and not np.isfinite(row["regret"]):
        best = scores[target].max() if scores is not None and target in scores.columns else np.nan
        reasons.append("Regret undefined: no task has a positive target score"
                       if not (best > 0) else "Regret undefined")
    if "ndcg" in row and not np.isfinite(row["ndcg"]):
        reasons.append("NDCG undefined: every task has the same target score")
    return "; ".join(reasons)


def _per_target(a: StudyAnalysis) -> dict:
    f = a.evaluation.to_frame()
    metric_cols = [c for c in ("spearman", "ndcg", "regret", "top1") if c in f.columns]
    missing = ~np.isfinite(f[metric_cols].to_numpy(dtype=float)).all(axis=1)
    fmts = {"regret": _pct2, "top1": _pct2}
    if missing.any():
        f["why –"] = [_why_missing(a, r) if m else "" for (_, r), m in zip(f.iterrows(), missing)]
        fmts["why –"] = str
    return make_table(f, fmts)


def build_context(a: StudyAnalysis, figures: dict) -> dict:
    """All template variables (figures: name -> dict from ``save_figure`` + caption)."""
    ev = a.evaluation
    return {
        "title": f"taskdiff report — {Path(a.table.source.directory).name}"
                 if a.table.source else "taskdiff report",
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "findings": findings(a),
        "figures": figures,
        "seed_table": _seed_table(a),
        "correlations": _correlation_tables(a),
        "correlation_verdict": a.correlations.verdict() if a.correlations else None,
        "univariate": make_table(_univariate_frame(a), _P, index=True)
        if any(o.ok for o in a.univariate.values()) else None,
        "univariate_messages": [f"{f}: {o.message}" for f, o in a.univariate.items()
                                if not o.ok],
        "multivariable": {"table": _coef_table(a.multivariable),
                          "message": a.multivariable.message,
                          "notes": a.multivariable.results.header_lines()
                          if a.multivariable.ok else []},
        "mixed": {"table": _coef_table(a.mixed), "message": a.mixed.message,
                  "notes": a.mixed.results.header_lines() if a.mixed.ok else []},
        "regression_sentence": _regression_sentence(a),
        "prediction": None if ev is None else {
            "summary": make_table(*ev.summary_table()),
            "per_target": _per_target(a),
            "verdict": ev.verdict(), "notes": ev.notes},
        "prediction_message": a.evaluation_message,
        "profiles": _profiles_table(a),
        "has_probing": "probing" in figures,
        "methods": _methods(a),
        "baselines": _baseline_table(a),
        "published": _published(a),
        "floor_message": a.floor_message,
        "dropped_features": _dropped_sentence(a) if a.dropped_features else None,
        "provenance": _provenance(a),
        "fmt": fmt_number,
    }
