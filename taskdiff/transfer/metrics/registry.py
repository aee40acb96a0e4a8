"""Registry of zero-shot evaluation metrics.

Every metric is a pure function ``metric(predictions, references, **options)`` that returns
a ``dict[str, float]`` of named scores on the 0–100 scale XTREME reports, and declares the
key of its *primary* score (the one that enters the XTREME average) when it is registered.
The primary key is stored both in :data:`PRIMARY` and on the function as ``fn.primary``.
"""

from __future__ import annotations

from typing import Callable

from taskdiff.registry import Registry

MetricFn = Callable[..., dict[str, float]]

METRICS: Registry = Registry("metric", builtins="taskdiff.transfer.metrics")
"""Registered metric functions by name (a :class:`taskdiff.registry.Registry`)."""

PRIMARY: dict[str, str] = {}
"""Primary score key of every registered metric, e.g. ``PRIMARY["squad"] == "f1"``."""


def register_metric(name: str, *, primary: str, overwrite: bool = False) -> Callable[[MetricFn], MetricFn]:
    """Register a metric function under ``name``.

    Parameters
    ----------
    name : str
        Registry name (``get_metric(name)``).
    primary : str
        Key of the returned dict that is the metric's headline score.
    overwrite : bool
        Replace a different function registered under ``name``.

    Returns
    -------
    callable
        A decorator that records the function and returns it unchanged, except for the
        attributes ``metric_name`` and ``primary``.

    Raises
    ------
    DuplicateNameError
        If ``name`` is already registered to a different function and ``overwrite`` is false.
    """

    def decorator(fn: MetricFn) -> MetricFn:
        METRICS.register(name, fn, overwrite=overwrite)
        fn.metric_name = name  # type: ignore[attr-defined]
        fn.primary = primary  # type: ignore[attr-defined]
        PRIMARY[name] = primary
        return fn

    return decorator


def get_metric(name: str) -> MetricFn:
    """Return the metric registered under ``name``.

    Raises
    ------
    UnknownNameError
        If no metric has that name; the message suggests the nearest known names.
    """
    return METRICS.get(name)


def primary_key(name: str) -> str:
    """Return the primary score key of the metric ``name`` (see :data:`PRIMARY`)."""
    get_metric(name)
    return PRIMARY[name]
