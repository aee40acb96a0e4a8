"""Exceptions with messages a user can act on.

Every error raised for bad input names *where* (file, line, field), *what was expected* and
*what was found*, so that the CLI can print it as one line and exit non-zero.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable


class TaskdiffError(Exception):
    """Base class of all errors that the CLI reports as one line (no traceback)."""


class DataError(TaskdiffError):
    """A data file does not have the expected content.

    Parameters
    ----------
    path : str or Path
        The offending file.
    expected : str
        What the reader expected.
    found : str
        What it found instead (shortened).
    line : int, optional
        1-based line (or record) number.
    field : str, optional
        The column, key or field name.
    """

    def __init__(self, path, expected: str, found: str, line: int | None = None,
                 field: str | None = None):
        self.path = str(path)
        self.expected = expected
        self.found = _shorten(found)
        self.line = line
        self.field = field
        where = self.path + (f":{line}" if line is not None else "")
        if field is not None:
            where += f" (field {field!r})"
        super().__init__(f"{where}: expected {expected}, found {self.found}")


class ConfigError(TaskdiffError):
    """A configuration (task YAML, study YAML, CLI option) is invalid."""


class UnknownNameError(TaskdiffError, KeyError):
    """A name (task, measure, reader, model ...) is not registered; suggests the nearest."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
        super().__init__(f"unknown {kind} {name!r}{hint} (known: {listing})")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class DuplicateNameError(ConfigError, ValueError):
    """A name (measure, task, reader ...) is already registered to something else.

    The one duplicate rule of :class:`taskdiff.registry.Registry`: registering the same
    object again is a no-op; a different one raises this unless ``overwrite=True``. It is a
    :class:`ConfigError` (the CLI prints it as one line) and a :class:`ValueError`.
    """

    def __init__(self, kind: str, name: str, existing: object = None):
        self.kind, self.name = kind, name
        owner = getattr(existing, "__qualname__", None)
        held = f" ({getattr(existing, '__module__', '')}.{owner})" if owner else ""
        super().__init__(f"{kind} {name!r} is already registered{held}; pass overwrite=True to replace it")


class NumericalError(TaskdiffError):
    """A numerical failure: training produced a NaN or infinite loss, a model could not be fitted."""


class ZeroShotViolation(TaskdiffError):
    """A non-English example reached training or model selection."""


def _shorten(text: object, limit: int = 80) -> str:
    s = repr(text) if not isinstance(text, str) else text
    return s if len(s) <= limit else s[: limit - 3] + "..."


def safe_join(base: str | Path, relative: str | Path) -> Path:
    """Join ``relative`` onto ``base`` and refuse any result outside ``base``.

    Raises
    ------
    ConfigError
        If ``relative`` is absolute or escapes ``base`` (``..``, symlinks).
    """
    base_p = Path(base).resolve()
    rel = Path(relative)
    if rel.is_absolute():
        raise ConfigError(f"path {str(relative)!r} must be relative to {base_p}, found an absolute path")
    target = (base_p / rel).resolve()
    if target != base_p and base_p not in target.parents:
        raise ConfigError(f"path {str(relative)!r} escapes its base directory {base_p}")
    return target
