"""Where ``run_transfer`` used to live; its names are re-exported from :mod:`taskdiff.study.transfer`.

``taskdiff transfer`` is a study run in this process (one orchestrator: the study graph).
The code is in :mod:`taskdiff.study.transfer`, a layer above :mod:`taskdiff.transfer`;
this module resolves ``TransferRequest``, ``run_transfer`` and ``target_languages`` on
first use, so that importing :mod:`taskdiff.transfer` never imports the study package.
New code should import from :mod:`taskdiff.study.transfer`.
"""

from __future__ import annotations

import importlib

__all__ = ["TransferRequest", "run_transfer", "target_languages"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("taskdiff.study.transfer"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
