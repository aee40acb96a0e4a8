"""Write ``report.html`` (self-contained) and ``report.md`` (+ ``figures/``) for a study.

The HTML file embeds every figure as a ``data:image/png;base64`` URI and its CSS inline; it
references no external URL, stylesheet or script, so it can be mailed or archived alone.
The Markdown file has the same content and refers to the PNG files in ``figures/``, which
also holds an SVG of every figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from taskdiff.analysis.correlation import POOLED
from taskdiff.analysis.report import figures as F
from taskdiff.analysis.report.analyses import StudyAnalysis, analyse_study
from taskdiff.analysis.report.context import build_context
from taskdiff.analysis.table import load_study

__all__ = ["write_report", "render_report", "make_figures", "has_probing"]

CAPTIONS = {
    "gains": "Mean gain per intermediate task (rows) and target (columns). Colour: mean "
             "gain_z (within-target SD units); text: mean gain in the target's metric.",
    "languages": "Mean gain per intermediate task and language, one panel per target "
                 "(metric units).",
    "scatter": "Task-level mean gain_z (all targets pooled) against each feature, with the "
               "OLS line and its 95% confidence band; ρ = Spearman (pooled row of the "
               "correlation table).",
    "coefficients": "Standardised slope of gain_z on each feature, one OLS per feature, 95% "
                    "interval from CR2 SEs clustered by intermediate task with "
                    "Bell–McCaffrey degrees of freedom.",
    "probing": "Syntactic vs semantic probing accuracy of each intermediate task; colour: "
               "mean gain_z over targets; dotted: syntactic = semantic.",
    "loto": "Leave-one-task-out: predicted (held-out) vs observed mean gain per target; "
            "dotted: perfect prediction.",
}


SCATTER_POINTS_ONLY = ("Task-level mean gain_z (all targets pooled) against each feature, one "
                       "point per intermediate task; no fitted line, band or correlation: too "
                       "few tasks for any of them to mean anything.")


def has_probing(table) -> bool:
    """Whether some intermediate task has both probing.syntactic and probing.semantic."""
    cols = ["probing.syntactic", "probing.semantic"]
    if not set(cols) <= set(table.profiles.columns):
        return False
    return bool(table.task_features(cols).notna().all(axis=1).any())


def make_figures(a: StudyAnalysis, figure_dir: Path) -> dict:
    """Draw, save (PNG + SVG) and describe every figure; returns name -> info dict."""
    t = a.table
    pooled = t.task_means("gain_z").mean(axis=1)
    drawn = {"gains": F.gain_heatmap(t.task_means("gain_z"), t.task_means("gain")),
             "languages": F.language_heatmaps(t.cell_means("gain"), t.targets)}
    feats = a.settings["features"]
    if feats:
        rho = {}
        if a.correlations is not None:
            f = a.correlations.to_frame()
            sel = f[(f["target"] == POOLED) & (f["method"] == "spearman")]
            rho = dict(zip(sel["feature"], sel["estimate"]))
        drawn["scatter"] = F.feature_scatter(t.task_features(feats), pooled, rho,
                                             band=a.floor_message is None)
    uni = {f: o.results.to_frame().loc[f] for f, o in a.univariate.items() if o.ok}
    if uni:
        import pandas as pd
        drawn["coefficients"] = F.coefficient_plot(
            pd.DataFrame(uni).T, "One-feature models (CR2, Bell–McCaffrey 95% CI)")
    if has_probing(t):
        drawn["probing"] = F.probing_map(t.task_features(["probing.syntactic",
                                                          "probing.semantic"]), pooled)
    if a.evaluation is not None:
        drawn["loto"] = F.loto_scatter(a.evaluation.predictions)
    out = {}
    for name, fig in drawn.items():
        info = F.save_figure(fig, figure_dir, name)
        info["caption"] = CAPTIONS[name]
        if name == "scatter" and a.floor_message:
            info["caption"] = SCATTER_POINTS_ONLY
        info["png_rel"] = f"{figure_dir.name}/{name}.png"
        info["svg_rel"] = f"{figure_dir.name}/{name}.svg"
        out[name] = info
    return out


def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("taskdiff.analysis.report", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def render_report(a: StudyAnalysis, out_dir: str | Path) -> tuple[Path, Path]:
    """Render an analysed study into ``out_dir``; returns (html path, md path)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = make_figures(a, out_dir / "figures")
    ctx = build_context(a, figs)
    env = _environment()
    html = out_dir / "report.html"
    md = out_dir / "report.md"
    html.write_text(env.get_template("report.html.j2").render(**ctx), encoding="utf-8")
    md.write_text(env.get_template("report.md.j2").render(**ctx), encoding="utf-8")
    return html, md


def write_report(study_dir: str | Path, out_dir: str | Path, *,
                 features: Sequence[str] | None = None,
                 model_features: Sequence[str] | None = None, metrics=None, k: int = 3,
                 seed: int = 0, n_perm: int = 9999, n_boot: int = 2000,
                 alpha: float = 0.05) -> tuple[Path, Path]:
    """Analyse a study directory and write ``report.html`` and ``report.md``.

    Parameters
    ----------
    study_dir : str or Path
        Directory with ``gains.csv`` and ``profiles/``.
    out_dir : str or Path
        Output directory (created); figures go to ``out_dir/figures/``.
    features : sequence of str, optional
        Features to analyse one at a time (default: every usable feature).
    model_features : sequence of str, optional
        Features of the multivariable and mixed models (default: size, normalised
        baseline loss, syntax-semantics index).
    metrics : str or mapping, optional
        Primary metric per target (see :func:`taskdiff.analysis.load_study`).
    k : int
        Cut-off of NDCG@k and Regret@k.
    seed, n_perm, n_boot, alpha
        Random seed, permutations, bootstrap resamples, significance level.

    Returns
    -------
    (Path, Path)
        ``report.html`` and ``report.md``.
    """
    table = load_study(study_dir, metrics=metrics)
    analysis = analyse_study(table, features=features, model_features=model_features, k=k,
                             seed=seed, n_perm=n_perm, n_boot=n_boot, alpha=alpha)
    return render_report(analysis, out_dir)
