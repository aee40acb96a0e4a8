"""The reader registry: a name → a pure function ``(path, **options) -> list[dict]``.

Kept apart from ``__init__`` so that reader modules can import the decorator without a
circular import of the package they populate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from taskdiff.errors import UnknownNameError

Reader = Callable[..., list[dict[str, Any]]]
"""A reader: ``reader(path: Path, **options) -> list[dict]`` returning canonical rows."""

READERS: dict[str, Reader] = {}
"""All registered readers by name (filled when :mod:`taskdiff.transfer.readers` is imported)."""


def register_reader(name: str) -> Callable[[Reader], Reader]:
    """Register a reader function under ``name``.

    Parameters
    ----------
    name : str
        The name task configurations use (``reader: jsonl``).

    Returns
    -------
    callable
        A decorator that records the function and returns it unchanged.

    Raises
    ------
    ValueError
        If ``name`` is already taken by a different function (a programming error).
    """

    def decorate(func: Reader) -> Reader:
        known = READERS.get(name)
        if known is not None and known is not func:
            raise ValueError(f"reader {name!r} is already registered ({known.__module__}.{known.__name__})")
        READERS[name] = func
        return func

    return decorate


def get_reader(name: str) -> Reader:
    """Return the reader registered as ``name``.

    Raises
    ------
    UnknownNameError
        If no reader has that name; the message suggests the nearest names.
    """
    try:
        return READERS[name]
    except KeyError:
        raise UnknownNameError("reader", name, READERS) from None


def read(name: str, path: str | Path, **options: Any) -> list[dict[str, Any]]:
    """Look up reader ``name`` and apply it to ``path`` with ``options``."""
    return get_reader(name)(Path(path), **options)
