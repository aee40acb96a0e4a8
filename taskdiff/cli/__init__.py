"""The ``taskdiff`` command line (typer), the top layer of the package.

* :mod:`taskdiff.cli.commands` - the app and the commands ``tasks``, ``transfer``,
  ``profile``, ``predict``, ``report`` and ``demo``;
* :mod:`taskdiff.cli.study` - ``study`` and ``status`` (:func:`~taskdiff.cli.study.register`);
* :mod:`taskdiff.cli.checks` - the checks made before any work (data folder, output
  folders, model name, languages, ``--param``);
* :mod:`taskdiff.cli.common` - setup, logging levels, one-line errors (``friendly``), list options;
* :mod:`taskdiff.cli.predict` - what ``predict`` and ``report`` check and print around the analysis;
* :mod:`taskdiff.cli.tables` - the ``tasks`` table.

The console entry point is ``taskdiff.cli:app``; ``python -m taskdiff.cli`` runs the same app.
Nothing in the package imports this one (the layers contract in ``pyproject.toml``).
"""

from __future__ import annotations

from taskdiff.cli.commands import app, main

__all__ = ["app", "main"]
