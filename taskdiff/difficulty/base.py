"""The measure contract (scikit-learn style) and the context measures run in.

A measure is a class with

* an ``__init__`` that only stores its settings (keyword arguments with defaults, kept as
  attributes of the same name, so :meth:`Measure.get_params` can list them);
* ``fit(task, model, context) -> self``: ``task`` is a
  :class:`~taskdiff.transfer.tasks.TaskConfig` (or a registered task name), ``model`` a
  model name resolved with :func:`~taskdiff.transfer.models.resolve_model`, ``context`` a
  :class:`MeasureContext` (data dir, run store, caps, seed, shared hidden-state cache);
* results in attributes ending in ``_``: always ``result_`` (a JSON-able dict) and
  ``cost_`` = ``{"seconds", "examples", "tokens"}``, plus measure-specific ones;
* class attributes ``name`` (the registry name), ``higher_is_harder`` (True / False, or
  None for measures that describe a task without ranking its difficulty) and ``features``,
  the :class:`~taskdiff.schema.Feature` s it writes into a profile (each read from
  ``result_[feature.key]``); the analysis uses exactly the declared features.

``cost_`` counts what *this* ``fit`` call did: wall-clock seconds, and the examples and
(non-padding) tokens that went through a model, each training epoch and each model counted
(a run found in the store costs nothing). A profile read back from the store reports the
cost measured when it was computed.
"""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from taskdiff.errors import ConfigError
from taskdiff.schema import Feature
from taskdiff.difficulty.hidden import HiddenStateCache
from taskdiff.provenance import data_fingerprint
from taskdiff.transfer.models import resolve_model
from taskdiff.transfer.phases import Workspace
from taskdiff.transfer.store import RunStore
from taskdiff.transfer.tasks import TaskConfig, get_task

log = logging.getLogger(__name__)

#: English: all difficulty measures are computed on the English side of a task.
ENGLISH = "en"


class Cost:
    """Accumulates the examples and tokens a measure sends through a model."""

    def __init__(self) -> None:
        self.examples = 0
        self.tokens = 0
        self.start = time.perf_counter()

    def add(self, examples: int = 0, tokens: int = 0) -> None:
        self.examples += int(examples)
        self.tokens += int(tokens)

    def as_dict(self) -> dict:
        return {"seconds": round(time.perf_counter() - self.start, 3), "examples": self.examples,
                "tokens": self.tokens}


@dataclass
class MeasureContext:
    """What every measure shares: where data and runs are, caps, seed, caches.

    Parameters
    ----------
    data_dir : Path, optional
        Local data root (``xtreme/``, ``intermediate/``); None reads the hub.
    store : RunStore or path, optional
        The run store (default ``$TASKDIFF_HOME`` or ``~/.cache/taskdiff``). Trained models,
        hidden states and probe fits are cached there.
    max_examples : int, optional
        Cap on every role's rows (the first N ids in hash order, as ``--max-examples``).
    seed : int
    progress : bool
    hidden : HiddenStateCache, optional
        Shared by all measures of a profile (created on first use).
    output_dir : Path, optional
        Where measures write their artefacts (dynamics files, data maps, PVI tables);
        :func:`~taskdiff.difficulty.api.profile_task` sets it to the measure's profile run.
    """

    data_dir: Path | None = None
    store: Any = None
    max_examples: int | None = None
    seed: int = 0
    progress: bool = False
    hidden: Any = None
    trust_remote_code: bool = False
    output_dir: Path | None = None
    _workspace: Any = field(default=None, repr=False)
    _paths: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:

        if not isinstance(self.store, RunStore):
            self.store = RunStore(self.store)
        if self.data_dir is not None:
            self.data_dir = Path(self.data_dir)
        if self.hidden is None:

            self.hidden = HiddenStateCache(self.store)

    @property
    def workspace(self):
        """A :class:`~taskdiff.transfer.phases.Workspace` on the same store, data and cap."""
        if self._workspace is None:

            self._workspace = Workspace(self.store, self.data_dir, self.max_examples, self.progress,
                                        self.trust_remote_code)
        return self._workspace

    def rows(self, task, role: str, language: str = ENGLISH):
        """:class:`~taskdiff.transfer.data.RoleData` of a role, read once (capped by ``max_examples``)."""
        return self.workspace.rows(as_task(task), role, language)

    def model_path(self, model: str) -> str:
        """The local path or hub id of ``model`` (``tiny`` and ``e5-small-offline`` built once)."""
        if model not in self._paths:

            self._paths[model] = resolve_model(model, self.store.root)
        return self._paths[model]

    def artefact_dir(self, *parts: str) -> Path | None:
        """``output_dir / parts`` (created), or None when no output directory is set."""
        if self.output_dir is None:
            return None
        path = Path(self.output_dir).joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


def as_task(task):
    """A TaskConfig from a TaskConfig or a registered task name."""

    return task if isinstance(task, TaskConfig) else get_task(str(task))


class Measure:
    """Base class of difficulty measures; see the module docstring for the contract.

    Subclasses define ``name``, ``higher_is_harder``, ``features``, an ``__init__`` storing
    keyword settings, and ``_fit(task, model, context, cost)`` that sets ``result_`` (and
    their own ``*_`` attributes). :meth:`fit` wraps it with timing and cost accounting.
    """

    name: ClassVar[str] = ""
    higher_is_harder: ClassVar[bool | None] = None
    #: The features the measure writes into a profile (values: ``result_[feature.key]``).
    features: ClassVar[tuple[Feature, ...]] = ()
    #: Bumped when a measure's output changes meaning: cached profile runs are then redone.
    version: ClassVar[int] = 1
    #: Formats the measure is defined for (None: all trainable formats).
    formats: ClassVar[tuple[str, ...] | None] = None

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = False) -> dict:
        """The settings given to ``__init__`` (scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def spec_params(self) -> dict:
        """The settings in canonical form (defaults filled in), for cache keys and provenance."""
        return self.get_params()

    def set_params(self, **params) -> "Measure":
        """Change settings (unknown names raise :class:`ConfigError`)."""
        known = set(self._param_names())
        for key, value in params.items():
            if key not in known:
                raise ConfigError(f"measure {self.name!r} has no setting {key!r} (settings: {sorted(known)})")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # ------------------------------------------------------------------ fitting
    def fit(self, task, model: str, context: MeasureContext | None = None) -> "Measure":
        """Compute the measure of ``task`` with ``model``; returns ``self``.

        Sets ``result_`` (JSON-able dict), ``cost_`` and the measure's own ``*_`` attributes.
        """
        task = as_task(task)
        context = context if context is not None else MeasureContext()
        if self.formats is not None and task.format not in self.formats:
            raise ConfigError(f"measure {self.name!r} is defined for formats {list(self.formats)}, "
                              f"task {task.name!r} has format {task.format!r}")
        cost = Cost()
        self._fit(task, model, context, cost)
        self.cost_ = cost.as_dict()
        return self

    def _fit(self, task, model: str, context: MeasureContext, cost: Cost) -> None:
        raise NotImplementedError

    def cache_key(self, task, context: MeasureContext) -> dict:
        """What besides the settings identifies this measure's result: the data it reads.

        Used by the profile cache; the default is the fingerprint of the English training
        rows (under the context's cap).
        """

        return {"train": data_fingerprint(context.rows(task, "train", ENGLISH).rows)}

    def learned_state(self) -> dict[str, Any]:
        """Every learned attribute (``*_``, such as ``pvi_`` or ``regions_``) but ``result_`` and ``cost_``."""
        return {k: v for k, v in vars(self).items()
                if k.endswith("_") and not k.startswith("_") and k not in ("result_", "cost_")}

    def restore(self, stored: dict, state: dict | None = None) -> "Measure":
        """Bring back a fitted measure from the store (a cached profile run).

        Parameters
        ----------
        stored : dict
            The run's metrics: ``result`` and ``cost``.
        state : dict, optional
            :meth:`learned_state` of the fit (``pvi_``, ``regions_`` ...), as saved with the run.
        """
        self.result_ = stored["result"]
        self.cost_ = stored["cost"]
        for key, value in (state or {}).items():
            if key.endswith("_") and key not in ("result_", "cost_"):
                setattr(self, key, value)
        return self


def finite_or_none(value):
    """A float, or None for NaN / infinities / None (JSON has no NaN)."""
    import math

    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def jsonable(obj):
    """Plain JSON data: numpy scalars/arrays to Python, non-finite floats to None."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj
