"""Checks that need a CUDA GPU (skipped without one; run by ``benchmarks/gpu_check.sh``).

Precision on a GPU, a tiny transfer run placed on the GPU, and evaluation on the GPU agreeing
with the CPU. None of these has run yet: no GPU was lent to this work (docs/performance.md).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_auto_precision_on_gpu_is_bf16_or_fp16():
    from taskdiff.transfer.precision import resolve_precision

    want = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    assert resolve_precision("auto") == want


def test_tiny_transfer_trains_on_the_gpu(tmp_path):
    from taskdiff.testing.fixtures import make_fixture_data_dir
    from taskdiff.transfer.phases import Workspace
    from taskdiff.study.transfer import TransferRequest, run_transfer
    from taskdiff.transfer.store import RunStore

    data = make_fixture_data_dir(tmp_path / "data", n_train=32, n_eval=8, languages=("en", "de"))
    req = TransferRequest(model="tiny", intermediates=["snli"], targets=["xnli"], languages=["de"], seeds=[1])
    gains = run_transfer(req, Workspace(RunStore(tmp_path / "store"), data, max_examples=32, progress=False),
                         tmp_path / "out")
    assert len(gains) > 0 and gains["gain"].notna().all()
    assert torch.cuda.max_memory_allocated() > 0  # the runs used the GPU


def test_gpu_evaluation_matches_cpu(tmp_path):
    from taskdiff.testing.fixtures import make_fixture_data_dir
    from taskdiff.transfer.data import load_role
    from taskdiff.transfer.evaluation import predict
    from taskdiff.transfer.formats import get_format
    from taskdiff.transfer.models import build_model, load_tokenizer, resolve_model
    from taskdiff.transfer.tasks import get_task

    data = make_fixture_data_dir(tmp_path / "data", n_train=16, n_eval=24, languages=("en",))
    task = get_task("snli")
    rows = load_role(task, "selection", "en", data).rows
    path = resolve_model("tiny", tmp_path / "home")
    fmt, tok = get_format("pair_classification"), load_tokenizer(path)
    torch.manual_seed(0)
    model = build_model(fmt, path, list(task.labels)).eval()
    cpu = predict(model, tok, fmt, rows, list(task.labels), 128, precision="fp32")
    gpu = predict(model.to("cuda"), tok, fmt, rows, list(task.labels), 128, precision="fp32")
    assert sum(a == b for a, b in zip(cpu, gpu)) >= len(rows) - 1  # fp32 on both: at most a tie flips
