#!/usr/bin/env bash
# The GPU check (issue 17): run whenever a GPU machine is lent to this work; about 10 minutes.
#
#   benchmarks/gpu_check.sh [OUT_DIR]        # default gpu-check-results/
#   PY=python DATA_DIR=/path/to/shared/data MODEL=e5-small-offline benchmarks/gpu_check.sh
#
# Needs a CUDA build of torch in $PY's environment (the CPU wheel of .venv will not do) and
# taskdiff installed in it. Without DATA_DIR the benchmarks use the project-made fixture data
# and the tiny model (their speed ratios then mean little; they prove the CUDA code paths).
# Steps, each with its own time limit so that the whole stays under ~10 minutes:
#   1. the tests that need CUDA (tests/test_cuda.py) and the evaluation-batching tests;
#   2. train_throughput on CUDA: ours vs the plain Trainer vs the tuned Trainer (bf16,
#      dynamic padding, group_by_length), every format;
#   3. hardware_limit: a bf16 training step against the GPU's measured bf16 matmul peak;
#   4. a tiny study through the gpu-pool executor with two workers on one GPU
#      (CUDA_VISIBLE_DEVICES=0,0), then its status;
# and writes everything (logs, JSON, nvidia-smi, a summary) into OUT_DIR. Exit status: the
# number of failed steps (0: all passed).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu-check-results}
PY=${PY:-.venv/bin/python}
MODEL=${MODEL:-}
DATA_DIR=${DATA_DIR:-}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
failed=0
started=$(date +%s)

step() {  # step NAME LIMIT_S COMMAND...: run with a time limit, log to OUT/NAME.log, record the outcome
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  echo "== $name (limit ${limit}s): $*" | tee -a "$OUT/summary.txt"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "   rc=$rc in $(( $(date +%s) - t0 ))s" | tee -a "$OUT/summary.txt"
  [ $rc -eq 0 ] || failed=$((failed + 1))
  tail -n 5 "$OUT/$name.log" | sed 's/^/   | /'
}

{ date -u +"%Y-%m-%dT%H:%M:%SZ"; hostname; nvidia-smi 2>&1 || echo "nvidia-smi: not found"; } > "$OUT/machine.txt"
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_check: torch in $PY sees no CUDA GPU; nothing to check" | tee "$OUT/summary.txt"
  exit 2
fi
"$PY" -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0), \
  'bf16' if torch.cuda.is_bf16_supported() else 'no bf16')" >> "$OUT/machine.txt"
common=()
[ -n "$MODEL" ] && common+=(--model "$MODEL")
[ -n "$DATA_DIR" ] && common+=(--data-dir "$DATA_DIR")

# 1. tests that need CUDA
step cuda_tests 150 "$PY" -m pytest -q --durations=10 tests/test_cuda.py tests/transfer/test_evaluation_batches.py
# 2. ours vs plain Trainer vs tuned Trainer on CUDA, every format (2 seeds; ablations skipped for time)
step train_throughput 240 "$PY" -m benchmarks.train_throughput "${common[@]}" --no-ablations \
  --train-examples 512 --out "$OUT/train_throughput.json"
# 3. the training step against the GPU's measured matmul peak
step hardware_limit 90 "$PY" -m benchmarks.hardware_limit "${common[@]}" --out "$OUT/hardware_limit.json"
# 4. a tiny study through the gpu-pool executor: two workers on one GPU
"$PY" - "$OUT" <<'PYEOF'
import sys, pathlib
from taskdiff.testing.fixtures import make_fixture_data_dir
out = pathlib.Path(sys.argv[1]).resolve()
make_fixture_data_dir(out / "study-data", n_train=64, n_eval=16, languages=("en", "de", "es"))
(out / "study.yaml").write_text("""name: gpu-check
models: [tiny]
intermediates: [snli, ud_en_pos]
targets: [xnli, udpos]
languages: [de, es]
seeds: [1, 2]
max_examples: 64
measures: [size, baseline_loss]
executor: {kind: gpu-pool, workers: 2}
""")
PYEOF
CUDA_VISIBLE_DEVICES=0,0 step gpu_pool_study 150 "$PY" -m taskdiff.cli study "$OUT/study.yaml" \
  --data-dir "$OUT/study-data" --out "$OUT/study" --store "$OUT/study-store"
step gpu_pool_status 30 "$PY" -m taskdiff.cli status "$OUT/study"

echo "gpu_check: $failed step(s) failed; $(( $(date +%s) - started )) s in all; results in $OUT" | tee -a "$OUT/summary.txt"
exit $failed
