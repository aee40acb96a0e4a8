"""``python -m taskdiff.cli``: the ``taskdiff`` command line."""

from __future__ import annotations

import sys

from taskdiff.cli.commands import app

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
