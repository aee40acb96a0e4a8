"""Figures of the report, drawn with matplotlib's object API on the Agg canvas.

No pyplot and no global backend switch: every function builds a
:class:`matplotlib.figure.Figure` attached to a ``FigureCanvasAgg``, so calling them never
changes the backend of a user's interactive session. matplotlib is imported lazily.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats

#: Heatmaps with more cells than this are drawn without numbers in the cells.
MAX_ANNOTATED_CELLS = 150

__all__ = ["new_figure", "save_figure", "gain_heatmap", "language_heatmaps",
           "feature_scatter", "coefficient_plot", "probing_map", "loto_scatter"]


def new_figure(width: float, height: float):
    """A Figure on an Agg canvas (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, directory: Path, name: str) -> dict:
    """Write ``name.png`` and ``name.svg``; return paths and a PNG data URI."""
    directory.mkdir(parents=True, exist_ok=True)
    png, svg = directory / f"{name}.png", directory / f"{name}.svg"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    png.write_bytes(buf.getvalue())
    fig.savefig(svg, format="svg", metadata={"Date": None})
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return {"name": name, "png": png, "svg": svg, "data_uri": uri}


def _heat(ax, values: pd.DataFrame, annot: pd.DataFrame, title: str, fig):
    v = values.to_numpy(dtype=float)
    lim = np.nanmax(np.abs(v)) if np.isfinite(v).any() else 1.0
    im = ax.imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(v.shape[1]), [str(c) for c in values.columns], rotation=45, ha="right")
    ax.set_yticks(range(v.shape[0]), [str(i) for i in values.index])
    if v.size > MAX_ANNOTATED_CELLS:  # thousands of labels are unreadable and slow to draw
        ax.set_title(title, fontsize=10)
        return im
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            a = annot.iat[i, j]
            if np.isfinite(a):
                ax.text(j, i, f"{a:+.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(v[i, j]) > 0.6 * lim else "black")
    ax.set_title(title, fontsize=10)
    return im


def gain_heatmap(mean_z: pd.DataFrame, mean_gain: pd.DataFrame):
    """Intermediate x target: colour = mean gain_z, text = mean gain in metric units."""
    fig = new_figure(1.6 + 1.1 * mean_z.shape[1], 1.2 + 0.4 * mean_z.shape[0])
    ax = fig.add_subplot()
    im = _heat(ax, mean_z, mean_gain, "Mean gain per intermediate task and target", fig)
    fig.colorbar(im, ax=ax, label="mean gain_z (within-target SD)")
    ax.set_xlabel("target task")
    ax.set_ylabel("intermediate task")
    return fig


def language_heatmaps(cell_gain: pd.DataFrame, targets):
    """One panel per target: intermediate x language mean gain (metric units)."""
    n = len(targets)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    langs = max(cell_gain[t].shape[1] for t in targets)
    fig = new_figure(cols * (1.5 + 0.55 * langs), rows * (1.2 + 0.35 * len(cell_gain)))
    for k, t in enumerate(targets):
        ax = fig.add_subplot(rows, cols, k + 1)
        sub = cell_gain[t]
        im = _heat(ax, sub, sub, f"{t}", fig)
        fig.colorbar(im, ax=ax, shrink=0.8)
        if k % cols:
            ax.set_yticklabels([])
    fig.suptitle("Mean gain per language (metric units)", fontsize=11)
    return fig


def _fit_band(x: np.ndarray, y: np.ndarray, level: float = 0.95):
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0:
        return None
    b, a = np.polyfit(x, y, 1)
    grid = np.linspace(x.min(), x.max(), 50)
    resid = y - (a + b * x)
    s = np.sqrt((resid ** 2).sum() / (len(x) - 2))
    se = s * np.sqrt(1 / len(x) + (grid - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
    q = scipy.stats.t.ppf(0.5 + level / 2, len(x) - 2)
    fit = a + b * grid
    return grid, fit, fit - q * se, fit + q * se


def feature_scatter(X: pd.DataFrame, y: pd.Series, rho: dict | None = None, band: bool = True):
    """Task-level mean gain_z vs each feature, OLS line and 95% confidence band.

    ``band=False`` draws the points only (too few tasks for any interval to mean anything).
    """
    feats = list(X.columns)
    cols = min(4, len(feats))
    rows = int(np.ceil(len(feats) / cols))
    fig = new_figure(3.0 * cols, 2.5 * rows)
    for k, f in enumerate(feats):
        ax = fig.add_subplot(rows, cols, k + 1)
        x = X[f].to_numpy(dtype=float)
        ax.scatter(x, y.to_numpy(dtype=float), s=18, color="tab:blue", zorder=3)
        fitted = _fit_band(x, y.to_numpy(dtype=float)) if band else None
        if fitted is not None:
            grid, fit, lo, hi = fitted
            ax.plot(grid, fit, color="tab:red", lw=1.2)
            ax.fill_between(grid, lo, hi, color="tab:red", alpha=0.15, lw=0)
        title = f if rho is None or f not in rho else f"{f}\nρ = {rho[f]:+.2f}"
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
        if k % cols == 0:
            ax.set_ylabel("mean gain_z", fontsize=8)
    fig.suptitle("Gain vs feature (one point per intermediate task, all targets pooled)",
                 fontsize=10)
    return fig


def coefficient_plot(coefs: pd.DataFrame, title: str):
    """Estimates with intervals; ``coefs`` has index = term, columns estimate/lower/upper."""
    fig = new_figure(6.5, 1.0 + 0.32 * max(len(coefs), 1))
    ax = fig.add_subplot()
    y = np.arange(len(coefs))[::-1]
    ax.errorbar(coefs["estimate"], y, xerr=[coefs["estimate"] - coefs["lower"],
                                            coefs["upper"] - coefs["estimate"]],
                fmt="o", color="tab:blue", ecolor="tab:gray", capsize=3)
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_yticks(y, [str(i) for i in coefs.index], fontsize=8)
    ax.set_xlabel("change in gain_z per SD of the feature (95% CI: CR2, Bell–McCaffrey df)")
    ax.set_title(title, fontsize=10)
    return fig


def probing_map(profiles: pd.DataFrame, gain: pd.Series):
    """probing.syntactic vs probing.semantic per task, colour = mean gain_z."""
    fig = new_figure(6.0, 4.8)
    ax = fig.add_subplot()
    x = profiles["probing.syntactic"].to_numpy(dtype=float)
    yv = profiles["probing.semantic"].to_numpy(dtype=float)
    c = gain.reindex(profiles.index).to_numpy(dtype=float)
    lim = np.nanmax(np.abs(c)) if np.isfinite(c).any() else 1.0
    sc = ax.scatter(x, yv, c=np.nan_to_num(c), cmap="RdBu_r", vmin=-lim, vmax=lim, s=60,
                    edgecolor="black", zorder=3)
    for t, xi, yi in zip(profiles.index, x, yv):
        if np.isfinite(xi) and np.isfinite(yi):
            ax.annotate(str(t), (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=7)
    lo = np.nanmin(np.r_[x, yv]) if np.isfinite(np.r_[x, yv]).any() else 0
    hi = np.nanmax(np.r_[x, yv]) if np.isfinite(np.r_[x, yv]).any() else 1
    ax.plot([lo, hi], [lo, hi], color="gray", lw=0.8, ls=":")
    fig.colorbar(sc, ax=ax, label="mean gain_z (all targets)")
    ax.set_xlabel("probing.syntactic")
    ax.set_ylabel("probing.semantic")
    ax.set_title("Syntactic vs semantic probing profile of each intermediate task", fontsize=10)
    return fig


def loto_scatter(pred: pd.DataFrame):
    """Held-out predicted vs observed task-level gain, one panel per key."""
    keys = list(dict.fromkeys(pred["key"]))
    cols = min(3, len(keys))
    rows = int(np.ceil(len(keys) / cols))
    fig = new_figure(3.2 * cols, 2.9 * rows)
    for k, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, k + 1)
        sub = pred[pred["key"] == key]
        ax.scatter(sub["predicted"], sub["observed_gain"], s=18, zorder=3)
        both = np.r_[sub["predicted"], sub["observed_gain"]]
        both = both[np.isfinite(both)]
        if both.size:
            ax.plot([both.min(), both.max()], [both.min(), both.max()], color="gray", ls=":")
        ax.set_title(str(key), fontsize=9)
        ax.set_xlabel("predicted (held out)", fontsize=8)
        ax.set_ylabel("observed gain", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Leave-one-task-out predictions vs observed mean gain", fontsize=10)
    return fig
