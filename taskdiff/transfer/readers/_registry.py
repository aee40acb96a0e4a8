"""The reader registry: a name → a pure function ``(path, **options) -> list[dict]``.

Kept apart from ``__init__`` so that reader modules can import the decorator without a
circular import of the package they populate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from taskdiff.registry import Registry

Reader = Callable[..., list[dict[str, Any]]]
"""A reader: ``reader(path: Path, **options) -> list[dict]`` returning canonical rows."""

READERS: Registry = Registry("reader", builtins="taskdiff.transfer.readers")
"""All registered readers by name (the built-ins register when :mod:`taskdiff.transfer.readers` is imported)."""


def register_reader(name: str, *, overwrite: bool = False) -> Callable[[Reader], Reader]:
    """Register a reader function under ``name``.

    Parameters
    ----------
    name : str
        The name task configurations use (``reader: jsonl``).
    overwrite : bool
        Replace a different function registered under ``name``.

    Returns
    -------
    callable
        A decorator that records the function and returns it unchanged.

    Raises
    ------
    DuplicateNameError
        If ``name`` is already taken by a different function and ``overwrite`` is false.
    """
    return READERS.register(name, overwrite=overwrite)


def get_reader(name: str) -> Reader:
    """Return the reader registered as ``name``.

    Raises
    ------
    UnknownNameError
        If no reader has that name; the message suggests the nearest names.
    """
    return READERS.get(name)


def read(name: str, path: str | Path, **options: Any) -> list[dict[str, Any]]:
    """Look up reader ``name`` and apply it to ``path`` with ``options``."""
    return get_reader(name)(Path(path), **options)
