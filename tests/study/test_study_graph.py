"""The run graph: the full X-STILTs grid without data, run ids equal to the transfer pipeline's,
shards that partition the runs, and the scheduler's rules (on a fake executor)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from taskdiff.errors import ConfigError
from taskdiff.study.config import load_study
from taskdiff.study.executors.base import Executor, Outcome
from taskdiff.study.graph import Node, StudyGraph, parse_shard, plan_study, resolve, shard_index
from taskdiff.study.run import schedule

from .conftest import write_config

REPO = Path(__file__).resolve().parents[2]


def test_xstilts_grid_by_combinatorics_without_data(monkeypatch):
    monkeypatch.delenv("TASKDIFF_DATA_DIR", raising=False)
    st = load_study(REPO / "configs" / "xstilts.yaml")
    plan = plan_study(st)
    trained_langs = 15 + 7 + 33 + 40 + 12 + 7 + 9  # xnli pawsx udpos panx xquad mlqa tydiqa
    retrieval_langs = 4 + 36  # bucc tatoeba
    counts = plan.counts()
    assert counts["intermediate"] == 9 * 3
    assert counts["target"] == 7 * (9 + 1) * 3
    # base-encoder retrieval evaluations do not depend on the seed: one run each
    assert counts["evaluation"] == trained_langs * 10 * 3 + retrieval_langs * (9 * 3 + 1)
    assert counts["profile"] == 9
    assert len(plan.nodes) == counts["intermediate"] + counts["target"] + trained_langs * 30 + retrieval_langs * 30 + 9


def test_node_ids_are_the_transfer_pipelines_run_ids(tmp_path, fixture_data):
    """Resolving the tiny study gives exactly the run ids `taskdiff transfer` creates (no data run)."""
    from taskdiff.transfer.phases import Workspace, eval_spec, train_spec
    from taskdiff.transfer.retrieval_eval import retrieval_run_key
    from taskdiff.transfer.store import RunStore
    from taskdiff.transfer.tasks import get_task

    st = load_study(write_config(tmp_path, fixture_data), store=tmp_path / "store")
    ws = st.workspace()
    graph = resolve(plan_study(st), st, ws)
    assert graph.counts() == {"intermediate": 2, "target": 4, "evaluation": 7, "profile": 0}
    ws2 = Workspace(RunStore(tmp_path / "other"), st.data_dir, 16, progress=False)
    snli, xnli, tatoeba = get_task("snli"), get_task("xnli"), get_task("tatoeba")
    cfg = st.config
    inter = train_spec("intermediate", ws2, snli, "base:tiny", 1, cfg.intermediate_train).run_id
    target = train_spec("target", ws2, xnli, inter, 1, cfg.target_train).run_id
    evaluation = eval_spec(ws2, xnli, target, "de").run_id
    # retrieval keys carry the convention version (XTREME defaults: pooling None = per task)
    retrieval = eval_spec(ws2, tatoeba, "base:tiny", "de", retrieval_run_key(None, None)).run_id
    assert {inter, target, evaluation, retrieval} <= set(graph.nodes)
    node = graph.nodes[evaluation]
    assert node.deps == (target,) and graph.nodes[target].deps == (inter,) and node.label == "eval xnli/de <- snli seed 1"
    # the two seeds' baseline rows read one retrieval run
    base_rows = [n for n in graph.entries if n.run_id == retrieval]
    assert sorted(n.seed for n in base_rows) == [1, 2]
    assert StudyGraph.from_list(graph.to_list()).nodes.keys() == graph.nodes.keys()


def test_shards_partition_the_runs(tmp_path, fixture_data):
    st = load_study(write_config(tmp_path, fixture_data), store=tmp_path / "store")
    graph = resolve(plan_study(st), st, st.workspace())
    every = set(graph.nodes)
    for n in (1, 2, 3, 5):
        parts = [{x.run_id for x in graph.select((i, n))} for i in range(n)]
        assert set().union(*parts) == every
        assert all(not (a & b) for a, b in itertools.combinations(parts, 2))
        assert all(shard_index(r, n) == i for i, p in enumerate(parts) for r in p)
    assert {x.kind for x in graph.select(phases=["target"])} == {"target"}
    with pytest.raises(ConfigError, match="unknown phase"):
        graph.select(phases=["training"])


@pytest.mark.parametrize("text", ["1/1", "3/2", "a/b", "-1/2", "2"])
def test_bad_shard_specs(text):
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(text)


def test_parse_shard():
    assert parse_shard("0/4") == (0, 4) and parse_shard(" 3 / 4 ") == (3, 4)


# --------------------------------------------------------------------------- the scheduler
def _rid(kind: str, i: int) -> str:
    return f"{kind}-{i:016x}"


def _graph() -> StudyGraph:
    """Two intermediates -> one target each -> two evaluations each."""
    nodes = []
    for i in range(2):
        inter = Node(f"i{i}", "intermediate", "m", f"t{i}", 1, run_id=_rid("intermediate", i))
        tgt = Node(f"t{i}", "target", "m", "x", 1, intermediate=f"t{i}", run_id=_rid("target", i),
                   deps=(inter.run_id,), parent=inter.run_id)
        nodes += [inter, tgt]
        for j in range(2):
            nodes.append(Node(f"e{i}{j}", "evaluation", "m", "x", 1, intermediate=f"t{i}", language=f"l{j}",
                              run_id=_rid("evaluation", 10 * i + j), deps=(tgt.run_id,), parent=tgt.run_id))
    return StudyGraph(nodes)


class FakeStore:
    def __init__(self, done=()):
        self.done = set(done)

    def state(self, rid):
        return "done" if rid in self.done else "pending"

    def is_done(self, rid):
        return rid in self.done


class FakeExecutor(Executor):
    """Runs submitted nodes on wait(); fails / kills those it is told to."""

    def __init__(self, store, fail=(), die_once=(), chains=False):
        self.store, self.fail, self.die_once, self.chains = store, set(fail), set(die_once), chains
        self.queue, self.submitted, self.afters = [], [], []

    def submit(self, nodes, after=None):
        for n in nodes:
            if not self.chains:
                assert all(self.store.is_done(d) for d in n.deps), "submitted before its dependencies were done"
        self.queue += list(nodes)
        self.submitted += [n.run_id for n in nodes]
        self.afters.append(dict(after or {}))

    def job_ref(self, run_id):
        return f"job-{run_id[-4:]}"

    def wait(self, timeout=None):
        out = []
        while self.queue:
            n = self.queue.pop(0)
            if n.run_id in self.die_once:
                self.die_once.discard(n.run_id)
                out.append(Outcome(n.run_id, False, error="worker died", worker_died=True))
            elif n.run_id in self.fail or any(d in self.fail for d in n.deps):
                self.fail.add(n.run_id)
                out.append(Outcome(n.run_id, False, error="boom"))
            else:
                self.store.done.add(n.run_id)
                out.append(Outcome(n.run_id, True))
        return out


def test_schedule_runs_everything_in_dependency_order():
    g, store = _graph(), FakeStore()
    ex = FakeExecutor(store)
    res = schedule(g, list(g), ex, store, poll_s=0.01)
    assert res.ok and sorted(res.ran) == sorted(g.nodes) and store.done == set(g.nodes)


def test_schedule_skips_done_runs_and_blocks_dependents_of_failures():
    g, store = _graph(), FakeStore(done={_rid("intermediate", 0), _rid("target", 0)})
    ex = FakeExecutor(store, fail={_rid("intermediate", 1)})
    res = schedule(g, list(g), ex, store, poll_s=0.01)
    assert set(res.done_before) == {_rid("intermediate", 0), _rid("target", 0)}
    assert _rid("intermediate", 0) not in ex.submitted
    assert set(res.failed) == {_rid("intermediate", 1)}
    assert set(res.blocked) == {_rid("target", 1), _rid("evaluation", 10), _rid("evaluation", 11)}
    assert {_rid("evaluation", 0), _rid("evaluation", 1)} <= set(res.ran)


def test_schedule_retries_a_node_whose_worker_died():
    g, store = _graph(), FakeStore()
    ex = FakeExecutor(store, die_once={_rid("target", 1)})
    res = schedule(g, list(g), ex, store, retries=1, poll_s=0.01)
    assert res.ok and res.retried[_rid("target", 1)] == 1 and ex.submitted.count(_rid("target", 1)) == 2
    g, store = _graph(), FakeStore()
    res = schedule(g, list(g), FakeExecutor(store, die_once={_rid("target", 1)}), store, retries=0, poll_s=0.01)
    assert set(res.failed) == {_rid("target", 1)}


def test_chaining_executor_gets_everything_at_once_with_job_refs():
    g, store = _graph(), FakeStore()
    ex = FakeExecutor(store, chains=True)
    ex.wait = lambda timeout=None: []  # nothing finishes: all must be submitted anyway
    ex.detached = True
    res = schedule(g, list(g), ex, store, poll_s=0.01)
    assert sorted(res.submitted) == sorted(g.nodes)
    refs = {k: v for a in ex.afters for k, v in a.items()}
    assert refs[_rid("intermediate", 0)] == "job-0000" and _rid("target", 1) in refs


def test_a_shard_waits_for_runs_of_other_shards():
    g, store = _graph(), FakeStore()
    mine = [n for n in g if n.kind != "intermediate"]
    ex = FakeExecutor(store)
    res = schedule(g, mine, ex, store, poll_s=0.01, wait_external=0.05)
    assert not res.ran and len(res.blocked) == len(mine)  # nobody ran the intermediates
    store = FakeStore()
    ex = FakeExecutor(store)
    calls = {"n": 0}
    real_is_done = store.is_done

    def is_done(rid):  # "another shard" finishes the intermediates while we wait
        calls["n"] += 1
        if calls["n"] > 3:
            store.done |= {_rid("intermediate", 0), _rid("intermediate", 1)}
        return real_is_done(rid)

    store.is_done = is_done
    res = schedule(g, mine, ex, store, poll_s=0.01, wait_external=None)
    assert res.ok and sorted(res.ran) == sorted(n.run_id for n in mine)
