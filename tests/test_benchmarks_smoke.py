"""Every benchmark's ``--smoke`` path runs (tiny model, project-made data) and writes its ratios."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # ``benchmarks`` is a top-level folder, not part of the package
    sys.path.insert(0, str(REPO))

EXPECTED = {
    "train_throughput": {"examples_per_s_speedup", "real_tokens_per_s_speedup", "step_examples_per_s_speedup",
                         "padded_tokens_reduction", "dev_accuracy_difference"},
    "probe_cache": {"end_to_end_speedup", "encode_speedup", "forward_batches_ratio"},
    "cartography_overhead": {"overhead", "wall_overhead", "steps_overhead"},
    "profile_vs_transfer": {"profile_over_transfer", "profile_over_transfer[snli:xnli]",
                            "profile_over_transfer[snli:udpos]", "profile_over_transfer_cpu[snli:xnli]",
                            "profile_over_transfer_wall[snli:udpos]", "shared_measures_over_transfer[snli:xnli]"},
    "hardware_limit": {"bf16_peak_over_fp32_peak"},
}
MACHINE = {"cpu_model", "logical_cores", "torch", "transformers", "cpu_bf16_native", "precision_auto"}


def _run(name: str, tmp_path: Path, *extra: str) -> dict:
    import importlib

    out = tmp_path / f"{name}.json"
    payload = importlib.import_module(f"benchmarks.{name}").main(
        ["--smoke", "--quiet", "--out", str(out), "--work-dir", str(tmp_path / "work"), *extra])
    assert out.exists()
    on_disk = json.loads(out.read_text())
    assert on_disk["benchmark"] == name and on_disk["smoke"] is True
    assert on_disk["command"].startswith(f"python -m benchmarks.{name}") and "--smoke" in on_disk["command"]
    assert MACHINE <= set(on_disk["machine"])
    assert payload["ratios"] == on_disk["ratios"]
    return on_disk


def _check(result: dict, name: str) -> None:
    assert result["status"] == "ok", result.get("skip_reason")
    assert EXPECTED[name] <= set(result["ratios"]), sorted(result["ratios"])
    for key in EXPECTED[name] - {"dev_accuracy_difference"}:
        value = result["ratios"][key]
        assert value is not None and value == value, f"{key} is {value}"
    for t in result["targets"].values():
        assert {"ratio", "value", "op", "target", "met"} <= set(t)
    assert result["table"]


@pytest.mark.parametrize("name", ["train_throughput", "probe_cache", "cartography_overhead", "hardware_limit"])
def test_smoke(name, tmp_path):
    result = _run(name, tmp_path)
    _check(result, name)
    if name == "train_throughput":
        assert result["ratios"]["padded_tokens_reduction"] > 1  # dynamic padding pads less than max_length
        assert {"plain", "ours", "tuned"} <= {m["key"] for m in result["measurements"]}
        # every format with fixture data, the same three configurations each (regression: no fixture data)
        assert {"pair_classification", "tagging", "extractive_qa", "multiple_choice"} <= set(result["formats"])
        for fmt in result["formats"]:
            assert {(m["fmt"], k) for m in result["measurements"] for k in [m["key"]]} >= {
                (fmt, "plain"), (fmt, "ours"), (fmt, "tuned")}
            assert result["ratios"][f"examples_per_s_speedup_vs_tuned[{fmt}]"] > 0
    if name == "probe_cache":
        assert result["ratios"]["forward_batches_ratio"] > 1
        assert result["agreement"]["missing_cells"] == 0
    if name == "cartography_overhead":
        assert result["every_example_recorded"] is True
    if name == "hardware_limit":
        assert any(k.endswith("_step_fraction_of_fp32_peak") or "_step_fraction_of_" in k for k in result["ratios"])


def test_profile_vs_transfer_smoke(tmp_path):
    pytest.importorskip("taskdiff.difficulty.api", reason="the difficulty API is not in this checkout yet")
    from taskdiff.difficulty.api import DEFAULT_MEASURES

    result = _run("profile_vs_transfer", tmp_path)
    _check(result, "profile_vs_transfer")
    assert set(result["workloads"]) == {"snli:xnli", "snli:udpos"}
    assert set(result["targets"]) == {"profile_over_transfer[snli:xnli]", "profile_over_transfer[snli:udpos]"}
    for name, w in result["workloads"].items():
        for key in ("ratio", "ratio_wall", "ratio_cpu"):
            assert w[key] > 0, (name, key)
        # the default measures, embedding scoped to this workload's target
        assert set(w["profile"]["per_measure_seconds"]) == set(DEFAULT_MEASURES)
        assert all(v > 0 for v in w["profile"]["per_measure_cpu_seconds"].values())
        assert result["profile"]["embedding"][name]["params"]["targets"] == [w["target"]]
        phases = w["transfer"]["phases"]
        assert all(phases[p]["seconds"] > 0 and phases[p]["cpu_seconds"] > 0
                   for p in ("intermediate", "target", "evaluation"))
        # every language of the target with (fixture) data is evaluated
        assert set(w["languages"]) == set(phases["evaluation"]["per_language"]) and "de" in w["languages"]
        assert w["profile"]["seconds"] == pytest.approx(sum(w["profile"]["per_measure_seconds"].values()))
    assert result["workloads"]["snli:xnli"]["transfer"]["intermediate_shared_with"] == ["snli:udpos"]
    assert result["profile"]["unscoped_embedding"] is None
    assert result["profile"]["per_measure_seconds"]["snli"]
    assert any(r["what"].startswith("= profile for snli:udpos") for r in result["table"])


def test_run_all_smoke_subset(tmp_path):
    from benchmarks import run_all

    summary = run_all.main(["--smoke", "--quiet", "--only", "cartography_overhead", "--out-dir", str(tmp_path)])
    assert summary["benchmarks"]["cartography_overhead"]["status"] == "ok"
    assert (tmp_path / "cartography_overhead.json").exists() and (tmp_path / "summary.json").exists()
    assert "overhead" in (tmp_path / "summary.md").read_text()
