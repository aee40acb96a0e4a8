"""One registry class for every pluggable name: measures, tasks, readers, metrics, formats, executors.

A :class:`Registry` maps names to objects (classes, functions, configs). All six registries
of taskdiff are instances of it, so they share one behaviour:

* :meth:`Registry.register` records an object under a name, and works as a decorator
  (``@REG.register("name")``);
* :meth:`Registry.get` returns it, or raises :class:`~taskdiff.errors.UnknownNameError`
  whose message suggests the nearest known names ("did you mean ...?");
* :meth:`Registry.names` lists every name, sorted, without importing anything lazy;
* **one duplicate rule**: registering the same object (``is`` or ``==``) again is a no-op;
  a different object under a taken name raises :class:`~taskdiff.errors.DuplicateNameError`
  unless ``overwrite=True``;
* built-ins are loaded lazily, once: ``builtins`` is a module name (imported on first use),
  a callable (called on first use), or a mapping name -> module (the module is imported
  when that name is first asked for; the names are listed without importing);
* an optional entry-point ``group``: installed packages add names without touching
  taskdiff; entry points are listed once and loaded when their name is first asked for.
  A name registered in Python or built in wins over an entry point of the same name.

The module imports nothing heavy (no torch), so any layer may use it.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, Callable, Iterator, TypeVar

from taskdiff.errors import ConfigError, DuplicateNameError, UnknownNameError

log = logging.getLogger(__name__)

T = TypeVar("T")
_MISSING = object()
_ALL = "*"  # the key of a module or callable built-in loader in ``Registry._loaded``


def _same(a: object, b: object) -> bool:
    """True when ``b`` is ``a`` again (identity, else equality that does not raise)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - objects whose == is not a truth value
        return False


class Registry(Mapping[str, T]):
    """Names -> objects, with lazy built-ins, entry points and one duplicate rule.

    Parameters
    ----------
    kind : str
        What the names are ("measure", "task" ...), used in error messages.
    builtins : str, callable or mapping, optional
        The lazy built-in loader: a module name imported on first use, a zero-argument
        callable called on first use (it registers the built-ins), or a mapping
        ``name -> module`` whose module is imported when ``name`` is first needed.
    group : str, optional
        An entry-point group (``importlib.metadata``) whose entries add names.
    check : callable, optional
        ``check(name, obj) -> obj`` run on every registered object; raises
        :class:`~taskdiff.errors.ConfigError` when ``obj`` does not fit.

    Examples
    --------
    >>> READERS = Registry("reader")
    >>> @READERS.register("lines")
    ... def lines(path):
    ...     return open(path).read().splitlines()
    >>> READERS.get("lines") is lines, READERS.names()
    (True, ['lines'])
    """

    def __init__(self, kind: str, *, builtins: str | Callable[[], Any] | Mapping[str, str] | None = None,
                 group: str | None = None, check: Callable[[str, Any], Any] | None = None):
        self.kind = kind
        self.group = group
        self._builtins = builtins
        self._check = check
        self._items: dict[str, T] = {}
        self._loaded: set[str] = set()
        self._entries: dict | None = None
        self._lock = threading.RLock()

    # ----------------------------------------------------------------------- writing
    def register(self, name: str, obj: T | None = None, *, overwrite: bool = False):
        """Record ``obj`` under ``name``; without ``obj``, return a decorator that does.

        Returns
        -------
        The object (or the decorator), unchanged, so it works as a decorator.

        Raises
        ------
        DuplicateNameError
            If ``name`` holds a different object and ``overwrite`` is false.
        """
        if obj is None:
            return lambda o: self.register(name, o, overwrite=overwrite)
        with self._lock:
            self._load_builtins(name)
            if self._check is not None:
                obj = self._check(name, obj)
            existing = self._items.get(name, _MISSING)
            if existing is not _MISSING and _same(existing, obj):
                return obj  # the same again: a no-op (the first one stays)
            if existing is not _MISSING and not overwrite:
                raise DuplicateNameError(self.kind, name, existing)
            self._items[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests; a built-in comes back only by re-registering it)."""
        with self._lock:
            self._items.pop(name, None)

    def reset_entry_points(self) -> None:
        """Forget the listed entry points (tests; after installing a plugin in-process)."""
        self._entries = None

    # ----------------------------------------------------------------------- reading
    def get(self, name: str, default: Any = _MISSING) -> T:
        """The object called ``name``, loading a lazy built-in or an entry point if needed.

        Parameters
        ----------
        name : str
        default : optional
            Returned for an unknown name instead of raising.

        Raises
        ------
        UnknownNameError
            If no object has that name (and no ``default``); suggests the nearest names.
        ConfigError
            If an entry point cannot be loaded or gives an object ``check`` refuses.
        """
        with self._lock:
            if name not in self._items:
                self._load_builtins(name)
            if name in self._items:
                return self._items[name]
            entry = self._entry_points().get(name)
            if entry is not None:
                return self._load_entry(name, entry)
        if default is not _MISSING:
            return default
        raise UnknownNameError(self.kind, name, self.names())

    def names(self) -> list[str]:
        """Every name (registered, lazy built-in, entry point), sorted; loads no lazy name."""
        with self._lock:
            self._load_builtins(None)
            lazy = self._builtins if isinstance(self._builtins, Mapping) else {}
            return sorted(set(self._items) | set(lazy) | set(self._entry_points()))

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={self.names()!r})"

    # ----------------------------------------------------------------------- loading
    def _load_builtins(self, name: str | None) -> None:
        """Run the built-in loader once (a mapping: import ``name``'s module once)."""
        spec = self._builtins
        if spec is None:
            return
        if isinstance(spec, Mapping):
            if name is None or name not in spec or name in self._loaded:
                return
            key, load = name, (lambda: importlib.import_module(spec[name]))
        else:
            if _ALL in self._loaded:
                return
            key, load = _ALL, (lambda: importlib.import_module(spec)) if isinstance(spec, str) else spec
        self._loaded.add(key)  # before loading: the loader registers through register()
        try:
            load()
        except BaseException:
            self._loaded.discard(key)  # a failed load is retried (and fails loudly) next time
            raise

    def _entry_points(self) -> dict:
        """Entry points of the group, by name (listed once, not loaded)."""
        if self.group is None:
            return {}
        if self._entries is None:
            try:
                found = entry_points(group=self.group)
            except Exception as exc:  # noqa: BLE001 - a broken installed distribution must not break taskdiff
                log.warning("could not list entry points of %s: %s", self.group, exc)
                found = []
            self._entries = {ep.name: ep for ep in found}
        return self._entries

    def _load_entry(self, name: str, entry) -> T:
        """Load entry point ``entry`` and register its object under ``name``."""
        try:
            obj = entry.load()
        except Exception as exc:  # noqa: BLE001 - report any plugin failure as a config error
            raise ConfigError(f"{self.kind} {name!r}: entry point {entry.value!r} of group {self.group!r} "
                              f"failed to load: {type(exc).__name__}: {exc}") from None
        return self.register(name, obj)
