"""Task configuration: a pydantic model read from YAML with ``include:`` inheritance.

A task declares its format, where its data comes from (a hub data set and/or local files),
its columns, labels, languages, splits, metric, and the fallback rule that applies when a
split is missing locally. YAML is read with ``yaml.safe_load`` only.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from taskdiff.errors import ConfigError, safe_join
from taskdiff.transfer.formats import format_names, get_format

Split = Literal["train", "validation", "test"]
BUILTIN_PREFIX = "builtin:"
"""``include: builtin:<file>`` names a file of the package's built-in task folder."""


class HubSource(BaseModel):
    """A Hugging Face hub data set: ``datasets.load_dataset(path, name, revision=...)``.

    ``name`` may contain ``{lang}``; ``splits`` maps our split names to the hub's;
    ``columns`` maps canonical columns to the hub's; ``label_names`` turns integer
    class labels into our label strings.
    """

    model_config = ConfigDict(extra="forbid")
    path: str
    name: str | None = None
    revision: str | None = None
    splits: dict[str, str] = Field(default_factory=lambda: {"train": "train", "validation": "validation", "test": "test"})
    names: dict[str, str] = Field(default_factory=dict, description="language -> config name, overrides 'name'")
    columns: dict[str, Any] = Field(default_factory=dict)
    label_names: list[str] | None = None


class LocalSource(BaseModel):
    """Local files.

    ``layout: xtreme`` reads ``<data_dir>/xtreme/<dataset>/`` in the xtreme repo's
    ``download/`` layout; ``layout: files`` reads ``files[split]`` (a pattern that may contain
    ``{lang}``) under ``root`` with ``reader`` and its ``options``. For built-in tasks
    ``root`` is relative to the data directory; for a user's task file it is relative to
    the file's own directory, and may not escape it.
    """

    model_config = ConfigDict(extra="forbid")
    layout: Literal["xtreme", "files"] = "files"
    dataset: str | None = None
    root: str = "."
    reader: str | None = None
    files: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> "LocalSource":
        if self.layout == "xtreme" and not self.dataset:
            raise ValueError("layout 'xtreme' needs 'dataset' (e.g. xnli)")
        if self.layout == "files" and (not self.reader or not self.files):
            raise ValueError("layout 'files' needs 'reader' and 'files' (split -> file pattern)")
        return self


class CarveRule(BaseModel):
    """Carve missing splits out of an existing one by a hash of the example id.

    Example ids hash to u in [0, 1): u < ``train`` goes to train, the next ``validation``
    to validation (English model selection), the rest is the evaluation split. The rule is
    used when the train split is missing locally (and no ``split_fallbacks.train`` applies),
    or when evaluation would otherwise read the split that training reads. With
    ``translated`` (ids shared across languages), every language is evaluated only on ids
    of the evaluation part, so no item trained or selected on is ever evaluated, in any
    translation.
    """

    model_config = ConfigDict(extra="forbid")
    source: Split = "validation"
    train: float = Field(0.5, ge=0, lt=1)
    validation: float = Field(0.1, ge=0, lt=1)
    salt: str = "taskdiff"
    translated: bool = Field(
        True, description="ids are shared across languages (translations): restrict every language's evaluation"
    )

    @model_validator(mode="after")
    def _sum(self) -> "CarveRule":
        if self.train + self.validation >= 1:
            raise ValueError("train + validation fractions must leave room for evaluation (< 1)")
        return self


class TaskStats(BaseModel):
    """Published sizes of a task, for cost estimates (``study --dry-run``) when no local data.

    Metadata only: excluded from ``TaskConfig.model_dump()``, hence from every run key.
    """

    model_config = ConfigDict(extra="forbid")
    train_examples: int = Field(ge=0, description="English training examples (published)")
    eval_examples: int = Field(ge=0, description="evaluation examples per language (typical)")
    tokens_per_example: float = Field(gt=0, description="rough mean subword tokens (all choices of an item)")
    choices: int = Field(1, ge=1, description="answer choices per item (multiple choice)")


class TaskConfig(BaseModel):
    """A task: what it is, where its data is, how it is scored."""

    model_config = ConfigDict(extra="forbid")
    name: str
    format: str
    description: str = ""
    role: Literal["intermediate", "target", "both"] = "both"
    labels: list[str] | None = None
    languages: list[str] = Field(default_factory=lambda: ["en"])
    train_language: str = "en"
    metric: str = "accuracy"
    eval_split: Split = "test"
    split_fallbacks: dict[str, str] = Field(
        default_factory=dict,
        description="split -> split read instead when the first is missing (e.g. test -> validation); recorded",
    )
    components: list[str] = Field(
        default_factory=list,
        description="a mixture: the concatenation of these registered tasks' splits (same format)",
    )
    max_length: int = Field(128, gt=8, le=4096)
    hub: HubSource | None = None
    local: LocalSource | None = None
    carve: CarveRule | None = None
    trainable: bool = True
    citation: str = ""
    license: str = ""
    base_dir: str | None = Field(None, description="set for task files: local roots are relative to it")
    stats: TaskStats | None = Field(None, exclude=True,
                                    description="published sizes for cost estimates; never in a run key")

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        if v not in format_names():
            raise ValueError(f"unknown format {v!r}; expected one of {format_names()}")
        return v

    @model_validator(mode="after")
    def _labels(self) -> "TaskConfig":
        if get_format(self.format).needs_labels and not self.labels:
            raise ValueError(f"format {self.format!r} needs 'labels'")
        if self.hub is None and self.local is None and not self.components:
            raise ValueError("a task needs a 'hub' or a 'local' source (or both), or 'components'")
        if self.trainable and self.train_language not in self.languages:
            raise ValueError(f"train_language {self.train_language!r} is not in languages")
        return self

    def data_root(self, data_dir: Path | None) -> Path | None:
        """The folder local paths start from: the task file's ``root`` (user files), else ``data_dir``."""
        if self.local is None:
            return None
        if self.base_dir is not None:
            return safe_join(self.base_dir, self.local.root)
        return Path(data_dir) if data_dir is not None else None

    def local_root(self, data_dir: Path | None) -> Path | None:
        """The directory the task's local files are in, or None when unknown."""
        root = self.data_root(data_dir)
        if root is None:
            return None
        if self.local.layout == "xtreme":
            return root / "xtreme" / str(self.local.dataset)
        return root if self.base_dir is not None else safe_join(root, self.local.root)


def _deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping with ``yaml.safe_load``; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read task file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a YAML mapping of task fields, found {type(data).__name__}")
    return data


def builtin_dir() -> Path:
    """The package's folder of built-in task files (``taskdiff/transfer/tasks/builtin``)."""
    return Path(str(resources.files("taskdiff.transfer.tasks") / "builtin"))


def include_path(path: Path, include: str) -> Path:
    """The file named by ``include:`` in ``path``: ``builtin:<file>`` in the built-in folder,
    else relative to ``path``'s folder; neither may escape its folder."""
    if not isinstance(include, str):
        raise ConfigError(f"{path}: 'include' entries must be file names, found {include!r}")
    if include.startswith(BUILTIN_PREFIX):
        return safe_join(builtin_dir(), include[len(BUILTIN_PREFIX):])
    return safe_join(path.parent, include)


def resolve_includes(path: Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Read ``path`` and merge the files named by its ``include:`` (relative, safe) under it.

    An entry ``builtin:<file>`` names a file of the built-in task folder (:func:`builtin_dir`).
    """
    path = Path(path).resolve()
    if path in _seen:
        raise ConfigError(f"{path}: include cycle through {' -> '.join(p.name for p in _seen)}")
    data = read_yaml(path)
    includes = data.pop("include", None) or []
    if isinstance(includes, str):
        includes = [includes]
    merged: dict = {}
    for inc in includes:
        merged = _deep_merge(merged, resolve_includes(include_path(path, inc), _seen + (path,)))
    return _deep_merge(merged, data)


def task_from_dict(data: dict, origin: str) -> TaskConfig:
    """Validate a merged mapping; errors name the origin and the field."""
    try:
        return TaskConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        found = first.get("input")
        found_s = repr(found) if not isinstance(found, dict) else "a mapping"
        raise ConfigError(f"{origin}: field {field!r}: {first['msg']} (found {found_s[:80]})") from None


def load_task_file(path: Path, *, user_file: bool = True) -> TaskConfig:
    """Load one task YAML; a user's file gets ``base_dir`` = its directory."""
    data = resolve_includes(Path(path))
    if user_file:
        data.setdefault("base_dir", str(Path(path).resolve().parent))
    return task_from_dict(data, str(path))
