"""Slurm through submitit: one job array per phase, requeued on pre-emption.

Every :meth:`SlurmExecutor.submit` call becomes one job array per phase (kind) with
``slurm_array_parallelism`` as its cap and the phase's time limit (``slurm.time``, in
minutes, or a mapping phase -> minutes). Each array task runs one node through
:class:`NodeJob`, which submitit checkpoints (``__submitit_checkpoint__``) when Slurm
pre-empts it or its time runs out: the job is requeued with the same node, and the run
resumes from its last epoch checkpoint in the run store (at most ``max_num_timeout`` times).

Ordering between phases:

* ``dependencies: wait`` (default): the study process waits for a phase's jobs and submits
  the next phase's arrays as their dependencies finish (keep it running, e.g. in ``tmux``
  or a small CPU job).
* ``dependencies: afterok``: every phase is submitted at once, each array with
  ``--dependency=afterok:<job ids>`` and ``--kill-on-invalid-dep=yes`` (through
  ``slurm_additional_parameters``); with ``--detach`` the study process exits after
  submitting and ``taskdiff status`` follows the runs. Needs a real Slurm cluster.

``slurm.cluster: local`` (or ``debug``) runs the same jobs with submitit's local executor
on this machine (tests, debugging); the array cap is then applied here.
submitit is imported only when this executor is chosen.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path
from typing import Sequence

from taskdiff.errors import ConfigError
from taskdiff.logs import quiet_libraries
from taskdiff.study.executors.base import Executor, Outcome, format_exception
from taskdiff.study.node import Job, execute_node

log = logging.getLogger(__name__)

__all__ = ["NodeJob", "SlurmExecutor", "import_submitit"]


def import_submitit():
    """``import submitit`` with an actionable error."""
    try:
        import submitit
    except ImportError:
        raise ConfigError("the slurm executor needs submitit: pip install 'taskdiff[slurm]'") from None
    return submitit


class NodeJob:
    """The callable a Slurm job runs: ``job(payload, node)`` for one node; checkpointable
    (requeued as is).

    Resumption needs no state of ours: the run store keeps the run's epoch checkpoints,
    and the study's job (:func:`~taskdiff.study.node.execute_node`) picks them up when the
    job restarts.
    """

    def __init__(self, payload: dict, job: Job = execute_node):
        self.payload, self.job = payload, job

    def __call__(self, node: dict) -> dict:
        quiet_libraries()  # a Slurm job's process is ours
        return self.job(self.payload, node)

    def __submitit_checkpoint__(self, *args, **kwargs):
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)

    checkpoint = __submitit_checkpoint__


def _last_trace_line(text: str) -> str:
    """The exception line of a submitit ``FailedJobError`` message (its trace is between dashed lines)."""
    parts = text.split("----------------------")
    trace = parts[1] if len(parts) >= 3 else text
    lines = [line.strip() for line in trace.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text.strip()[:300]


class SlurmExecutor(Executor):
    """Runs nodes as submitit jobs (see the module docstring)."""

    name = "slurm"

    def __init__(self, options, folder: Path, *, study_name: str = "study", poll_s: float = 10.0,
                 detach: bool = False):
        self.opts, self.folder, self.study_name = options, Path(folder), study_name
        self.poll_s, self.want_detach = poll_s, detach
        self.jobs: dict[str, tuple[object, object]] = {}
        self.held: deque = deque()
        self.cluster = options.cluster

    def describe(self) -> str:
        mode = "afterok chains" if self.chains else "phase by phase"
        return f"slurm via submitit (cluster {self.cluster}, {mode}, array cap {self.opts.array_parallelism})"

    def start(self, payload: dict, job: Job = execute_node) -> None:
        super().start(payload, job)
        submitit = import_submitit()
        cluster = None if self.opts.cluster == "auto" else self.opts.cluster
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ex = submitit.AutoExecutor(folder=str(self.folder / "%j"), cluster=cluster,
                                        slurm_max_num_timeout=self.opts.max_num_timeout,
                                        local_max_num_timeout=self.opts.max_num_timeout)
        self.cluster = self.ex.cluster
        on_slurm = self.cluster == "slurm"
        if self.opts.dependencies == "afterok" and not on_slurm:
            log.warning("slurm: 'dependencies: afterok' needs a Slurm cluster (this is %s); waiting phase by phase",
                        self.cluster)
        self.chains = self.opts.dependencies == "afterok" and on_slurm
        self.detached = self.want_detach and self.chains
        if self.want_detach and not self.chains:
            log.warning("slurm: --detach needs 'dependencies: afterok' on a Slurm cluster; waiting instead")
        self.job_fn = NodeJob(payload, job)
        params = {"name": f"taskdiff-{self.study_name}", "gpus_per_node": self.opts.gpus_per_node,
                  "cpus_per_task": self.opts.cpus_per_task, "slurm_array_parallelism": self.opts.array_parallelism}
        if self.opts.mem_gb is not None:
            params["mem_gb"] = self.opts.mem_gb
        for key in ("partition", "account", "qos", "constraint"):
            if getattr(self.opts, key):
                params[f"slurm_{key}"] = getattr(self.opts, key)
        if self.opts.setup:
            params["slurm_setup"] = list(self.opts.setup)
            if self.cluster == "local":
                params["local_setup"] = list(self.opts.setup)
        self.ex.update_parameters(**params)

    def job_ref(self, run_id: str) -> str | None:
        job = self.jobs.get(run_id)
        return str(job[0].job_id) if job else None

    def submit(self, nodes: Sequence, after: dict[str, str] | None = None) -> None:
        if self.cluster != "slurm":  # submitit's local executor has no array cap: apply it here
            self.held.extend(nodes)
            self._release()
            return
        self._submit_arrays(list(nodes), after or {})

    def _release(self) -> None:
        room = self.opts.array_parallelism - len(self.jobs)
        if room > 0 and self.held:
            batch = [self.held.popleft() for _ in range(min(room, len(self.held)))]
            self._submit_arrays(batch, {})

    def _submit_arrays(self, nodes: list, after: dict[str, str]) -> None:
        by_kind: dict[str, list] = {}
        for n in nodes:
            by_kind.setdefault(n.kind, []).append(n)
        for kind, group in by_kind.items():
            extra = dict(self.opts.additional_parameters)
            deps = sorted({after[d] for n in group for d in n.deps if d in after})
            if deps:
                extra["dependency"] = "afterok:" + ":".join(deps)
                extra["kill-on-invalid-dep"] = "yes"
            self.ex.update_parameters(timeout_min=self.opts.minutes(kind), name=f"taskdiff-{self.study_name}-{kind}",
                                      slurm_additional_parameters=extra)
            jobs = self.ex.map_array(self.job_fn, [n.to_dict() for n in group])
            for n, job in zip(group, jobs):
                self.jobs[n.run_id] = (job, n)
            log.info("submitted %d %s job(s)%s", len(group), kind, f" after {len(deps)} job(s)" if deps else "")

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            outcomes = []
            for rid, (job, node) in list(self.jobs.items()):
                if not job.done():
                    continue
                del self.jobs[rid]
                outcomes.append(self._outcome(rid, job))
            if self.cluster != "slurm":
                self._release()
            if outcomes or not self.jobs:
                return outcomes
            if deadline is not None and time.monotonic() >= deadline:
                return []
            time.sleep(min(self.poll_s if self.cluster == "slurm" else 0.5,
                           max(0.05, (deadline - time.monotonic()) if deadline else 1e9)))

    def _outcome(self, rid: str, job) -> Outcome:
        from submitit.core.utils import FailedJobError, UncompletedJobError

        where = f"job {job.job_id}"
        try:
            result = job.result()
        except FailedJobError as exc:  # the node raised: a real failure
            return Outcome(rid, False, error=f"{where}: {_last_trace_line(str(exc))} (log: {job.paths.stderr})",
                           where=where)
        except UncompletedJobError as exc:  # killed, cancelled, timed out past its requeues
            return Outcome(rid, False, error=f"{where}: {format_exception(exc, 300)}", worker_died=True, where=where)
        except Exception as exc:  # noqa: BLE001
            return Outcome(rid, False, error=f"{where}: {format_exception(exc)}", where=where)
        return Outcome(rid, True, hit=bool(result.get("hit")), seconds=float(result.get("seconds", 0.0)),
                       where=f"{where} {result.get('where', '')}".strip())

    def close(self, cancel: bool = False) -> None:
        self.held.clear()
        if cancel and self.jobs:
            if self.cluster == "slurm":
                log.warning("slurm: %d job(s) keep running on the cluster; `taskdiff status` follows them, "
                            "`scancel` stops them", len(self.jobs))
            else:
                for job, _ in self.jobs.values():
                    try:
                        job.cancel(check=False)
                    except Exception:  # noqa: BLE001
                        pass
