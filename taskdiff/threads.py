"""How many CPU threads a run uses: chosen by the machine's load, applied once, recorded.

Why a module of its own: two OpenMP threads on a 2-core machine that other processes also
use spend their time spinning at barriers while their partner waits to be scheduled. On
the development machine (2 cores) a tiny-model training step went from 0.02 s to 2.5 s, an
MLM step of the testbed encoder from 0.24 s (one thread) to 2.0 s (two), and a UD-POS
intermediate run of a real study from 94 s to 670 s with other jobs running (issue 17). One
thread on a busy machine degrades gracefully (it gets its share of a core); two collapse.

The rule (the benchmarks' since 2026-11-25, ``benchmarks/_common.py``):

* an explicit count wins: the ``requested`` argument, else ``$TASKDIFF_THREADS``;
* otherwise (``auto``) all usable cores (``sched_getaffinity``), divided among the
  ``workers`` processes that share them, **unless** the 1-minute load average says other
  processes are busy (``load >= cores - 0.5``): then one thread;
* an explicit count above one on a busy machine is kept, with a warning.

:func:`configure_threads` chooses, applies (PyTorch's intra-op pool and the BLAS pools of
numpy / scikit-learn through threadpoolctl) and remembers the choice; :func:`ensure_threads`
does so once per process (the hook where runs start: :class:`~taskdiff.transfer.phases.Workspace`
and :func:`~taskdiff.difficulty.api.profile_task`); :func:`recorded` is the record written
into every run's ``config.json`` (``host.threads``, via :func:`taskdiff.provenance.host_info`).
Nothing here imports torch at import time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from taskdiff.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["ThreadChoice", "choose_threads", "configure_threads", "ensure_threads", "recorded", "usable_cores"]

#: Environment variable that fixes the count (a number, or ``auto``).
ENV = "TASKDIFF_THREADS"
_STATE: dict = {"choice": None, "limits": []}


@dataclass(frozen=True)
class ThreadChoice:
    """A thread count and why it was chosen."""

    threads: int
    reason: str
    cores: int
    load: float | None
    source: str  # "argument", "environment" or "auto"
    busy: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def usable_cores() -> int:
    """CPUs this process may run on (the affinity mask; ``os.cpu_count()`` elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def load_average() -> float | None:
    """The 1-minute load average, or None where the platform has none."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return None


def choose_threads(requested: int | str | None = None, *, workers: int | None = None, cores: int | None = None,
                   load: float | None = None, env: dict | None = None) -> ThreadChoice:
    """The thread count for one process of ``workers`` sharing this machine (see the module doc).

    ``workers`` defaults to ``$TASKDIFF_WORKERS`` (set by the local study executor for its
    worker processes) or 1; ``cores`` and ``load`` to this machine's (tests pass fakes); ``env``
    to ``os.environ``.
    """
    env = os.environ if env is None else env
    if workers is None:
        workers = int(env.get("TASKDIFF_WORKERS", "1") or 1)
    cores = usable_cores() if cores is None else max(1, int(cores))
    load = load_average() if load is None else float(load)
    busy = load is not None and load >= cores - 0.5
    source = "argument"
    if requested in (None, "", "auto"):
        requested, source = env.get(ENV, "auto") or "auto", "environment"
    if str(requested).strip().lower() != "auto":
        try:
            n = int(requested)
        except ValueError:

            raise ConfigError(f"thread count: expected a positive number or 'auto', found {requested!r} "
                              f"({'$' + ENV if source == 'environment' else 'argument'})") from None
        if n < 1:

            raise ConfigError(f"thread count: expected a positive number or 'auto', found {n}")
        reason = f"{n} thread(s) as requested ({'$' + ENV if source == 'environment' else 'argument'})"
        if n > 1 and busy:
            reason += (f"; warning: 1-minute load average {load:.1f} on {cores} cores, so {n} OpenMP threads "
                       "may stall each other (one thread degrades gracefully)")
        return ThreadChoice(n, reason, cores, load, source, busy)
    share = max(1, cores // max(1, int(workers)))
    if busy:
        return ThreadChoice(1, f"1-minute load average {load:.1f} on {cores} cores: other processes are busy, so 1 "
                               "thread (oversubscribed OpenMP threads stall each other)", cores, load, "auto", True)
    per = f" shared by {workers} worker processes" if workers > 1 else ""
    load_text = "unknown" if load is None else f"{load:.1f}"
    return ThreadChoice(share, f"load average {load_text} on {cores} cores{per}: {share} thread(s)", cores, load,
                        "auto", False)


def apply_threads(n: int) -> None:
    """Set PyTorch's intra-op pool and the BLAS pools (numpy, scikit-learn) to ``n`` threads."""
    import torch

    torch.set_num_threads(int(n))
    try:
        from threadpoolctl import threadpool_limits

        _STATE["limits"].append(threadpool_limits(limits=int(n)))  # kept alive: the limit lasts
    except Exception:  # noqa: BLE001 - threadpoolctl missing or no BLAS pool: torch alone
        pass


def configure_threads(requested: int | str | None = None, *, workers: int | None = None, context: str = "") -> ThreadChoice:
    """Choose (:func:`choose_threads`), apply and remember the count; warn when the machine is busy."""
    choice = choose_threads(requested, workers=workers)
    apply_threads(choice.threads)
    _STATE["choice"] = choice
    if choice.busy and choice.threads > 1:
        log.warning("%s%s", f"{context}: " if context else "", choice.reason)
    elif choice.busy:
        log.info("%s%s", f"{context}: " if context else "", choice.reason)
    return choice


def ensure_threads(context: str = "") -> ThreadChoice:
    """:func:`configure_threads` once per process (later calls return the first choice)."""
    if _STATE["choice"] is None:
        configure_threads(context=context)
    return _STATE["choice"]


def recorded() -> dict | None:
    """The choice made in this process (for provenance), or None if none was made."""
    choice = _STATE["choice"]
    if choice is None:
        return None
    return dict(choice.as_dict(), torch_threads=_torch_threads())


def _torch_threads() -> int | None:
    import sys

    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def reset() -> None:
    """Forget the choice (tests)."""
    _STATE["choice"] = None
