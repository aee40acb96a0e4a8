"""``taskdiff status``: done / running / failed / pending runs of a study.

Given a study directory, the node list comes from its manifest ``study.json`` (written
when ``taskdiff study`` starts), so no data is read; given a config file, the graph is
resolved from the config (which reads the data). States come from
:meth:`RunStore.state <taskdiff.transfer.store.RunStore.state>`: *done* (a valid ``DONE``
marker, checksums verified), *running* (a process holds the run's lock), *failed* (a run
directory without a valid ``DONE`` and no lock holder: an error, a kill or corruption;
``ERROR.json`` says which) and *pending* (never started). Re-running the study finishes
the failed and pending runs and repeats none of the done ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from taskdiff.errors import ConfigError
from taskdiff.errors import DataError
from taskdiff.io import read_json
from taskdiff.study.config import load_study
from taskdiff.study.graph import KINDS, StudyGraph, plan_study, resolve
from taskdiff.study.run import verified_states
from taskdiff.transfer.data import MissingDataError
from taskdiff.transfer.store import RunStore, STATES

__all__ = ["StudyStatus", "format_status", "study_status"]


@dataclass
class StudyStatus:
    """Counts per phase and state, and the failed and running runs."""

    name: str
    store: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: list[dict] = field(default_factory=list)
    running: list[dict] = field(default_factory=list)
    source: str = ""

    @property
    def totals(self) -> dict[str, int]:

        return {s: sum(c.get(s, 0) for c in self.counts.values()) for s in STATES}

    @property
    def complete(self) -> bool:
        t = self.totals
        return t["done"] == sum(t.values())

    def to_dict(self) -> dict:
        return {"name": self.name, "store": self.store, "source": self.source, "counts": self.counts,
                "totals": self.totals, "failed": self.failed, "running": self.running}


def _graph_of(target: Path, store, data_dir):

    if target.is_dir():
        manifest_path = target / "study.json"
        if not manifest_path.is_file():
            raise ConfigError(f"{target}: no study.json here - not a study directory (give the study's config file, "
                              "or the --out directory of a study that has started)")
        manifest = read_json(manifest_path)
        return manifest["name"], StudyGraph.from_list(manifest["nodes"]), store or manifest["store"], str(manifest_path)

    study = load_study(target, data_dir=data_dir, store=store)
    try:
        graph = resolve(plan_study(study), study, study.workspace())
    except Exception as exc:

        if isinstance(exc, MissingDataError):
            raise ConfigError(f"{target}: the status of a config needs its data to compute run ids ({exc}); "
                              "give the study directory instead") from None
        raise
    return study.config.name, graph, study.store, str(target)


def study_status(target: str | Path, *, store: str | Path | None = None, data_dir: str | Path | None = None,
                 threads: int = 8) -> StudyStatus:
    """The status of a study directory (its ``study.json``) or of a study config file."""

    target = Path(target)
    if not target.exists():
        raise ConfigError(f"{target}: no such study directory or config file")
    if target.is_dir() and not (target / "study.json").is_file() and (target / "scores.csv").is_file():
        return _transfer_out_status(target, store, threads)
    name, graph, store_root, source = _graph_of(target, store, data_dir)
    rs = RunStore(store_root)
    states = verified_states(rs, list(graph.nodes), threads)
    out = StudyStatus(name, str(rs.root), {k: dict.fromkeys(STATES, 0) for k in KINDS}, source=source)
    for rid, node in graph.nodes.items():
        state = states[rid]
        out.counts[node.kind][state] += 1
        if state == "failed":
            out.failed.append({"run_id": rid, "label": node.label, "error": _error(rs, rid)})
        elif state == "running":
            out.running.append({"run_id": rid, "label": node.label, "where": _where(rs, rid)})
    return out


def _transfer_out_status(target: Path, store, threads: int) -> StudyStatus:
    """The status of a ``taskdiff transfer --out`` folder: its evaluation runs (``scores.csv``) in the store.

    ``transfer`` writes its tables when every run has finished, so the runs listed are the
    whole study; their state is checked in ``store`` (default: ``$TASKDIFF_HOME`` or
    ``~/.cache/taskdiff``, the one ``transfer`` uses without ``--store``).
    """
    import csv


    path = target / "scores.csv"
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if "run_id" not in (reader.fieldnames or []):
            raise DataError(path, "a column 'run_id' (a `taskdiff transfer --out` table)",
                            f"columns {reader.fieldnames}")
        rids = sorted({r["run_id"] for r in reader if r.get("run_id")})
    rs = RunStore(store)
    states = verified_states(rs, rids, threads)
    out = StudyStatus(f"transfer output {target.name}", str(rs.root), {k: dict.fromkeys(STATES, 0) for k in KINDS},
                      source=f"{path}, written when all its runs had finished")
    for rid in rids:
        out.counts["evaluation"][states[rid]] += 1
        if states[rid] == "failed":
            out.failed.append({"run_id": rid, "label": "evaluation", "error": _error(rs, rid)})
    return out


def _error(store, rid: str) -> str:

    try:
        err = read_json(store.run_dir(rid) / "ERROR.json")
        return f"{err.get('type')}: {err.get('message')}".replace("\n", " ")[:200]
    except Exception:  # noqa: BLE001 - no ERROR.json: killed
        return "interrupted (no DONE, no ERROR.json: killed or stopped); a rerun resumes it"


def _where(store, rid: str) -> str:
    try:
        cfg = store.load_config(rid)
        return f"{cfg.get('host')}:{cfg.get('pid')} attempt {cfg.get('attempt')} since {cfg.get('created')}"
    except Exception:  # noqa: BLE001
        return "?"


def format_status(st: StudyStatus, *, limit: int = 20) -> str:
    """A plain-text status table."""

    lines = [f"study {st.name} ({st.source}); store {st.store}",
             f"  {'phase':<14}" + "".join(f"{s:>10}" for s in STATES) + f"{'total':>10}"]
    for kind, c in st.counts.items():
        if sum(c.values()):
            lines.append(f"  {kind:<14}" + "".join(f"{c[s]:>10}" for s in STATES) + f"{sum(c.values()):>10}")
    t = st.totals
    lines.append(f"  {'total':<14}" + "".join(f"{t[s]:>10}" for s in STATES) + f"{sum(t.values()):>10}")
    for title, items, key in (("running", st.running, "where"), ("failed", st.failed, "error")):
        if items:
            lines.append(f"  {title}:")
            for item in items[:limit]:
                lines.append(f"    {item['label']} ({item['run_id']}): {item[key]}")
            if len(items) > limit:
                lines.append(f"    ... and {len(items) - limit} more")
    if st.complete:
        lines.append("  complete")
    else:
        lines.append("  re-run the study to finish the failed and pending runs (done runs are not repeated)")
    return "\n".join(lines)
