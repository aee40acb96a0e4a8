"""Tables the CLI prints, sized to the terminal: ``taskdiff tasks``.

The width is the terminal's (:func:`shutil.get_terminal_size`: ``$COLUMNS``, else the
terminal, else 80 columns), so that the table wraps cells, never lines, at 80 or 120 columns.
"""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path
from taskdiff.transfer.data import available_splits
from taskdiff.transfer.tasks import data_origin, get_task, list_tasks

__all__ = ["local_status", "short_languages", "tasks_table"]


def short_languages(languages: list[str], limit: int = 6) -> str:
    """``en,de`` or, for many, ``40: af,ar,bg,de,el,en,...``."""
    if len(languages) <= limit:
        return ",".join(languages)
    return f"{len(languages)}: {','.join(languages[:limit])},..."


def local_status(task, data_dir: Path | None) -> str:
    """Whether a task's data is under the data folder: ``yes``, ``no`` or ``-`` (no folder).

    "yes" means at least one split of the training language (of the first language for
    tasks that are not trained) is there; components of a mixture must all be there.
    """

    if task.components:
        parts = {local_status(get_task(c), data_dir) for c in task.components}
        return "yes" if parts == {"yes"} else ("-" if parts == {"-"} else "no")
    if task.local is None:
        return "no"
    if data_dir is None and task.base_dir is None:
        return "-"
    language = task.train_language if task.trainable else task.languages[0]
    try:
        return "yes" if available_splits(task, data_dir, language) else "no"
    except Exception:  # noqa: BLE001 - a listing must not fail on one task's files
        return "?"


def tasks_table(data_dir: Path | None, width: int | None = None) -> str:
    """The task listing as text, ``width`` columns wide (default: the terminal's)."""
    from rich.console import Console
    from rich.table import Table


    width = width or shutil.get_terminal_size((80, 24)).columns
    wide = width >= 120  # the data source needs room; below that, the languages are counted
    local_head = "local" if data_dir is not None else "local*"
    heads = ["task", "format", "role", "metric", "languages", local_head] + (["source"] if wide else [])
    table = Table(*heads, box=None, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    for t in list_tasks():
        langs = list(t.languages)
        shown = short_languages(langs) if wide else (",".join(langs) if len(langs) <= 4 else f"{len(langs)} langs")
        row = [t.name, t.format, t.role, t.metric, shown, local_status(t, data_dir)]
        table.add_row(*row, *([data_origin(t)] if wide else []))
    table.columns[4].overflow = "fold"
    if wide:
        table.columns[6].overflow = "fold"
    for col in table.columns[:4]:
        col.no_wrap = True
    table.columns[5].no_wrap = True  # "yes"/"no": never folded onto a second line
    table.columns[4].min_width = 8  # "15 langs" on one line even when long task names (user tasks) widen the first columns
    buf = StringIO()
    Console(file=buf, width=width, force_terminal=False, color_system=None).print(table)
    text = "\n".join(line.rstrip() for line in buf.getvalue().splitlines())
    notes = []
    if data_dir is None:
        notes.append("* give --data-dir (or $TASKDIFF_DATA_DIR) to see which tasks' data are local")
    if not wide:
        notes.append("(languages and data sources in full at 120 columns: COLUMNS=120 taskdiff tasks)")
    return "\n".join([text, *notes])
