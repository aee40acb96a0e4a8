"""Ray: each node is a remote task with ``num_gpus`` / ``num_cpus`` resources.

``ray.address`` connects to an existing cluster (``auto``, ``ray://head:10001``); without
it a local instance is started (``local_num_cpus`` CPUs) and shut down at the end. A node
asks for ``num_gpus`` GPUs (default: 1 when the cluster has GPUs, else 0) and ``num_cpus``
CPUs, so Ray places at most one training run per GPU. Ray's own task retries are off: a
worker that dies is reported to the scheduler, which reruns the node (``executor.retries``)
from the run's checkpoints. Workers must be able to import taskdiff and see the run store
and the data (a shared file system, or ``ray.runtime_env``). Ray is imported only when
this executor is chosen.
"""

from __future__ import annotations

import logging
import os
from typing import Sequence

from taskdiff.errors import ConfigError
from taskdiff.logs import quiet_libraries
from taskdiff.study.executors.base import Executor, Outcome, format_exception
from taskdiff.study.node import Job, execute_node

log = logging.getLogger(__name__)

__all__ = ["RayExecutor", "import_ray"]


def import_ray():
    """``import ray`` with an actionable error."""
    try:
        import ray
    except ImportError:
        raise ConfigError("the ray executor needs ray: pip install 'taskdiff[ray]'") from None
    return ray


def _run_node(job: Job, payload: dict, node: dict) -> dict:
    """A Ray task: ``job(payload, node)`` in a Ray worker process."""
    quiet_libraries()
    return job(payload, node)


class RayExecutor(Executor):
    """Runs nodes as Ray remote tasks (see the module docstring)."""

    name = "ray"

    def __init__(self, options):
        self.opts = options
        self.refs: dict = {}
        self._started_here = False

    def describe(self) -> str:
        where = self.opts.address or "a local instance"
        return f"ray ({where})"

    def start(self, payload: dict, job: Job = execute_node) -> None:
        super().start(payload, job)
        ray = import_ray()
        self.ray = ray
        if not ray.is_initialized():
            kwargs = {"address": self.opts.address, "namespace": self.opts.namespace, "log_to_driver": False,
                      "ignore_reinit_error": True}
            if self.opts.runtime_env:
                kwargs["runtime_env"] = self.opts.runtime_env
            if self.opts.address is None:
                env = {k: v for k, v in os.environ.items() if k.startswith(("HF_", "TASKDIFF_", "TRANSFORMERS_"))}
                if env:
                    kwargs["runtime_env"] = {**(kwargs.get("runtime_env") or {}),
                                             "env_vars": {**env, **(kwargs.get("runtime_env") or {}).get("env_vars", {})}}
                kwargs.update(include_dashboard=False, num_cpus=self.opts.local_num_cpus)
            ray.init(**{k: v for k, v in kwargs.items() if v is not None})
            self._started_here = True
        gpus = self.opts.num_gpus
        if gpus is None:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        self.remote = ray.remote(num_gpus=gpus, num_cpus=self.opts.num_cpus, max_retries=0)(_run_node)
        self.payload_ref = ray.put(payload)
        log.info("ray: %s; %s GPU(s) and %s CPU(s) per run", ray.cluster_resources(), gpus, self.opts.num_cpus)

    def submit(self, nodes: Sequence, after: dict[str, str] | None = None) -> None:
        for n in nodes:
            self.refs[self.remote.remote(self.job, self.payload_ref, n.to_dict())] = n.run_id

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        if not self.refs:
            return []
        ready, _ = self.ray.wait(list(self.refs), num_returns=1, timeout=timeout)
        outcomes = []
        for ref in ready:
            rid = self.refs.pop(ref)
            try:
                result = self.ray.get(ref)
            except self.ray.exceptions.RayTaskError as exc:  # the node raised
                cause = getattr(exc, "cause", None)
                outcomes.append(Outcome(rid, False, error=format_exception(cause) if cause else format_exception(exc)))
                continue
            except (self.ray.exceptions.WorkerCrashedError, self.ray.exceptions.NodeDiedError,
                    self.ray.exceptions.TaskCancelledError) as exc:
                outcomes.append(Outcome(rid, False, error=format_exception(exc, 300), worker_died=True))
                continue
            except Exception as exc:  # noqa: BLE001
                outcomes.append(Outcome(rid, False, error=format_exception(exc)))
                continue
            outcomes.append(Outcome(rid, True, hit=bool(result.get("hit")), seconds=float(result.get("seconds", 0.0)),
                                    where=str(result.get("where", ""))))
        return outcomes

    def close(self, cancel: bool = False) -> None:
        if cancel:
            for ref in list(self.refs):
                try:
                    self.ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001
                    pass
        self.refs.clear()
        if self._started_here:
            self.ray.shutdown()
            self._started_here = False
