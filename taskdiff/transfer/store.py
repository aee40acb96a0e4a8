"""The run store: a cache of fine-tuning and evaluation runs, safe against kills and races.

Each run is identified by a :class:`RunSpec` (a kind and a JSON-able configuration) and
lives in ``<root>/runs/<run_id>/`` where ``run_id = f"{kind}-{config_hash}"``. A run is
*done* only when its ``DONE`` marker exists **and** every file whose SHA-256 the marker
records still has that checksum, so a half-written, killed or corrupted run is never
taken for a finished one. Runs are serialised across processes by a ``filelock`` lock on
``<root>/runs/<run_id>.lock``. See ``docs/run-store.md`` for the layout and guarantees.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import shutil
import traceback
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import filelock

from taskdiff import provenance
from taskdiff.errors import ConfigError, DataError, TaskdiffError, safe_join
from taskdiff.io import atomic_write_json, is_temp_file, read_json, remove_temp_files, sha256_file_cached
from taskdiff.paths import default_home

__all__ = ["CountingStore", "RunHandle", "RunLockedError", "RunNotDoneError", "RunResult", "RunSpec",
           "RunStore", "VersionMismatchWarning", "STATES"]

logger = logging.getLogger(__name__)

FORMAT, CHECKPOINTS = 1, "checkpoints"
CONFIG, METRICS, DONE, ERROR = "config.json", "metrics.json", "DONE", "ERROR.json"
RESERVED = frozenset({CONFIG, METRICS, DONE, ERROR})
STATES = ("done", "running", "failed", "pending")
_KIND = re.compile(r"[a-z][a-z0-9_]*\Z")
_RUN_ID = re.compile(r"[a-z][a-z0-9_]*-[0-9a-f]{16}\Z")


class RunNotDoneError(TaskdiffError, LookupError):
    """A run's results were asked for, but the run is not (validly) done."""


class RunLockedError(TaskdiffError, TimeoutError):
    """A run's lock could not be taken within the timeout (another process holds it)."""


class VersionMismatchWarning(UserWarning):
    """A cached run was made with other library versions than the current ones."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclasses.dataclass(frozen=True, eq=False)
class RunSpec:
    """What a run is: its ``kind`` and its JSON-able ``config``; equal specs share a run.

    Parameters
    ----------
    kind : str
        Lower-case identifier, e.g. ``"intermediate"``, ``"target"``, ``"evaluation"``,
        ``"profile"``.
    config : mapping
        Model name, task, seed, hyperparameters, parent run ids ... It is normalised by
        :func:`taskdiff.provenance.normalize` (key order, tuple vs list and ``3`` vs
        ``3.0`` do not matter) and should hold names, not absolute paths.
    """

    kind: str
    config: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not _KIND.match(self.kind):
            raise ConfigError(f"run kind must match [a-z][a-z0-9_]*, found {self.kind!r}")
        if not isinstance(self.config, Mapping):
            raise ConfigError(f"run config must be a mapping, found {type(self.config).__name__}")
        try:
            config = provenance.normalize(self.config)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"run config of kind {self.kind!r} is not JSON-able: {err}") from None
        object.__setattr__(self, "config", config)
        object.__setattr__(self, "_run_id", f"{self.kind}-{provenance.config_hash(config)}")

    @property
    def run_id(self) -> str:
        """``f"{kind}-{config_hash(config)}"``."""
        return self._run_id  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunSpec) and other.run_id == self.run_id

    def __hash__(self) -> int:
        return hash(self.run_id)


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What :meth:`RunStore.get_or_run` returns; ``hit`` is True when nothing was run."""

    metrics: dict[str, Any]
    hit: bool
    run_id: str
    path: Path


class RunHandle:
    """A run in progress, given to the function that :meth:`RunStore.get_or_run` runs.

    Files written with :meth:`write_json` or registered with :meth:`track` are
    checksummed into ``DONE`` by :meth:`finish`. ``checkpoint_dir`` is for resumable state;
    it is not checksummed and survives failures.
    """

    def __init__(self, spec: RunSpec, path: Path):
        self.spec, self.path, self.run_id = spec, path, spec.run_id
        self._tracked: dict[str, None] = {}
        self.finished = False

    @property
    def checkpoint_dir(self) -> Path:
        """``<run dir>/checkpoints`` (created on first access)."""
        path = self.path / CHECKPOINTS
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _resolve(self, name: str) -> tuple[Path, str]:
        path = safe_join(self.path, name)
        rel = path.relative_to(self.path.resolve()).as_posix()
        if rel in RESERVED or rel == ".":
            raise ConfigError(f"{name!r} is reserved by the run store")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, rel

    def file(self, name: str) -> Path:
        """The path of ``name`` inside the run dir (parents created); refuses reserved names."""
        return self._resolve(name)[0]

    def track(self, *names: str) -> None:
        """Register files or directories (relative to the run dir) for :meth:`finish` to
        checksum; a directory stands for every file under it when the run finishes."""
        for name in names:
            self._tracked[self._resolve(name)[1]] = None

    def write_json(self, name: str, obj: Any, *, allow_nan: bool = False) -> Path:
        """Write ``obj`` to ``name`` atomically and :meth:`track` it."""
        path = atomic_write_json(self.file(name), obj, allow_nan=allow_nan)
        self.track(name)
        return path

    def finish(self, metrics: Mapping[str, Any], files: Iterable[str] = ()) -> Path:
        """Write ``metrics.json``, then ``DONE`` with the SHA-256 of every listed file.

        Parameters
        ----------
        metrics : mapping
            JSON-able, finite numbers only.
        files : iterable of str
            Files relative to the run dir, in addition to the tracked ones.
        """
        if not isinstance(metrics, Mapping):
            raise TypeError(f"run {self.run_id}: metrics must be a dict, found {type(metrics).__name__}")
        self.track(*files)
        names = self._expand()
        missing = [n for n in names if not (self.path / n).is_file()]
        if missing:
            raise FileNotFoundError(f"run {self.run_id}: listed files missing: {missing}")
        atomic_write_json(self.path / METRICS, dict(metrics))
        sums = {n: sha256_file_cached(self.path / n) for n in [CONFIG, METRICS, *names]}
        with contextlib.suppress(FileNotFoundError):
            (self.path / ERROR).unlink()
        atomic_write_json(self.path / DONE, {"format": FORMAT, "run_id": self.run_id,
                                             "finished": _now(), "sha256": sums})
        self.finished = True
        return self.path / DONE

    def _expand(self) -> list[str]:
        names: list[str] = []
        for rel in self._tracked:
            if (self.path / rel).is_dir():
                names += sorted(p.relative_to(self.path).as_posix() for p in (self.path / rel).rglob("*")
                                if p.is_file() and not is_temp_file(p))
            else:
                names.append(rel)
        return list(dict.fromkeys(names))


def _read_optional(path: Path) -> dict | None:
    try:
        data = read_json(path)
    except (FileNotFoundError, DataError):
        return None
    return data if isinstance(data, dict) else None


def _rid(spec: RunSpec | str) -> str:
    if isinstance(spec, RunSpec):
        return spec.run_id
    if not isinstance(spec, str) or not _RUN_ID.match(spec):
        raise ConfigError(f"expected a run id like 'target-0123456789abcdef', found {spec!r}")
    return spec


class RunStore:
    """The run store rooted at ``root`` (default :func:`taskdiff.paths.default_home`).

    Methods that take a ``spec`` also accept a run id string, except :meth:`begin` and
    :meth:`get_or_run`, which need the configuration.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = default_home(root).absolute()
        self.runs_dir = self.root / "runs"

    def run_dir(self, spec: RunSpec | str) -> Path:
        """``<root>/runs/<run_id>`` (not created)."""
        return self.runs_dir / _rid(spec)

    def lock(self, spec: RunSpec | str, timeout: float = -1) -> filelock.FileLock:
        """A new inter-process lock on ``<root>/runs/<run_id>.lock`` (``timeout < 0``: wait).

        Use it as a context manager. It is an OS lock (``flock``): the kernel frees it when
        the holder dies, even by ``SIGKILL``; two lock objects conflict even in one process.
        """
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(self.runs_dir / f"{_rid(spec)}.lock", timeout=timeout)

    @contextlib.contextmanager
    def _locked(self, rid: str, timeout: float, consequence: str) -> Iterator[None]:
        lock = self.lock(rid, timeout)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise RunLockedError(f"run {rid} is locked by another process (waited {timeout} s); "
                                 f"{consequence}") from None
        try:
            yield
        finally:
            lock.release()

    def _done_problem(self, rid: str) -> str | None:
        """Why the run is not validly done, or None if it is."""
        path = self.runs_dir / rid
        try:
            done = read_json(path / DONE)
        except FileNotFoundError:
            return "no DONE marker"
        except (DataError, OSError) as err:
            return f"unreadable DONE marker: {err}"
        if not isinstance(done, dict) or done.get("run_id") != rid or not isinstance(done.get("sha256"), dict):
            return "DONE marker of another run or format"
        for name, digest in done["sha256"].items():
            try:
                if sha256_file_cached(safe_join(path, name)) != digest:
                    return f"checksum mismatch: {name}"
            except (OSError, ConfigError) as err:
                return f"listed file unreadable: {name} ({err})"
        return None

    def is_done(self, spec: RunSpec | str) -> bool:
        """Whether ``DONE`` exists and every file it lists has the recorded checksum."""
        problem = self._done_problem(_rid(spec))
        if problem is not None and problem != "no DONE marker":
            logger.warning("run %s is not done: %s", _rid(spec), problem)
        return problem is None

    def begin(self, spec: RunSpec) -> RunHandle:
        """Start (or restart) a run: create its dir, write ``config.json`` (hold :meth:`lock`).

        A stale ``DONE`` is removed first, then temporary files of interrupted writes;
        ``checkpoints/`` is kept for resuming. ``config.json`` records the spec, library
        versions, creation time, host, pid, attempt number and any previous error.
        """
        path = self.runs_dir / spec.run_id
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (path / DONE).unlink()
        remove_temp_files(path)
        previous = _read_optional(path / CONFIG)
        record = {"format": FORMAT, "run_id": spec.run_id, "kind": spec.kind, "config": spec.config,
                  "versions": provenance.library_versions(), "created": _now(),
                  "attempt": int(previous.get("attempt", 0)) + 1 if previous else 1,
                  "previous_error": _read_optional(path / ERROR), **provenance.host_info()}
        atomic_write_json(path / CONFIG, record)
        return RunHandle(spec, path)

    def load_config(self, spec: RunSpec | str) -> dict[str, Any]:
        """The run's ``config.json`` record (spec, versions, host ...)."""
        return read_json(self.runs_dir / _rid(spec) / CONFIG)

    def load_metrics(self, spec: RunSpec | str) -> dict[str, Any]:
        """The metrics of a done run; raises :class:`RunNotDoneError` otherwise."""
        problem = self._done_problem(_rid(spec))
        if problem is not None:
            raise RunNotDoneError(f"run {_rid(spec)} is not done ({problem})")
        return read_json(self.runs_dir / _rid(spec) / METRICS)

    def versions_mismatch(self, spec: RunSpec | str, *,
                          stacklevel: int = 2) -> dict[str, tuple[str | None, str | None]]:
        """Libraries whose recorded version differs from the current one, warned about.

        Returns ``{name: (recorded, current)}`` (``None`` = absent); when it is not
        empty a :class:`VersionMismatchWarning` is issued and logged.
        """
        recorded = (_read_optional(self.runs_dir / _rid(spec) / CONFIG) or {}).get("versions") or {}
        current = provenance.library_versions()
        diff = {k: (recorded.get(k), current.get(k)) for k in sorted(set(recorded) | set(current))
                if recorded.get(k) != current.get(k)}
        if diff:
            text = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in diff.items())
            message = f"cached run {_rid(spec)} was made with other library versions: {text}"
            logger.warning(message)
            warnings.warn(message, VersionMismatchWarning, stacklevel=stacklevel)
        return diff

    def get_or_run(self, spec: RunSpec, fn: Callable[[RunHandle], Mapping[str, Any] | None],
                   *, timeout: float = -1) -> RunResult:
        """Return the cached metrics of ``spec``, or run ``fn(handle)`` once and cache them.

        Under the run's lock the done check is repeated, so of several processes asking for
        the same run only one runs ``fn``; the others get a hit. ``fn`` returns the metrics
        (or calls ``handle.finish`` itself and returns None). If ``fn`` raises, ``ERROR.json``
        is written and the exception re-raised; checkpoints are kept.

        Raises
        ------
        RunLockedError
            If the lock is not free within ``timeout`` seconds (``< 0``: wait forever).
        """
        if self.is_done(spec):
            return self._hit(spec, "")
        with self._locked(spec.run_id, timeout, "not run"):
            if self.is_done(spec):
                return self._hit(spec, " (finished by another process)")
            handle = self.begin(spec)
            self._run(handle, fn)
        logger.info("run %s finished: %s", spec.run_id, handle.path)
        return RunResult(read_json(handle.path / METRICS), False, spec.run_id, handle.path)

    def _hit(self, spec: RunSpec, note: str) -> RunResult:
        logger.info("cache hit%s: %s (%s)", note, spec.run_id, self.run_dir(spec))
        self.versions_mismatch(spec, stacklevel=4)
        return RunResult(self.load_metrics(spec), True, spec.run_id, self.run_dir(spec))

    def _run(self, handle: RunHandle, fn: Callable[[RunHandle], Any]) -> None:
        try:
            metrics = fn(handle)
            if not handle.finished:
                handle.finish(metrics)
        except BaseException as err:
            record = {"type": type(err).__name__, "message": str(err), "time": _now(),
                      "traceback": traceback.format_exc(limit=20)}
            try:
                atomic_write_json(handle.path / ERROR, record)
            except Exception:  # never hide the run's own error
                logger.exception("could not write %s", handle.path / ERROR)
            logger.error("run %s failed: %s: %s", handle.run_id, record["type"], err)
            raise

    def list_runs(self) -> list[str]:
        """The run ids that have a directory in the store, sorted."""
        entries = self.runs_dir.iterdir() if self.runs_dir.is_dir() else ()
        return sorted(p.name for p in entries if p.is_dir() and _RUN_ID.match(p.name))

    def _lock_held(self, rid: str) -> bool:
        if not (self.runs_dir / f"{rid}.lock").exists():
            return False
        try:
            with self.lock(rid, timeout=0):
                return False
        except filelock.Timeout:
            return True

    def state(self, spec: RunSpec | str) -> str:
        """One of :data:`STATES`: done, running (lock held), failed (a dir without a valid
        ``DONE`` and no lock holder: an error, a kill or corruption), pending (no dir)."""
        rid = _rid(spec)
        if self._done_problem(rid) is None:
            return "done"
        if self._lock_held(rid):
            return "running"
        return "failed" if (self.runs_dir / rid).is_dir() else "pending"

    def status(self, specs: Iterable[RunSpec | str] | None = None) -> dict[str, int]:
        """Counts per state of ``specs`` (default: every run in the store)."""
        counts = dict.fromkeys(STATES, 0)
        for spec in self.list_runs() if specs is None else specs:
            counts[self.state(spec)] += 1
        return counts

    def invalidate(self, spec: RunSpec | str, timeout: float = 0) -> bool:
        """Delete a run (``DONE`` first, then its dir); return whether it existed.

        Raises :class:`RunLockedError` if the run is in progress (lock not free in ``timeout``).
        """
        rid = _rid(spec)
        path = self.runs_dir / rid
        with self._locked(rid, timeout, "not invalidated"):
            if not path.exists():
                return False
            with contextlib.suppress(FileNotFoundError):
                (path / DONE).unlink()
            shutil.rmtree(path)
        logger.info("invalidated run %s", rid)
        return True


class CountingStore(RunStore):
    """A :class:`RunStore` that counts the runs it computed and the runs it reused, per kind.

    The CLI's summary line (:func:`taskdiff.progress.summary_line`) reads ``trained`` and
    ``reused``; subclass it like any store.

    Attributes
    ----------
    trained, reused : dict of str to int
        Runs computed by ``fn`` / found done, per run kind, through :meth:`get_or_run`.
    """

    def __init__(self, root: str | Path | None = None):
        super().__init__(root)
        self.trained: dict[str, int] = {}
        self.reused: dict[str, int] = {}

    def get_or_run(self, spec: RunSpec, fn: Callable[[RunHandle], Mapping[str, Any] | None],
                   **kwargs) -> RunResult:
        """:meth:`RunStore.get_or_run`, counted in ``reused`` (a hit) or ``trained``."""
        result = super().get_or_run(spec, fn, **kwargs)
        counts = self.reused if result.hit else self.trained
        counts[spec.kind] = counts.get(spec.kind, 0) + 1
        return result
