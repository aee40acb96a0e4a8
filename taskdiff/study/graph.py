"""The run graph of a study: every node is one run of the run store.

A study compiles in two steps:

1. :func:`plan_study` enumerates the nodes from the config alone (no data is read): per
   model and seed, one ``intermediate`` run per intermediate task; per target, seed and
   encoder (each intermediate's and the base model's, the baseline ``none``) one ``target``
   run, and one ``evaluation`` run per language on top of it (retrieval targets are not
   trained: their evaluations hang straight off the encoder); and one ``profile`` run per
   intermediate task and model when ``measures`` are given. Counts and cost estimates
   (``--dry-run``) come from this plan.
2. :func:`resolve` turns each node into its :class:`~taskdiff.transfer.store.RunSpec` with
   the very functions ``taskdiff transfer`` uses (:func:`~taskdiff.transfer.phases.train_spec`,
   :func:`~taskdiff.transfer.phases.eval_spec`), in dependency order, so a node's id *is*
   the run id in the store: whatever ``taskdiff transfer`` or an earlier study already ran
   is done here too. Resolving reads the data (run ids contain data fingerprints).

Profile nodes are runs of kind ``study_profile`` that wrap
:func:`taskdiff.difficulty.api.profile_task` and keep the profile JSON.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Iterable

from taskdiff.errors import ConfigError

__all__ = ["KINDS", "Node", "Plan", "StudyGraph", "parse_shard", "plan_study", "profile_spec", "resolve",
           "shard_index"]

KINDS = ("intermediate", "target", "evaluation", "profile")
BASE = "none"
PROFILE_KIND = "study_profile"


@dataclass
class Node:
    """One run of a study.

    ``key`` identifies the node in the plan (before data are read); ``run_id`` is its run
    store id once resolved; ``deps`` are the run ids it needs; ``parent`` is what the run's
    spec names as its encoder / model (``base:<model>`` or a run id).
    """

    key: str
    kind: str
    model: str
    task: str
    seed: int | None = None
    intermediate: str | None = None
    language: str | None = None
    dep_keys: tuple[str, ...] = ()
    retrieval: bool = False
    run_id: str | None = None
    deps: tuple[str, ...] = ()
    parent: str | None = None
    multi_model: bool = field(default=False, repr=False)

    @property
    def label(self) -> str:
        """A human description (``eval xnli/de <- mnli seed 1``)."""
        if self.kind == "intermediate":
            text = f"intermediate {self.task} seed {self.seed}"
        elif self.kind == "target":
            text = f"target {self.task} <- {self.intermediate} seed {self.seed}"
        elif self.kind == "evaluation":
            text = f"eval {self.task}/{self.language} <- {self.intermediate} seed {self.seed}"
        else:
            text = f"profile {self.task}"
        return f"{text} [{self.model}]" if self.multi_model else text

    @property
    def run_key(self) -> str:
        """The key of the run this entry reads: entries with equal run keys share one run
        (a retrieval evaluation of the base encoder does not depend on the seed)."""
        if self.kind == "evaluation" and self.retrieval and self.intermediate == BASE:
            return _key(self.kind, self.model, BASE, self.task, self.language, None)
        return self.key

    def to_dict(self) -> dict:
        """JSON-able (for workers and the study manifest)."""
        d = dataclasses.asdict(self)
        d["dep_keys"], d["deps"] = list(self.dep_keys), list(self.deps)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Node":
        d = dict(d)
        d["dep_keys"], d["deps"] = tuple(d.get("dep_keys", ())), tuple(d.get("deps", ()))
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(cls)}})


def _key(kind: str, model: str, intermediate: str | None, task: str, language: str | None, seed: int | None) -> str:
    return f"{kind}|{model}|{intermediate or ''}|{task}|{language or ''}|{'' if seed is None else seed}"


@dataclass
class Plan:
    """The study's nodes in dependency order, before any data is read."""

    nodes: list[Node]

    def runs(self) -> list[Node]:
        """One entry per distinct run (see :attr:`Node.run_key`)."""
        seen: dict[str, Node] = {}
        for n in self.nodes:
            seen.setdefault(n.run_key, n)
        return list(seen.values())

    def counts(self) -> dict[str, int]:
        """Distinct runs per kind."""
        out = dict.fromkeys(KINDS, 0)
        for n in self.runs():
            out[n.kind] += 1
        return out

    def by_key(self) -> dict[str, Node]:
        return {n.key: n for n in self.nodes}


def plan_study(study) -> Plan:
    """Enumerate the nodes of a :class:`~taskdiff.study.config.Study` (no data read)."""
    from taskdiff.transfer.tasks import get_task

    cfg = study.config
    multi = len(cfg.models) > 1
    nodes: list[Node] = []
    for model in cfg.models:
        for seed in cfg.seeds:
            encoders: dict[str, str | None] = {BASE: None}
            for name in study.intermediates:
                node = Node(_key("intermediate", model, None, name, None, seed), "intermediate", model, name, seed,
                            intermediate=name, multi_model=multi)
                nodes.append(node)
                encoders[name] = node.key
            for target in cfg.targets:
                task = get_task(target)
                langs = study.languages_of(target)
                for inter, enc_key in encoders.items():
                    enc_deps = (enc_key,) if enc_key else ()
                    if task.trainable:
                        t = Node(_key("target", model, inter, target, None, seed), "target", model, target, seed,
                                 intermediate=inter, dep_keys=enc_deps, multi_model=multi)
                        nodes.append(t)
                        eval_deps: tuple[str, ...] = (t.key,)
                    else:
                        eval_deps = enc_deps
                    for lang in langs:
                        nodes.append(Node(_key("evaluation", model, inter, target, lang, seed), "evaluation", model,
                                          target, seed, intermediate=inter, language=lang, dep_keys=eval_deps,
                                          retrieval=not task.trainable, multi_model=multi))
        if cfg.measures:
            for name in study.intermediates:
                nodes.append(Node(_key("profile", model, None, name, None, cfg.profile_seed), "profile", model, name,
                                  cfg.profile_seed, multi_model=multi))
    return Plan(nodes)


def profile_spec(ws, study, task, model: str):
    """The spec of a study's profile run of ``task`` (kind ``study_profile``)."""
    from taskdiff.provenance import data_fingerprint
    from taskdiff.transfer.phases import _task_ref
    from taskdiff.transfer.store import RunSpec

    train = ws.rows(task, "train", task.train_language)
    return RunSpec(PROFILE_KIND, {"task": _task_ref(task), "model": model, "measures": list(study.config.measures),
                                  "seed": study.config.profile_seed, "max_examples": ws.max_examples,
                                  "data": data_fingerprint(train.rows)})


def node_spec(node: Node, study, ws, parent: str | None):
    """The run spec of ``node`` given its parent's id (what the worker recomputes)."""
    from taskdiff.transfer.phases import eval_spec, train_spec
    from taskdiff.transfer.tasks import get_task

    cfg = study.config
    task = get_task(node.task)
    if node.kind == "intermediate":
        return train_spec("intermediate", ws, task, f"base:{node.model}", node.seed, cfg.intermediate_train)
    if node.kind == "target":
        return train_spec("target", ws, task, parent, node.seed, cfg.target_train)
    if node.kind == "evaluation":
        from taskdiff.transfer.retrieval_eval import retrieval_run_key

        extra = retrieval_run_key(cfg.retrieval_layer, cfg.pooling) if node.retrieval else None
        return eval_spec(ws, task, parent, node.language, extra)
    if node.kind == "profile":
        return profile_spec(ws, study, task, node.model)
    raise ValueError(f"unknown node kind {node.kind!r}")


def resolve(plan: Plan, study, ws) -> "StudyGraph":
    """Give every node its run id (reads the data of every task and language once)."""
    ids: dict[str, str] = {}
    out: list[Node] = []
    for node in plan.nodes:
        deps = tuple(ids[k] for k in node.dep_keys)
        parent = None
        if node.kind in ("target", "evaluation"):
            parent = deps[0] if deps else f"base:{node.model}"
        spec = node_spec(node, study, ws, parent)
        ids[node.key] = spec.run_id
        out.append(dataclasses.replace(node, run_id=spec.run_id, deps=deps, parent=parent))
    return StudyGraph(out)


_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*\Z")


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``."""
    m = _SHARD.match(str(text))
    if not m:
        raise ConfigError(f"--shard: expected i/n (e.g. 0/4), found {text!r}")
    i, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard: the index runs from 0 to n-1, found {text!r}")
    return i, n


def shard_index(run_id: str, n: int) -> int:
    """The shard (0..n-1) a run belongs to: its config hash modulo ``n``.

    A pure function of the run id, so every process computes the same partition whatever
    is already done, and a node never changes shard.
    """
    return int(run_id.rsplit("-", 1)[1], 16) % n


class StudyGraph:
    """Resolved nodes by run id, in dependency order.

    A run that several plan entries share is one node (e.g. a retrieval evaluation of the
    base encoder does not depend on the seed: every seed's baseline row reads the same
    run); :attr:`entries` keeps every plan entry, for the tables.
    """

    def __init__(self, entries: Iterable[Node]):
        self.entries: list[Node] = list(entries)
        self.nodes: dict[str, Node] = {}
        for n in self.entries:
            if n.run_id is None:
                raise ValueError(f"node {n.key} is not resolved")
            self.nodes.setdefault(n.run_id, n)

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes.values())

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(KINDS, 0)
        for n in self:
            out[n.kind] += 1
        return out

    def states(self, store) -> dict[str, str]:
        """Run id -> :data:`~taskdiff.transfer.store.STATES` entry."""
        return {rid: store.state(rid) for rid in self.nodes}

    def select(self, shard: tuple[int, int] | None = None, phases: Iterable[str] | None = None) -> list[Node]:
        """The nodes of one shard and/or of some phases (kinds), in dependency order."""
        phases = set(phases) if phases else None
        if phases and not phases <= set(KINDS):
            raise ConfigError(f"--phase: unknown phase(s) {sorted(phases - set(KINDS))}; expected {list(KINDS)}")
        return [n for n in self if (shard is None or shard_index(n.run_id, shard[1]) == shard[0])
                and (phases is None or n.kind in phases)]

    def dependents(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {rid: [] for rid in self.nodes}
        for n in self:
            for d in n.deps:
                out.setdefault(d, []).append(n.run_id)
        return out

    def to_list(self) -> list[dict]:
        """Every plan entry (:meth:`from_list` rebuilds the graph)."""
        return [n.to_dict() for n in self.entries]

    @classmethod
    def from_list(cls, items: list[dict]) -> "StudyGraph":
        return cls(Node.from_dict(d) for d in items)
