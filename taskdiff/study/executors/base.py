"""The executor interface: submit runs whose dependencies are done, wait, collect outcomes.

The scheduler (:func:`taskdiff.study.run.schedule`) owns the graph; an executor only
runs nodes. It calls :meth:`Executor.start` once with the study payload, then repeatedly
:meth:`Executor.submit` with nodes that may start (their dependencies are done, or, for an
executor with ``chains = True``, already submitted to it) and :meth:`Executor.wait` for
:class:`Outcome`\\ s, and finally :meth:`Executor.close`.

The work per node is the *job* given to :meth:`Executor.start`: a callable
``job(payload, node_dict) -> {"run_id", "hit", "seconds", "where"}``. A study passes
:func:`taskdiff.study.node.execute_node` (the default), which goes through
:meth:`~taskdiff.transfer.store.RunStore.get_or_run`: two executors (or shards) asking for
the same run never run it twice, and a killed run resumes from its checkpoints. A test
passes a fake job (:mod:`taskdiff.testing.jobs`) and needs no study at all.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Sequence

from taskdiff.study.node import Job, execute_node

__all__ = ["Executor", "Outcome"]


@dataclass
class Outcome:
    """What became of one submitted node.

    ``worker_died`` marks a failure of the process rather than of the run (SIGKILL, OOM,
    pre-emption): the scheduler resubmits those (``executor.retries``).
    """

    run_id: str
    ok: bool
    error: str | None = None
    hit: bool = False
    seconds: float = 0.0
    worker_died: bool = False
    where: str = ""


class Executor(abc.ABC):
    """Runs study nodes somewhere; see the module docstring for the protocol."""

    #: Human name (``local``, ``gpu-pool``, ``slurm``, ``ray``).
    name = "base"
    #: Whether nodes may be submitted before their dependencies finish (the executor orders
    #: them itself, e.g. Slurm ``afterok``).
    chains = False
    #: Whether results arrive while the study process waits (False: submit and exit).
    detached = False

    def start(self, payload: dict, job: Job = execute_node) -> None:
        """Prepare to run ``job(payload, node.to_dict())`` for every node submitted.

        Parameters
        ----------
        payload : dict
            What the job needs besides the node (a study's ``Study.to_payload()``).
        job : callable, default :func:`~taskdiff.study.node.execute_node`
            The work per node; an executor that runs it in another process needs it
            importable by name (a module-level function).
        """
        self.payload, self.job = payload, job

    @abc.abstractmethod
    def submit(self, nodes: Sequence, after: dict[str, str] | None = None) -> None:
        """Queue ``nodes`` (:class:`~taskdiff.study.node.Node`); ``after`` maps a run id
        still in flight to the executor's reference for it (chaining executors only)."""

    @abc.abstractmethod
    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """Block until at least one submitted node finished (or ``timeout`` s passed)."""

    def job_ref(self, run_id: str) -> str | None:
        """The executor's reference of a submitted run (a Slurm job id), if any."""
        return None

    def close(self, cancel: bool = False) -> None:
        """Release workers; ``cancel`` also stops work in flight (where that is possible)."""

    def describe(self) -> str:
        return self.name


def format_exception(exc: BaseException, limit: int = 400) -> str:
    """``Type: message`` shortened to one line."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
