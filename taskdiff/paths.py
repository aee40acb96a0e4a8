"""Where taskdiff keeps things: the run store / cache home and the local data directory."""

from __future__ import annotations

import os
from pathlib import Path


def default_home(store: str | Path | None = None) -> Path:
    """The run store root: ``store`` if given, else ``$TASKDIFF_HOME``, else ``~/.cache/taskdiff``."""
    if store:
        return Path(store).expanduser()
    env = os.environ.get("TASKDIFF_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "taskdiff"


def default_data_dir(data_dir: str | Path | None = None) -> Path | None:
    """The local data root: ``data_dir`` if given, else ``$TASKDIFF_DATA_DIR``, else None.

    The layout under it is ``xtreme/<task>/...`` (the xtreme repo's ``download/`` folder)
    and ``intermediate/<task>/...`` (each data set's released file names).
    """
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get("TASKDIFF_DATA_DIR")
    return Path(env).expanduser() if env else None
