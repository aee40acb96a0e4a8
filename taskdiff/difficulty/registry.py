"""The measure registry: built-in measures, ``@register_measure``, and entry points.

Other packages add measures without touching taskdiff by declaring an entry point in the
group ``taskdiff.measures``::

    [project.entry-points."taskdiff.measures"]
    my_measure = "my_package.measures:MyMeasure"

Entry points are listed (not imported) the first time a name is looked up, and a measure's
module is imported only when that measure is asked for. A name registered in Python (or
built in) wins over an entry point of the same name. The measures live in :data:`MEASURES`, a
:class:`taskdiff.registry.Registry` (one duplicate rule, "did you mean" on a typo).
"""

from __future__ import annotations

from taskdiff.difficulty.profile import check_features
from taskdiff.errors import ConfigError
from taskdiff.registry import Registry

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


def _check_measure(name: str, klass):
    """The registry's check: ``klass`` is a measure class called ``name`` (set when empty)."""
    if not isinstance(klass, type) or not callable(getattr(klass, "fit", None)):
        raise ConfigError(f"measure {name!r}: {klass!r} is not a measure class (a class with a fit() method)")
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"measure class {klass.__name__} needs a 'name' that is an identifier, found {name!r}")
    if not getattr(klass, "name", ""):
        klass.name = name  # an entry point's class may leave its name to the entry point
    if klass.name != name:
        raise ConfigError(f"measure entry point {name!r} loads a class named {klass.name!r}")
    if not hasattr(klass, "higher_is_harder"):
        raise ConfigError(f"measure class {klass.__name__} needs 'higher_is_harder' and a fit() method")
    check_features(klass)
    return klass


#: All measures: built-in (lazy, by module), ``@register_measure`` and entry points.
MEASURES: Registry = Registry("measure", builtins=BUILTIN, group=GROUP, check=_check_measure)


def register_measure(cls=None, *, overwrite: bool = False):
    """Class decorator: register a measure class under its ``name`` attribute.

    The class must have a non-empty ``name``, a ``higher_is_harder`` attribute and a
    ``fit`` method. Registering a different class under a taken name raises
    :class:`~taskdiff.errors.DuplicateNameError` unless ``overwrite=True``.
    """

    def wrap(klass):
        MEASURES.register(getattr(klass, "name", "") or "", klass, overwrite=overwrite)
        return klass

    return wrap(cls) if cls is not None else wrap


def reset_entry_points() -> None:
    """Forget the listed entry points (tests; after installing a plugin in-process)."""
    MEASURES.reset_entry_points()


def known_names() -> list[str]:
    """Built-in, registered and entry-point measure names, sorted."""
    return MEASURES.names()


def get_measure(name: str) -> type:
    """The measure class called ``name``.

    Raises
    ------
    UnknownNameError
        With the nearest known names, on a typo.
    ConfigError
        If an entry point cannot be loaded or does not give a measure class.
    """
    return MEASURES.get(name)


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
