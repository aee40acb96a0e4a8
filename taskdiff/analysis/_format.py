"""Plain-text and Markdown rendering of small result tables (no extra dependency)."""

from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = ["fmt_number", "fmt_p", "p_phrase", "frame_cells", "frame_to_markdown", "frame_to_text"]


def fmt_number(x, digits: int = 3) -> str:
    """A number with ``digits`` significant decimals; NaN -> "–"; ints stay ints."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if abs(x) < 1e-12:
            return f"{0:.{digits}f}"
        if abs(x) >= 1e5 or abs(x) < 10 ** -digits:
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}f}"
    return str(x)


def fmt_p(p) -> str:
    """A p-value: 3 decimals, "<0.001" below."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(p) -> str:
    """``"p < 0.001"`` or ``"p = 0.123"`` for running text."""
    s = fmt_p(p)
    return f"p {s[0]} {s[1:]}" if s.startswith("<") else f"p = {s}"


def frame_cells(df: pd.DataFrame, formats: Mapping[str, Callable] | None, index: bool):
    """Header and rows of ``df`` as strings (``formats``: column -> formatter)."""
    formats = dict(formats or {})
    cols = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    rows = []
    for idx, row in df.iterrows():
        cells = [str(idx)] if index else []
        for c in df.columns:
            f = formats.get(c, fmt_number)
            cells.append(f(row[c]))
        rows.append(cells)
    return cols, rows


def frame_to_markdown(df: pd.DataFrame, formats: Mapping[str, Callable] | None = None,
                      index: bool = False) -> str:
    """A GitHub-flavoured Markdown table; ``formats`` maps column -> formatter."""
    cols, rows = frame_cells(df, formats, index)
    esc = [[c.replace("|", "\\|") for c in r] for r in [cols] + rows]
    lines = ["| " + " | ".join(esc[0]) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return "\n".join(lines)


def frame_to_text(df: pd.DataFrame, formats: Mapping[str, Callable] | None = None,
                  index: bool = False) -> str:
    """A fixed-width plain-text table."""
    cols, rows = frame_cells(df, formats, index)
    widths = [max(len(r[i]) for r in [cols] + rows) for i in range(len(cols))]
    fmt = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(cols), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])
