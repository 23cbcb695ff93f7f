#!/usr/bin/env bash
# The GPU checks, prepared to run once on a CUDA machine (bench/README.md):
#
#   bash bench/gpu_check.sh            # from the repository root, in the course's venv
#
# 1. unit tests of fit and device;          -> bench/results/gpu_tests.txt
# 2. fit's GPU path (bench/gpu_smoke.py);   -> bench/results/gpu_smoke.md
# 3. the training-loop benchmark on CUDA;   -> bench/results/loop_benchmark_gpu.{csv,md}
# 4. Chapter 12 on the GPU: peak, achieved FLOP/s, bf16, time to target, and the DDP job
#    with nccl on min(2, GPUs) processes;   -> bench/results/scaling_gpu.md, ddp_gpu.json
# 5. every chapter at GPU-sized parameters; -> bench/results/notebook_budget_gpu.{csv,md}
#
# Steps run cheapest first and each writes its results as soon as it ends, so
# a run cut short still leaves what it measured. A failing step does not stop
# the next one; the exit status is 1 if any step failed. Environment:
#   GPU_BUDGET  the chapters' BUDGET parameter (default 4)
#   REPEATS     benchmark repeats (default 3)
#   OUT         if set, results are copied there too
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS=bench/results
GPU_BUDGET=${GPU_BUDGET:-4}
REPEATS=${REPEATS:-3}
export HELPERS_PROGRESS=0 MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1
mkdir -p "$RESULTS"
failed=0
step() {  # step NAME COMMAND...: run, time and log one step
    local name=$1; shift
    local start=$SECONDS
    echo "== $name: $*"
    "$@" || { echo "== $name FAILED"; failed=1; }
    echo "== $name took $((SECONDS - start)) s"
}

python - <<'PY' || exit 2
import torch
if not torch.cuda.is_available():
    raise SystemExit("no CUDA GPU visible to torch: this script checks the GPU path only")
print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__, "| bf16:", torch.cuda.is_bf16_supported())
PY
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true

step "unit tests" bash -c "python -m pytest -p no:cacheprovider -q tests/test_train.py tests/test_device.py 2>&1 | tee $RESULTS/gpu_tests.txt"
step "GPU path" python -m bench.gpu_smoke
step "loop benchmark" python -m bench --device cuda --repeats "$REPEATS" --name loop_benchmark_gpu
step "chapter 12 scaling" python -m bench.gpu_smoke --scaling
ddp_gpu() {  # the chapter's DDP job with nccl; its numbers are appended to scaling_gpu.md
    local n work
    n=$(python -c "import torch; print(min(2, torch.cuda.device_count()))")
    work=$(mktemp -d)
    python -c "
import torch
from helpers.data import load
X, y = load('digits', seed=0).standardized().tensors('train')
n = len(X) // 2 * 2
torch.save({'X': X[:n].clone(), 'y': y[:n].clone()}, '$work/data.pt')" || return 1
    OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node="$n" -m helpers.distributed --device cuda \
        --data "$work/data.pt" --out "$work/out" --widths 256 1024 4096 8192 --speed-batch-size 2048 || return 1
    cp "$work/out/results.json" "$RESULTS/ddp_gpu.json"
    python - "$work/out/results.json" "$n" >> "$RESULTS/scaling_gpu.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"\n## DDP with nccl on {sys.argv[2]} GPU process(es), per-process batch 2048\n")
print("| width | parameters | ms per step | all_reduce ms |")
print("|---|---|---|---|")
for row in r["speed"]:
    print(f"| {row['width']} | {row['parameters']:,} | {1000 * row['step seconds']:.2f} | {1000 * row['all_reduce seconds']:.3f} |")
PY
}
step "chapter 12 DDP (nccl)" ddp_gpu
step "notebooks" python -m bench.budget -p BUDGET="$GPU_BUDGET" --name notebook_budget_gpu

if [ -n "${OUT:-}" ]; then
    cp "$RESULTS"/gpu_* "$RESULTS"/*_gpu.* "$OUT"/ 2>/dev/null || true
fi
exit $failed
