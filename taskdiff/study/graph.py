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
:func:`taskdiff.difficulty.api.profile_task` and keep the profile JSON. :class:`Node` and
:func:`~taskdiff.study.node.node_spec` live in :mod:`taskdiff.study.node` (the job unit).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable

from taskdiff.errors import ConfigError
from taskdiff.study.node import BASE, KINDS, Node, node_key, node_spec
from taskdiff.transfer.tasks import get_task

__all__ = ["KINDS", "Node", "Plan", "StudyGraph", "parse_shard", "plan_study", "resolve", "shard_index"]

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


def plan_study(study) -> Plan:
    """Enumerate the nodes of a :class:`~taskdiff.study.config.Study` (no data read)."""
    cfg = study.config
    multi = len(cfg.models) > 1
    nodes: list[Node] = []
    for model in cfg.models:
        for seed in cfg.seeds:
            encoders: dict[str, str | None] = {BASE: None}
            for name in study.intermediates:
                node = Node(node_key("intermediate", model, None, name, None, seed), "intermediate", model, name, seed,
                            intermediate=name, multi_model=multi)
                nodes.append(node)
                encoders[name] = node.key
            for target in cfg.targets:
                task = get_task(target)
                langs = study.languages_of(target)
                for inter, enc_key in encoders.items():
                    enc_deps = (enc_key,) if enc_key else ()
                    if task.trainable:
                        t = Node(node_key("target", model, inter, target, None, seed), "target", model, target, seed,
                                 intermediate=inter, dep_keys=enc_deps, multi_model=multi)
                        nodes.append(t)
                        eval_deps: tuple[str, ...] = (t.key,)
                    else:
                        eval_deps = enc_deps
                    for lang in langs:
                        nodes.append(Node(node_key("evaluation", model, inter, target, lang, seed), "evaluation", model,
                                          target, seed, intermediate=inter, language=lang, dep_keys=eval_deps,
                                          retrieval=not task.trainable, multi_model=multi))
        if cfg.measures:
            for name in study.intermediates:
                key = node_key("profile", model, None, name, None, cfg.profile_seed)
                nodes.append(Node(key, "profile", model, name, cfg.profile_seed, multi_model=multi))
    return Plan(nodes)


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
