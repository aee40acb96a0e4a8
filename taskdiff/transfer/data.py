"""Loading a task's data per role and language, with declared, recorded split rules.

A transfer run needs three *roles* of a task: ``train`` and ``selection`` (English model
selection) in the training language, and ``evaluation`` in each target language. Each role
is resolved to a split (a file locally, or a hub split) and, when the task declares a
:class:`~taskdiff.transfer.tasks.config.CarveRule`, to a range of the id hash. The
resolution is returned as a :class:`SplitPlan` and recorded with every run; nothing falls
back silently (a warning is logged as well).
"""

from __future__ import annotations

import glob
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from taskdiff.errors import ConfigError, DataError, TaskdiffError, safe_join
from taskdiff.transfer.formats import get_format
from taskdiff.transfer.tasks.config import TaskConfig
from taskdiff.errors import ZeroShotViolation
from taskdiff.transfer.hub_rows import hub_rows
from taskdiff.transfer.readers import get_reader
from taskdiff.transfer.readers.xtreme import read_xtreme, xtreme_files, xtreme_layout
from taskdiff.transfer.tasks.registry import get_task

log = logging.getLogger(__name__)
ROLES = ("train", "selection", "evaluation")
GENERIC_READERS = ("jsonl", "csv", "tsv")  # configured by format/columns/labels options


class MissingDataError(TaskdiffError):
    """No data for a task / split / language: says where it looked."""


@dataclass(frozen=True)
class SplitPlan:
    """Where one role's rows come from: a split and a half-open range of the id hash."""

    role: str
    split: str
    lo: float = 0.0
    hi: float = 1.0
    note: str = ""

    def as_dict(self) -> dict:
        return {"role": self.role, "split": self.split, "hash_range": [self.lo, self.hi], "note": self.note}


@dataclass
class RoleData:
    """Rows of one role and language, with the plan that produced them."""

    rows: list[dict]
    plan: SplitPlan
    language: str
    source: str
    notes: list[str] = field(default_factory=list)


def id_hash(example_id: str, salt: str = "taskdiff") -> float:
    """A stable uniform number in [0, 1) for an example id (sha256; not Python's hash)."""
    digest = hashlib.sha256(f"{salt}:{example_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# ----------------------------------------------------------------------------- local files
def _local_files(task: TaskConfig, data_dir: Path | None, split: str, language: str) -> list[Path]:
    """The local files of one split and language ([] when absent)."""
    root = task.local_root(data_dir)
    if task.local.layout == "xtreme" and root is not None:  # the layout may look beyond xtreme/ (tatoeba: laser/)

        path = xtreme_files(task.local.dataset, task.data_root(data_dir)).get((split, language))
        return [Path(path)] if path is not None and Path(path).exists() else []
    if root is None or not root.exists():
        return []
    pattern = task.local.files.get(split)
    if pattern is None:
        return []
    relative = pattern.format(lang=language)
    if task.base_dir is None:  # a built-in task: its own patterns (" | "-separated alternatives)
        return sorted({Path(p) for alt in relative.split("|") for p in glob.glob(str(root / alt.strip()))})
    try:  # a user's task file: no pattern, language or symlink may lead out of its directory
        matches = [Path(p) for p in glob.glob(str(safe_join(root, relative)))]
        for match in matches:
            safe_join(root, match.relative_to(root))
    except ConfigError as exc:
        raise ConfigError(f"task {task.name!r}, files[{split!r}]: {exc}") from None
    return sorted(matches)


def _read_local(task: TaskConfig, data_dir: Path | None, split: str, language: str) -> list[dict]:
    files = _local_files(task, data_dir, split, language)
    if task.local.layout == "xtreme":

        return read_xtreme(task.local.dataset, task.data_root(data_dir), language, split)

    reader = get_reader(task.local.reader)
    rows: list[dict] = []
    for path in files:
        opts = dict(task.local.options)
        if task.local.reader in GENERIC_READERS:
            opts.setdefault("format", task.format)
            if task.labels:
                opts.setdefault("labels", task.labels)
        elif task.labels and task.local.reader in ("conllu", "token_tsv"):  # a tag outside the set fails here, by line
            opts.setdefault("labels", task.labels)
        part = reader(path, **opts)
        if len(files) > 1:  # ids must stay unique across the files of a glob
            for r in part:
                r["id"] = f"{path.parent.name}/{path.stem}:{r['id']}"
        rows.extend(part)
    return rows


# ----------------------------------------------------------------------------- hub
def _read_hub(task: TaskConfig, split: str, language: str) -> list[dict]:
    """Load a split from the Hugging Face hub with ``datasets.load_dataset`` (needs the hub)."""
    import datasets


    hub = task.hub
    hub_split = hub.splits.get(split)
    if hub_split is None:
        return []
    name = hub.names.get(language) or (hub.name.format(lang=language) if hub.name else None)
    try:
        ds = datasets.load_dataset(hub.path, name, split=hub_split, revision=hub.revision)
    except Exception as exc:  # offline, missing config, network: say what was tried
        raise MissingDataError(
            f"task {task.name!r}: could not load hub data set {hub.path!r} (config {name!r}, split "
            f"{hub_split!r}): {type(exc).__name__}: {str(exc)[:200]}. Offline? Pass --data-dir with local copies."
        ) from None
    return hub_rows(ds, task)


# ----------------------------------------------------------------------------- planning
def available_splits(task: TaskConfig, data_dir: Path | None, language: str) -> dict[str, tuple[str, ...]]:
    """Split name -> identity of its files (equal tuples = the same data) for one language."""
    out = {}
    for split in ("train", "validation", "test"):
        files = _local_files(task, data_dir, split, language)
        if files:
            out[split] = tuple(str(f.resolve()) for f in files)
    return out


def plan_roles(task: TaskConfig, available: dict[str, tuple]) -> dict[str, SplitPlan | None]:
    """Resolve train / selection / evaluation to splits and hash ranges (pure).

    Parameters
    ----------
    task : TaskConfig
    available : dict
        Split name -> identity of its files in the training language (equal values mean
        the same data, e.g. xquad's validation and test are one file).

    Returns
    -------
    dict
        Role -> :class:`SplitPlan`, or None when the role cannot be served.
    """
    carve, fb = task.carve, task.split_fallbacks

    def same(a, b):
        return a in available and b in available and available[a] == available[b]

    train_split = "train" if "train" in available else (fb.get("train") if fb.get("train") in available else None)
    ev = _eval_candidate(task, available)
    sel_split = "validation" if "validation" in available and not (
        train_split and same(train_split, "validation")) else None
    carve_used = carve is not None and carve.source in available and (
        train_split is None or sel_split is None or (ev is not None and same(ev, train_split))
    )
    plans: dict[str, SplitPlan | None] = {}
    if carve_used and (train_split is None or same(train_split, carve.source)):
        plans["train"] = (SplitPlan("train", carve.source, 0.0, carve.train, note=f"carved from {carve.source}")
                          if carve.train > 0 else None)
    elif train_split is not None:
        note = "" if train_split == "train" else f"train missing: using {train_split}"
        plans["train"] = SplitPlan("train", train_split, note=note)
    else:
        plans["train"] = None
    if carve_used and (sel_split is None or same(sel_split, carve.source)) and carve.validation > 0:
        lo = carve.train
        plans["selection"] = SplitPlan("selection", carve.source, lo, lo + carve.validation,
                                       note=f"carved from {carve.source}")
    else:
        plans["selection"] = SplitPlan("selection", sel_split) if sel_split else None
    if ev is None:
        plans["evaluation"] = None
    elif carve_used and same(ev, carve.source):
        plans["evaluation"] = SplitPlan("evaluation", ev, carve.train + carve.validation, 1.0,
                                        note=f"ids of {carve.source} never trained or selected on")
    else:
        note = "" if ev == task.eval_split else f"{task.eval_split} missing: using {ev}"
        if plans["selection"] and same(ev, plans["selection"].split):
            note += "; English evaluation reads the model-selection split"
        plans["evaluation"] = SplitPlan("evaluation", ev, note=note.strip("; "))
    return plans


def _eval_candidate(task: TaskConfig, available: dict) -> str | None:
    split, seen = task.eval_split, set()
    while split is not None and split not in available and split not in seen:
        seen.add(split)
        split = task.split_fallbacks.get(split)
    return split if split in available else None


# ----------------------------------------------------------------------------- loading
def load_role(task: TaskConfig, role: str, language: str, data_dir: Path | None = None,
              max_examples: int | None = None) -> RoleData:
    """Rows of ``role`` ("train", "selection", "evaluation") in ``language``.

    For tasks that are not trained (retrieval), "selection" is the data that tunes a
    decision threshold (BUCC), and may be in any language.

    Local files under ``data_dir`` are used when the task's local root exists there;
    otherwise the hub source. ``max_examples`` keeps the first N ids in hash order, so the
    same items are kept in every language of a translated data set.

    Raises
    ------
    ZeroShotViolation
        If training or model selection is asked for in a language other than English
        (the task's ``train_language``).
    MissingDataError
        If the role cannot be served; the message says where it looked.
    """

    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, found {role!r}")
    if role in ("train", "selection") and language != task.train_language and task.trainable:
        raise ZeroShotViolation(
            f"task {task.name!r}: {role} data must be in {task.train_language!r} (zero-shot), asked for {language!r}")
    if task.components:
        return _load_mixture(task, role, language, data_dir, max_examples)
    # plans are made on the training language; untrained (retrieval) tasks plan per language
    available = available_splits(task, data_dir, task.train_language if task.trainable else language)
    if available:
        data = _load_local_role(task, role, language, data_dir, available)
    elif task.hub is not None:
        data = _load_hub_role(task, role, language)
    else:
        root = task.local_root(data_dir)
        raise MissingDataError(
            f"task {task.name!r}: no local data (looked in {root or 'no --data-dir given'}) and no hub source")
    if not data.rows:
        raise MissingDataError(f"task {task.name!r}: the {role} split for {language!r} is empty ({data.source})")
    data.rows = _cap(data.rows, max_examples, task)
    for r in data.rows:
        r["language"] = language
    for note in data.notes:
        log.warning("task %s, %s/%s: %s", task.name, role, language, note)
    return data


def _load_local_role(task, role, language, data_dir, available) -> RoleData:
    """Read the planned split for ``language`` and keep its planned id-hash range."""
    plan = plan_roles(task, available)[role]
    if plan is None:
        raise MissingDataError(
            f"task {task.name!r}: no local split serves {role!r} (found {sorted(available)} under "
            f"{task.local_root(data_dir)}; declared fallbacks {task.split_fallbacks or 'none'}, carve "
            f"{'yes' if task.carve else 'no'})")
    files = _local_files(task, data_dir, plan.split, language)
    if not files:
        raise MissingDataError(
            f"task {task.name!r}: no {plan.split} file for language {language!r} under {task.local_root(data_dir)}"
            + _expected_file(task, data_dir, plan.split, language))
    rows = _read_local(task, data_dir, plan.split, language)
    restrict = (plan.lo, plan.hi) != (0.0, 1.0) and (
        language == task.train_language or task.carve is None or task.carve.translated)
    if restrict:
        rows = _in_range(rows, plan.lo, plan.hi, task)
    notes = [plan.note] if plan.note else []
    return RoleData(rows, plan, language, source=", ".join(str(f) for f in files), notes=notes)


def _expected_file(task, data_dir, split: str, language: str) -> str:
    """`` (expected PATH)`` for the message of a missing file; empty when it cannot be named."""
    try:
        if task.local.layout == "xtreme":

            return f" (expected {xtreme_layout(task.local.dataset).path(task.data_root(data_dir), split, language)})"
        pattern = task.local.files.get(split)
        return f" (expected {task.local_root(data_dir) / pattern.format(lang=language)})" if pattern else ""
    except Exception:  # noqa: BLE001 - the message must not fail
        return ""


def _in_range(rows: list[dict], lo: float, hi: float, task: TaskConfig) -> list[dict]:
    salt = task.carve.salt if task.carve else "taskdiff"
    if get_format(task.format).candidate_pool:  # carve the queries; keep the whole candidate pool
        return [r for r in rows if r["side"] != "source" or lo <= id_hash(r["id"], salt) < hi]
    return [r for r in rows if lo <= id_hash(r["id"], salt) < hi]


def _load_hub_role(task, role, language) -> RoleData:
    split = {"train": "train", "selection": "validation", "evaluation": task.eval_split}[role]
    rows = _read_hub(task, split, language)
    note = ""
    if not rows and split in task.split_fallbacks:
        note = f"{split} missing on the hub: using {task.split_fallbacks[split]}"
        split = task.split_fallbacks[split]
        rows = _read_hub(task, split, language)
    plan = SplitPlan(role, split, note=note)
    return RoleData(rows, plan, language, source=f"hub:{task.hub.path}", notes=[note] if note else [])


def _load_mixture(task, role, language, data_dir, max_examples) -> RoleData:

    rows, sources, notes = [], [], []
    for name in task.components:
        part = load_role(get_task(name), role, language, data_dir, max_examples)
        for r in part.rows:
            r["id"] = f"{name}:{r['id']}"
        rows.extend(part.rows)
        sources.append(f"{name} ({part.source})")
        notes.extend(part.notes)
    return RoleData(rows, SplitPlan(role, "mixture"), language, "; ".join(sources), notes)


def _cap(rows: list[dict], n: int | None, task: TaskConfig) -> list[dict]:
    if n is None or len(rows) <= n:
        return rows
    if not get_format(task.format).candidate_pool:
        keep = set(sorted((r["id"] for r in rows), key=id_hash)[:n])
        return [r for r in rows if r["id"] in keep]
    sources = [r for r in rows if r["side"] == "source"]
    keep = set(sorted((r["id"] for r in sources), key=id_hash)[:n])
    golds = {r["gold"] for r in sources if r["id"] in keep}
    targets = [r for r in rows if r["side"] == "target"]
    others = set(sorted((r["id"] for r in targets if r["id"] not in golds), key=id_hash)[:n])
    return [r for r in rows if r["id"] in keep or (r["side"] == "target" and (r["id"] in golds or r["id"] in others))]


def check_zero_shot(train_rows: list[dict], eval_rows: list[dict], *, translated: bool = True,
                    train_language: str = "en") -> None:
    """Fail if a training row is not English, or an evaluated id was trained on.

    Raises
    ------
    ZeroShotViolation
    """

    bad = [r for r in train_rows if r.get("language", train_language) != train_language]
    if bad:
        raise ZeroShotViolation(f"{len(bad)} non-{train_language} examples reached training "
                                f"(first id {bad[0]['id']!r}, language {bad[0].get('language')!r})")
    if translated:
        overlap = {r["id"] for r in train_rows} & {r["id"] for r in eval_rows}
        if overlap:
            raise ZeroShotViolation(f"{len(overlap)} evaluated ids were trained on (e.g. {sorted(overlap)[0]!r})")
