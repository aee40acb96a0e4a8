"""A measure's learned state on disk, without pickle.

A profile run keeps the measure's :meth:`~taskdiff.difficulty.base.Measure.learned_state`
(``pvi_``, ``regions_``, ``confidence_`` ...) beside its metrics so a measure restored
from the store has it back. The store is a cache users share and copy, so nothing in it
may execute code when read: the state is written as typed JSON (``state.json``), never
as a pickle. Written by hand because :mod:`json` has no round trip for numpy arrays,
tuples, sets and paths, and ``numpy.savez`` cannot hold nested containers without pickle.

Encoding (each tag is a one-key object, so plain dicts stay plain):

* numpy array -> ``{"__ndarray__": {"dtype": "float32", "shape": [...], "data": [...]}}``
  (numeric and boolean dtypes and unicode strings only);
* tuple -> ``{"__tuple__": [...]}``, set -> ``{"__set__": [...]}`` (sorted),
  path -> ``{"__path__": "..."}``; numpy scalars become Python numbers.

Attributes that cannot be encoded (a fitted scikit-learn model, say) are left out and named
in a debug log line: a restored measure then lacks only those.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from taskdiff.io import atomic_write_text

log = logging.getLogger(__name__)
#: File of a profile run holding the measure's learned state.
STATE_FILE = "state.json"
_TAGS = ("__ndarray__", "__tuple__", "__set__", "__path__", "__float__")


def encode(value: Any) -> Any:
    """``value`` as JSON-able data with tags for arrays, tuples, sets and paths.

    Raises
    ------
    TypeError
        If ``value`` holds something with no safe encoding (an object, a dict with non-str keys).
    """
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufU":
            raise TypeError(f"array of dtype {value.dtype} has no safe encoding")
        return {"__ndarray__": {"dtype": value.dtype.str, "shape": list(value.shape),
                                "data": [encode(v) for v in value.ravel().tolist()]}}
    if isinstance(value, PurePath):
        return {"__path__": str(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"__set__": [encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a dict with keys that are not strings has no safe encoding")
        if len(value) == 1 and next(iter(value)) in _TAGS:
            raise TypeError(f"a dict keyed {next(iter(value))!r} would read back as a tag")
        return {k: encode(v) for k, v in value.items()}
    raise TypeError(f"{type(value).__name__} has no safe encoding")


def decode(data: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        (tag, body), = data.items()
        if tag == "__ndarray__":
            flat = [decode(v) for v in body["data"]]
            return np.asarray(flat, dtype=np.dtype(body["dtype"])).reshape(body["shape"])
        if tag == "__tuple__":
            return tuple(decode(v) for v in body)
        if tag == "__set__":
            return {decode(v) for v in body}
        if tag == "__path__":
            return Path(body)
        if tag == "__float__":
            return float(body)
    return {k: decode(v) for k, v in data.items()}


def save_state(state: dict[str, Any], path: str | Path, *, owner: str = "measure") -> list[str]:
    """Write the encodable attributes of ``state`` to ``path`` atomically; return those left out."""
    encoded, skipped = {}, []
    for key, value in state.items():
        try:
            encoded[key] = encode(value)
        except TypeError as exc:
            skipped.append(key)
            log.debug("%s: learned attribute %s not saved (%s)", owner, key, exc)
    atomic_write_text(path, json.dumps(encoded, sort_keys=True, allow_nan=False) + "\n")
    return skipped


def load_state(path: str | Path) -> dict[str, Any] | None:
    """The state saved by :func:`save_state`; None when the file is absent or unreadable."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return decode(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:  # a stale or foreign file: the result is still valid
        log.warning("%s: could not read the learned state (%s: %s)", path, type(exc).__name__, exc)
        return None
