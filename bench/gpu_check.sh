#!/usr/bin/env bash
# The GPU checks, prepared to run once on a CUDA machine (bench/README.md):
#
#   bash bench/gpu_check.sh            # from the repository root, in the course's venv
#
# 1. unit tests of fit and device;          -> bench/results/gpu_tests.txt
# 2. fit's GPU path (bench/gpu_smoke.py);   -> bench/results/gpu_smoke.md
# 3. the training-loop benchmark on CUDA;   -> bench/results/loop_benchmark_gpu.{csv,md}
# 4. every chapter at GPU-sized parameters; -> bench/results/notebook_budget_gpu.{csv,md}
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
step "notebooks" python -m bench.budget -p BUDGET="$GPU_BUDGET" --name notebook_budget_gpu

if [ -n "${OUT:-}" ]; then
    cp "$RESULTS"/gpu_* "$RESULTS"/*_gpu.* "$OUT"/ 2>/dev/null || true
fi
exit $failed
