"""The GPU pool: one local worker process per visible GPU, each pinned with CUDA_VISIBLE_DEVICES.

Visible GPUs are those listed in ``CUDA_VISIBLE_DEVICES`` when it is set (ids or UUIDs;
an empty value or ``-1`` means none), otherwise those ``nvidia-smi -L`` lists, otherwise
``torch.cuda.device_count()``. Worker ``i`` gets ``CUDA_VISIBLE_DEVICES=<gpu i>`` before it
imports torch, so each run sees exactly one GPU as ``cuda:0``. With no GPU the pool falls
back to the local executor and says so.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from taskdiff.study.executors.local import LocalExecutor

log = logging.getLogger(__name__)

__all__ = ["GpuPoolExecutor", "make_gpu_pool", "visible_gpus"]


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as values for ``CUDA_VISIBLE_DEVICES``."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        gpus = [str(i) for i, line in enumerate(l for l in out.splitlines() if l.startswith("GPU "))]
        if gpus:
            return gpus
    if "torch" in sys.modules or shutil.which("nvcc") or os.path.exists("/proc/driver/nvidia"):
        try:
            import torch

            return [str(i) for i in range(torch.cuda.device_count())]
        except Exception:  # noqa: BLE001 - no usable CUDA
            return []
    return []


class GpuPoolExecutor(LocalExecutor):
    """A :class:`LocalExecutor` with one worker per GPU."""

    name = "gpu-pool"

    def __init__(self, gpus: list[str]):
        super().__init__(devices=list(gpus))

    def describe(self) -> str:
        return f"gpu-pool ({self.workers} worker(s) on GPU {', '.join(str(d) for d in self.devices)})"


def make_gpu_pool(fallback_workers: int = 1, gpus: list[str] | None = None, stream=None) -> LocalExecutor:
    """A GPU pool over ``gpus`` (default: :func:`visible_gpus`), or the local executor when none."""
    gpus = visible_gpus() if gpus is None else gpus
    if gpus:
        return GpuPoolExecutor(gpus)
    msg = (f"gpu-pool: no GPU visible (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')!s}, "
           f"no GPU from nvidia-smi or torch); falling back to the local executor with {fallback_workers} worker(s)")
    log.warning(msg)
    print(f"taskdiff: {msg}", file=stream or sys.stderr, flush=True)
    return LocalExecutor(fallback_workers)
