"""The local executor: N worker processes (``spawn``) on this machine, one node at a time each.

Each worker is a long-lived process started with the ``spawn`` context (no inherited
torch or CUDA state); it imports the libraries once, keeps its data rows cached, and runs
the nodes the study process sends it one by one through the executor's job (a study's:
:func:`taskdiff.study.node.execute_node`). The study process watches each worker's pipe and
its process sentinel, so a worker that dies (``SIGKILL``, OOM killer) is noticed at once:
its node is reported with ``worker_died`` (the scheduler reruns it, resuming from the
run's checkpoints) and a fresh worker takes the slot. Workers die with the study process
(Linux ``PR_SET_PDEATHSIG``), releasing their runs' locks.

``workers=0`` runs nodes inside the study process (for debugging and tests); with
``raise_errors=True`` a node's exception then propagates as from a plain call (what
:func:`taskdiff.study.transfer.run_transfer` uses).
"""

from __future__ import annotations

import logging
import os
import signal
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Sequence

from taskdiff.logs import quiet_libraries
from taskdiff.study.executors.base import Executor, Outcome, format_exception
from taskdiff.study.node import Job, execute_node

log = logging.getLogger(__name__)

__all__ = ["LocalExecutor", "worker_main"]


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent_pid:  # the parent died before prctl
        os._exit(1)


def worker_main(conn, payload: dict, device: str | None, parent_pid: int, job: Job = execute_node) -> None:
    """A worker's loop: receive ``("run", node)``, run ``job(payload, node)``, answer
    ``("ok", result)`` or ``("error", text, trace)``."""
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(device)
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the study process decides how to stop
    quiet_libraries()  # this process is ours: transformers' bars and notices off
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if not msg or msg[0] != "run":
            return
        try:
            result = job(payload, msg[1])
        except BaseException as exc:  # report every failure; the store wrote ERROR.json
            try:
                conn.send(("error", format_exception(exc), traceback.format_exc(limit=8)))
            except (OSError, BrokenPipeError):
                return
            if not isinstance(exc, Exception):
                raise
            continue
        try:
            conn.send(("ok", result))
        except (OSError, BrokenPipeError):
            return


@dataclass
class _Slot:
    process: object
    conn: object
    device: str | None
    node: object = None
    started: float = 0.0


class LocalExecutor(Executor):
    """``workers`` spawn processes on this machine; ``devices[i]`` sets worker i's
    ``CUDA_VISIBLE_DEVICES`` (see :class:`~taskdiff.study.executors.gpu_pool.GpuPoolExecutor`)."""

    name = "local"

    def __init__(self, workers: int = 1, devices: Sequence[str | None] | None = None, *, raise_errors: bool = False):
        if workers < 0:
            raise ValueError("workers must be >= 0")
        self.raise_errors = raise_errors
        self.devices = list(devices) if devices is not None else [None] * workers
        self.workers = len(self.devices)
        self.queue: deque = deque()
        self.slots: list[_Slot] = []

    def describe(self) -> str:
        if self.workers == 0:
            return f"{self.name} (in this process)"
        return f"{self.name} ({self.workers} worker process{'es' if self.workers != 1 else ''})"

    def start(self, payload: dict, job: Job = execute_node) -> None:
        import multiprocessing as mp

        super().start(payload, job)
        self._ctx = mp.get_context("spawn")
        os.environ.setdefault("TASKDIFF_WORKERS", str(max(1, self.workers)))  # workers share the cores: threads.py
        self.slots = [self._spawn(device) for device in self.devices]

    def _spawn(self, device: str | None) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=worker_main, args=(child, self.payload, device, os.getpid(), self.job),
                                 name="taskdiff-study-worker", daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent, device)

    def submit(self, nodes: Sequence, after: dict[str, str] | None = None) -> None:
        self.queue.extend(nodes)
        self._dispatch()

    def _dispatch(self) -> None:
        for i, slot in enumerate(self.slots):
            if slot.node is None and self.queue and not slot.process.is_alive():  # died while idle
                slot.process.join(timeout=1)
                slot.conn.close()
                log.warning("idle worker %s died (exit code %s); starting another", slot.process.pid,
                            slot.process.exitcode)
                self.slots[i] = slot = self._spawn(slot.device)
            if slot.node is None and self.queue:
                node = self.queue.popleft()
                slot.node, slot.started = node, time.perf_counter()
                try:
                    slot.conn.send(("run", node.to_dict()))
                except (OSError, BrokenPipeError):  # died while idle: its sentinel reports it
                    pass

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        if self.workers == 0:
            return self._wait_inline()
        from multiprocessing.connection import wait as mp_wait

        busy = [s for s in self.slots if s.node is not None]
        if not busy:
            return []
        handles = {}
        for s in busy:
            handles[s.conn] = ("msg", s)
            handles[s.process.sentinel] = ("died", s)
        ready = mp_wait(list(handles), timeout)
        ready.sort(key=lambda h: handles[h][0] != "msg")  # results before deaths
        outcomes = []
        for h in ready:
            what, slot = handles[h]
            if slot.node is None:
                continue
            node, elapsed = slot.node, time.perf_counter() - slot.started
            if what == "msg":
                try:
                    msg = slot.conn.recv()
                except (EOFError, OSError):
                    continue  # the sentinel reports the death
                slot.node = None
                if msg[0] == "ok":
                    outcomes.append(Outcome(node.run_id, True, hit=bool(msg[1].get("hit")),
                                            seconds=float(msg[1].get("seconds", elapsed)), where=msg[1].get("where", "")))
                else:
                    log.debug("node %s failed in worker %s:\n%s", node.run_id, slot.process.pid, msg[2])
                    outcomes.append(Outcome(node.run_id, False, error=msg[1], seconds=elapsed))
            else:
                slot.process.join(timeout=5)
                code = slot.process.exitcode
                error = f"worker process {slot.process.pid} died (exit code {code}) while running it"
                outcomes.append(Outcome(node.run_id, False, error=error, seconds=elapsed, worker_died=True))
                idx = self.slots.index(slot)
                slot.conn.close()
                self.slots[idx] = self._spawn(slot.device)
        self._dispatch()
        return outcomes

    def _wait_inline(self) -> list[Outcome]:
        if not self.queue:
            return []
        node = self.queue.popleft()
        start = time.perf_counter()
        try:
            result = self.job(self.payload, node.to_dict())
        except Exception as exc:  # noqa: BLE001 - reported as the node's failure
            if self.raise_errors:
                raise
            log.debug("node %s failed", node.run_id, exc_info=True)
            return [Outcome(node.run_id, False, error=format_exception(exc), seconds=time.perf_counter() - start)]
        return [Outcome(node.run_id, True, hit=bool(result["hit"]), seconds=result["seconds"], where=result["where"])]

    def close(self, cancel: bool = False) -> None:
        self.queue.clear()
        for slot in self.slots:
            try:
                if cancel or slot.node is not None:
                    slot.process.terminate()
                else:
                    slot.conn.send(("stop",))
            except (OSError, BrokenPipeError, ValueError):
                pass
        deadline = time.monotonic() + 10
        for slot in self.slots:
            slot.process.join(timeout=max(0.1, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
            slot.conn.close()
        self.slots = []
