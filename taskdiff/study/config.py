"""Study configs: one YAML file that declares a whole transfer study.

A study names the model(s), the English intermediate tasks (and multi-task mixtures), the
targets and their evaluation languages, the seeds, the hyperparameters of both phases, the
difficulty measures of the profiles, where the data are, and how to execute the runs::

    name: xstilts
    models: [xlm-roberta-large]
    intermediates: [mnli, squad, {mixture: [anli, mnli, snli], name: nli_mix}]
    targets: [xnli, udpos, tatoeba]
    languages: null            # each target's own languages
    target_languages: {tatoeba: [de, fr]}   # per target, wins over languages
    seeds: [1, 2, 3]
    intermediate_train: {learning_rate: 1.0e-5, epochs: 3, warmup_ratio: 0.1, batch_size: 4}
    target_train: {learning_rate: 1.0e-5, epochs: 3, warmup_ratio: 0.1, batch_size: 4}
    measures: [size, baseline_loss, vinfo]
    data_dir: data             # relative to this file; may not leave its folder
    executor: {kind: slurm, slurm: {partition: gpu, time: 720, array_parallelism: 32}}

The file is read with ``yaml.safe_load`` and validated by pydantic; every error names the
file and the field (``intermediates[2].mixture``). Paths in the file (``data_dir``,
``out``, ``store``, ``task_files``) are relative to the file's folder and may not escape
it; the command line's ``--data-dir``, ``--out`` and ``--store`` (any path) take
precedence. Without either, the data directory is ``$TASKDIFF_DATA_DIR`` (or the hub).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from taskdiff.errors import ConfigError, TaskdiffError, safe_join
from taskdiff.transfer.training import TrainConfig
from taskdiff.difficulty.registry import known_names
from taskdiff.errors import UnknownNameError
from taskdiff.paths import default_home
from taskdiff.transfer.formats import get_format
from taskdiff.transfer.phases import Workspace
from taskdiff.transfer.store import RunStore
from taskdiff.transfer.tasks import TaskConfig, get_task, register_task, register_task_file
from taskdiff.transfer.tasks.config import read_yaml

log = logging.getLogger(__name__)

__all__ = ["EXECUTORS", "EstimateOptions", "ExecutorOptions", "MixtureSpec", "RayOptions", "SlurmOptions",
           "Study", "StudyConfig", "load_study", "mixture_name", "model_slug", "target_languages"]

EXECUTORS = ("local", "gpu-pool", "slurm", "ray")
PHASES = ("intermediate", "target", "evaluation", "profile")


class MixtureSpec(BaseModel):
    """A multi-task intermediate: the concatenation of registered tasks of one format."""

    model_config = ConfigDict(extra="forbid")
    mixture: list[str] = Field(min_length=2)
    name: str | None = Field(None, description="task name of the mixture (default mix_<a>_<b>...)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and (not v or not all(c.isalnum() or c in "_-+." for c in v)):
            raise ValueError(f"a mixture name needs letters, digits or _-+. only, found {v!r}")
        return v


class SlurmOptions(BaseModel):
    """Slurm through submitit: one job array per phase (``dependencies: wait``) or all
    phases at once chained with ``afterok`` (``dependencies: afterok``)."""

    model_config = ConfigDict(extra="forbid")
    partition: str | None = None
    time: int | dict[str, int] = Field(
        240, description="minutes per job, or a mapping phase -> minutes (intermediate, target, evaluation, profile)")
    gpus_per_node: int = Field(1, ge=0)
    cpus_per_task: int = Field(8, ge=1)
    mem_gb: int | None = Field(64, ge=1)
    array_parallelism: int = Field(32, ge=1, description="most array tasks running at once (slurm_array_parallelism)")
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    dependencies: Literal["wait", "afterok"] = "wait"
    max_num_timeout: int = Field(3, ge=0, description="requeues after a pre-emption or time-out")
    folder: str = Field("slurm", description="submitit logs and pickles, relative to the study directory")
    setup: list[str] = Field(default_factory=list, description="shell lines run before each job")
    additional_parameters: dict[str, Any] = Field(default_factory=dict)
    cluster: Literal["auto", "slurm", "local", "debug"] = Field(
        "auto", description="submitit cluster: auto (slurm if sbatch exists, else local), or forced")

    @field_validator("time")
    @classmethod
    def _time(cls, v):
        if isinstance(v, dict):
            bad = sorted(set(v) - set(PHASES))
            if bad:
                raise ValueError(f"time per phase: unknown phase(s) {bad}; expected {list(PHASES)}")
            if any(m <= 0 for m in v.values()):
                raise ValueError("time must be positive minutes")
        elif v <= 0:
            raise ValueError("time must be positive minutes")
        return v

    def minutes(self, phase: str) -> int:
        """Time limit of a phase's jobs."""
        if isinstance(self.time, dict):
            return int(self.time.get(phase, max(self.time.values())))
        return int(self.time)


class RayOptions(BaseModel):
    """Ray: remote tasks on an existing cluster (``address``) or a local instance."""

    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(None, description="'auto', 'ray://host:10001' ...; None starts a local instance")
    num_gpus: float | None = Field(None, ge=0, description="GPUs per run (default: 1 if the cluster has GPUs, else 0)")
    num_cpus: float = Field(1, gt=0)
    local_num_cpus: int | None = Field(None, ge=1, description="CPUs of a local instance (default: all)")
    runtime_env: dict[str, Any] | None = None
    namespace: str | None = None


class ExecutorOptions(BaseModel):
    """Which executor runs the runs, and its settings."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["local", "gpu-pool", "slurm", "ray"] = "local"
    workers: int = Field(1, ge=0, description="local: worker processes (0 = in the study process)")
    retries: int = Field(1, ge=0, description="reruns of a run whose worker died (a kill, OOM, pre-emption)")
    poll_s: float = Field(2.0, gt=0, description="seconds between polls of jobs / the run store")
    slurm: SlurmOptions = Field(default_factory=SlurmOptions)
    ray: RayOptions = Field(default_factory=RayOptions)


class EstimateOptions(BaseModel):
    """Inputs of the dry-run's cost estimate (see :mod:`taskdiff.study.estimate`)."""

    model_config = ConfigDict(extra="forbid")
    tokens_per_s: dict[str, float] = Field(
        default_factory=dict, description="model -> measured training tokens/s on this machine (skips timing)")
    sizes: dict[str, int] = Field(default_factory=dict, description="task -> English training examples")
    eval_sizes: dict[str, int] = Field(default_factory=dict, description="task -> evaluation examples per language")
    tokens_per_example: dict[str, float] = Field(default_factory=dict, description="task -> mean tokens per example")
    gpu_flops_per_s: float | None = Field(None, gt=0, description="effective FLOP/s of the reference GPU")


class StudyConfig(BaseModel):
    """The validated content of a study YAML file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    name: str = "study"
    models: list[str] = Field(min_length=1)
    intermediates: list[str | MixtureSpec] = Field(min_length=1)
    targets: list[str] = Field(min_length=1)
    languages: list[str] | None = None
    target_languages: dict[str, list[str]] = Field(
        default_factory=dict, description="target -> its evaluation languages (wins over 'languages' for it)")
    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    intermediate_train: TrainConfig = Field(default_factory=TrainConfig)
    target_train: TrainConfig = Field(default_factory=TrainConfig)
    measures: list[str] = Field(default_factory=list, description="difficulty measures of the profiles ([]: none)")
    profile_seed: int = 0
    data_dir: str | None = None
    out: str | None = None
    store: str | None = None
    task_files: list[str] = Field(default_factory=list)
    max_examples: int | None = Field(None, ge=1)
    retrieval_layer: int | None = None  # a hidden_states index; None: XTREME's layer
    pooling: str | None = None  # None: XTREME's per task (tatoeba mean, bucc cls)
    trust_remote_code: bool = False
    executor: ExecutorOptions = Field(default_factory=ExecutorOptions)
    estimate: EstimateOptions = Field(default_factory=EstimateOptions)

    @model_validator(mode="before")
    @classmethod
    def _model_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "model" in data:
            if "models" in data:
                raise ValueError("give 'model' or 'models', not both")
            data = dict(data)
            model = data.pop("model")
            data["models"] = model if isinstance(model, list) else [model]
        return data

    @field_validator("models", "targets", "seeds", "measures")
    @classmethod
    def _unique(cls, v: list) -> list:
        dup = sorted({str(x) for x in v if v.count(x) > 1})
        if dup:
            raise ValueError(f"duplicate entries {dup}")
        if any(isinstance(x, str) and not x.strip() for x in v):
            raise ValueError("empty name")
        return v

    @field_validator("name")
    @classmethod
    def _study_name(cls, v: str) -> str:
        if not v or not all(c.isalnum() or c in "_-." for c in v):
            raise ValueError(f"a study name needs letters, digits or _-. only, found {v!r}")
        return v


def mixture_name(spec: MixtureSpec) -> str:
    """The task name of a mixture: its ``name`` or ``mix_`` + the components joined by ``_``."""
    return spec.name or "mix_" + "_".join(spec.mixture)


def model_slug(model: str) -> str:
    """A folder name for a model id (``org/name`` -> ``org--name``)."""
    return model.strip("/").replace("/", "--").replace(":", "-")


def _field_error(path: Path, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in first["loc"]).replace(".[", "[")
    found = first.get("input")
    found_s = repr(found) if not isinstance(found, dict) else "a mapping"
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    return ConfigError(f"{path}: field {field or '(top level)'!r}: {first['msg']} (found {found_s[:80]}){more}")


class Study:
    """A loaded study: the config, the file it came from, and the resolved paths.

    Use :func:`load_study`. ``data_dir``, ``out`` and ``store`` are absolute (or None).
    Creating a Study registers the config's task files and mixtures in the task registry
    (workers call :meth:`from_payload`, which does the same in their process).
    """

    def __init__(self, config: StudyConfig, base_dir: Path, source: str, *, data_dir: Path | None = None,
                 out: Path | None = None, store: Path | None = None):
        self.config, self.base_dir, self.source = config, Path(base_dir).resolve(), source
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.out = Path(out).resolve() if out is not None else None

        self.store = default_home(store).expanduser().resolve()
        self._register()

    # -------------------------------------------------------------------- tasks
    def _register(self) -> None:

        for i, name in enumerate(self.config.task_files):
            try:
                register_task_file(safe_join(self.base_dir, name))
            except TaskdiffError as exc:
                raise ConfigError(f"{self.source}: field 'task_files[{i}]': {exc}") from None
        for i, item in enumerate(self.config.intermediates):
            if isinstance(item, MixtureSpec):
                try:
                    register_task(_mixture_task(item), overwrite=False)
                except TaskdiffError as exc:
                    raise ConfigError(f"{self.source}: field 'intermediates[{i}].mixture': {exc}") from None
        names = self.intermediates
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"{self.source}: field 'intermediates': duplicate tasks {dup}")
        for field, values in (("intermediates", names), ("targets", self.config.targets)):
            for i, name in enumerate(values):
                try:
                    get_task(name)
                except TaskdiffError as exc:
                    raise ConfigError(f"{self.source}: field '{field}[{i}]': {exc}") from None
        for name in self.config.target_languages:
            if name not in self.config.targets:
                raise ConfigError(f"{self.source}: field 'target_languages.{name}': not one of the targets "
                                  f"{self.config.targets}")
        for i, name in enumerate(self.config.targets):
            if not self.languages_of(name):
                raise ConfigError(f"{self.source}: field 'languages': target {name!r} has none of "
                                  f"{self.config.languages} (its languages: {get_task(name).languages})")
        if self.config.measures:
            _check_measures(self.config.measures, self.source)

    @property
    def intermediates(self) -> list[str]:
        """Intermediate task names (mixtures by their registered name)."""
        return [mixture_name(i) if isinstance(i, MixtureSpec) else i for i in self.config.intermediates]

    def languages_of(self, target: str) -> list[str]:
        """The evaluation languages of a target: the requested ones it has, or all of its own."""

        return target_languages(get_task(target), self.config.target_languages.get(target, self.config.languages))

    def out_dir(self, model: str) -> Path | None:
        """The study directory of one model (``out`` itself for a one-model study)."""
        if self.out is None:
            return None
        return self.out if len(self.config.models) == 1 else self.out / model_slug(model)

    # ---------------------------------------------------------------- transport
    def to_payload(self) -> dict:
        """A JSON-able description that :meth:`from_payload` turns back into this study."""
        return {"config": self.config.model_dump(mode="json"), "base_dir": str(self.base_dir), "source": self.source,
                "data_dir": str(self.data_dir) if self.data_dir else None,
                "out": str(self.out) if self.out else None, "store": str(self.store)}

    @classmethod
    def from_payload(cls, payload: dict) -> "Study":
        """Rebuild a study in another process (registers its tasks there)."""
        cfg = StudyConfig.model_validate(payload["config"])
        return cls(cfg, Path(payload["base_dir"]), payload["source"], data_dir=payload["data_dir"],
                   out=payload["out"], store=payload["store"])

    def workspace(self, progress: bool = False):
        """A :class:`~taskdiff.transfer.phases.Workspace` on this study's store and data."""

        return Workspace(RunStore(self.store), self.data_dir, self.config.max_examples, progress=progress,
                         trust_remote_code=self.config.trust_remote_code)


def target_languages(task, requested: list[str] | None) -> list[str]:
    """The requested languages a target task has (all of its languages when none requested)."""
    if not requested:
        return list(task.languages)
    return [lang for lang in requested if lang in task.languages]


def _mixture_task(spec: MixtureSpec):
    """A registered-task config for a mixture; components must share format (and labels)."""

    parts = [get_task(n) for n in spec.mixture]
    formats = {p.name: p.format for p in parts}
    if len(set(formats.values())) > 1:
        raise ConfigError(
            f"a mixture's tasks must share one format (one head is trained), found {formats}; "
            "train such tasks as separate intermediates")
    labels = {p.name: p.labels for p in parts}
    if get_format(parts[0].format).labels_in_head and len({json.dumps(v) for v in labels.values()}) > 1:
        raise ConfigError(f"a mixture's tasks must share their labels, found {labels}")
    first = parts[0]
    return TaskConfig(name=mixture_name(spec), format=first.format, role="intermediate", labels=first.labels,
                      languages=["en"], train_language="en", metric=first.metric, eval_split=first.eval_split,
                      components=list(spec.mixture), max_length=max(p.max_length for p in parts),
                      description=f"mixture of {', '.join(spec.mixture)} (study config)")


def _check_measures(measures: list[str], source: str) -> None:
    try:
        pass
    except ImportError:  # pragma: no cover - the difficulty package is optional here
        return

    known = known_names()
    for i, m in enumerate(measures):
        if m not in known:
            raise ConfigError(f"{source}: field 'measures[{i}]': {UnknownNameError('measure', m, known)}")


def _local_path(base: Path, value: str, field: str, source: str) -> Path:
    try:
        return safe_join(base, value)
    except ConfigError as exc:
        raise ConfigError(f"{source}: field {field!r}: {exc}") from None


def load_study(path: str | Path, *, data_dir: str | Path | None = None, out: str | Path | None = None,
               store: str | Path | None = None, overrides: dict | None = None) -> Study:
    """Read and validate a study YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    data_dir, out, store : path, optional
        Command-line values; they win over the file's (and may be anywhere). The data
        directory is, in order: ``data_dir``, the file's ``data_dir`` (relative to the file,
        inside its folder), ``$TASKDIFF_DATA_DIR``, none (hub).
    overrides : dict, optional
        Top-level fields replaced before validation (e.g. ``{"executor": {...}}``).

    Raises
    ------
    ConfigError
        Naming the file and the field.
    """

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such study file")
    raw = read_yaml(path)
    raw.update(overrides or {})
    try:
        cfg = StudyConfig.model_validate(raw)
    except ValidationError as exc:
        raise _field_error(path, exc) from None
    base = path.resolve().parent
    if data_dir is None and cfg.data_dir is not None:
        data_dir = _local_path(base, cfg.data_dir, "data_dir", str(path))
    if data_dir is None and os.environ.get("TASKDIFF_DATA_DIR"):
        data_dir = Path(os.environ["TASKDIFF_DATA_DIR"]).expanduser()
    if out is None and cfg.out is not None:
        out = _local_path(base, cfg.out, "out", str(path))
    if store is None and cfg.store is not None:
        store = _local_path(base, cfg.store, "store", str(path))
    for i, name in enumerate(cfg.task_files):
        _local_path(base, name, f"task_files[{i}]", str(path))
    return Study(cfg, base, str(path), data_dir=data_dir, out=out, store=store)
