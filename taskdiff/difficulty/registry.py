"""The measure registry: built-in measures, ``@register_measure``, and entry points.

Other packages add measures without touching taskdiff by declaring an entry point in the
group ``taskdiff.measures``::

    [project.entry-points."taskdiff.measures"]
    my_measure = "my_package.measures:MyMeasure"

Entry points are listed (not imported) the first time a name is looked up, and a measure's
module is imported only when that measure is asked for. A name registered in Python (or
built in) wins over an entry point of the same name.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from taskdiff.errors import ConfigError, UnknownNameError

log = logging.getLogger(__name__)

GROUP = "taskdiff.measures"
#: Built-in measure name -> module that registers it (imported on first use).
BUILTIN = {
    "size": "taskdiff.difficulty.size",
    "baseline_loss": "taskdiff.difficulty.baseline_loss",
    "vinfo": "taskdiff.difficulty.vinfo",
    "cartography": "taskdiff.difficulty.cartography",
    "probing": "taskdiff.difficulty.probing.measure",
    "logme": "taskdiff.difficulty.logme_measure",
    "embedding": "taskdiff.difficulty.embedding",
}

_MEASURES: dict[str, type] = {}
_ENTRY_POINTS: dict | None = None


def register_measure(cls=None, *, overwrite: bool = False):
    """Class decorator: register a measure class under its ``name`` attribute.

    The class must have a non-empty ``name``, a ``higher_is_harder`` attribute and a
    ``fit`` method. Registering a different class under a taken name raises unless
    ``overwrite=True``.
    """

    def wrap(klass):
        name = getattr(klass, "name", "")
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"measure class {klass.__name__} needs a 'name' that is an identifier, found {name!r}")
        if not hasattr(klass, "higher_is_harder") or not callable(getattr(klass, "fit", None)):
            raise ConfigError(f"measure class {klass.__name__} needs 'higher_is_harder' and a fit() method")
        if name in _MEASURES and _MEASURES[name] is not klass and not overwrite:
            raise ConfigError(f"measure {name!r} is already registered ({_MEASURES[name].__qualname__}); "
                              "pass overwrite=True to replace it")
        _MEASURES[name] = klass
        return klass

    return wrap(cls) if cls is not None else wrap


def _entry_points() -> dict:
    """Entry points of the group, by name (listed once per process, not loaded)."""
    global _ENTRY_POINTS
    if _ENTRY_POINTS is None:
        try:
            eps = entry_points(group=GROUP)
        except Exception as exc:  # a broken installed distribution must not break taskdiff
            log.warning("could not list entry points of %s: %s", GROUP, exc)
            eps = []
        _ENTRY_POINTS = {ep.name: ep for ep in eps}
    return _ENTRY_POINTS


def reset_entry_points() -> None:
    """Forget the listed entry points (tests; after installing a plugin in-process)."""
    global _ENTRY_POINTS
    _ENTRY_POINTS = None


def known_names() -> list[str]:
    """Built-in, registered and entry-point measure names, sorted."""
    return sorted(set(BUILTIN) | set(_MEASURES) | set(_entry_points()))


def get_measure(name: str) -> type:
    """The measure class called ``name``.

    Raises
    ------
    UnknownNameError
        With the nearest known names, on a typo.
    ConfigError
        If an entry point cannot be loaded or does not give a measure class.
    """
    if name in _MEASURES:
        return _MEASURES[name]
    if name in BUILTIN:
        importlib.import_module(BUILTIN[name])
        return _MEASURES[name]
    ep = _entry_points().get(name)
    if ep is None:
        raise UnknownNameError("measure", name, known_names())
    try:
        klass = ep.load()
    except Exception as exc:
        raise ConfigError(f"measure {name!r}: entry point {ep.value!r} of group {GROUP!r} "
                          f"failed to load: {type(exc).__name__}: {exc}") from None
    if not isinstance(klass, type) or not callable(getattr(klass, "fit", None)):
        raise ConfigError(f"measure {name!r}: entry point {ep.value!r} is not a measure class")
    if not getattr(klass, "name", ""):
        klass.name = name
    if klass.name != name:
        raise ConfigError(f"measure entry point {name!r} loads a class named {klass.name!r}")
    if name not in _MEASURES:
        register_measure(klass)
    return _MEASURES[name]


def list_measures() -> list[str]:
    """All measure names (built-in, registered, entry points), sorted."""
    return known_names()


def make_measure(spec, **params):
    """A measure instance from a name, a class or an instance (``params`` set on it)."""
    if isinstance(spec, str):
        return get_measure(spec)(**params)
    if isinstance(spec, type):
        return spec(**params)
    return spec.set_params(**params) if params else spec
