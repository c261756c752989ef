#!/usr/bin/env bash
# minit5's one device check (`make gpu-check`): on a machine with one NVIDIA GPU, CuPy, and for
# the benchmark PyTorch + transformers, in under 8 minutes (budget GPU_CHECK_BUDGET seconds,
# default 460). Run from the project root:
#
#     OUT=/some/dir bash benchmarks/gpu_check.sh      # OUT defaults to benchmarks/gpu_results
#
# Steps, each with its own timeout inside the budget (a step that would not fit is skipped and
# says so), each writing its output to $OUT/<step>.txt (and JSON where it has numbers):
#   env      nvidia-smi, versions, backend.gpu_available() and why not
#   pytest   every test marked `gpu` (kernels and their edges, the host-transfer test, dropout
#            on the device, golden logits on the GPU, backend, optimizer, T5, the world
#            benchmark's --device gpu path at smoke sizes)                  pytest_gpu.xml
#   lab      benchmarks/kernels_lab.py at t5-small: each kernel's outputs checked one by one
#            against the composed ops, then timed                               kernels_lab.json
#   bench    benchmarks/bench_train.py --device gpu at t5-small (batch 64 x 512 -> 114) vs
#            PyTorch eager: step ratio, MFU from the step's matmul FLOPs, peak memory
#                                                                               bench_train.json
#   train    benchmarks/gpu_train.py: 2 minutes of pre-training through the Trainer, the loss
#            must fall                                       train_summary.json, train_log.jsonl
# $OUT/summary.txt gets one line per step and the key results. Choose steps with
# STEPS="pytest lab". Exit status: 0 when every step that ran passed.
set -u
START=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET:-460}
OUT=${OUT:-$PWD/benchmarks/gpu_results}
PY=${PYTHON:-python3}
STEPS=${STEPS:-"env pytest lab bench train"}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg TOKENIZERS_PARALLELISM=false
unset MINIT5_KERNELS MINIT5_DEVICE MINIT5_TF32 CUPY_TF32
FAILED=0

elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( BUDGET - $(elapsed) )); }
want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
note() { echo "$*" | tee -a "$SUMMARY"; }

# run_step NAME CAP NEED CMD...: CMD under timeout min(CAP, budget left) if NEED s remain
run_step() {
    local name=$1 cap=$2 need=$3
    shift 3
    want "$name" || return 0
    local l t s rc verdict
    l=$(left)
    if (( l < need )); then note "$name: SKIPPED (${l}s of the budget left, needs ${need}s)"; return 0; fi
    t=$(( cap < l ? cap : l ))
    echo "=== $name: timeout ${t}s, at +$(elapsed)s ==="
    s=$(date +%s)
    timeout -k 10 "$t" "$@" > "$OUT/$name.txt" 2>&1
    rc=$?
    if (( rc == 0 )); then verdict=OK; elif (( rc == 124 || rc == 137 )); then verdict=TIMEOUT
    else verdict="FAIL(rc=$rc)"; fi
    (( rc == 0 )) || FAILED=1
    note "$name: $verdict in $(( $(date +%s) - s ))s (limit ${t}s) -> $name.txt"
}

# The card's float32 (non-tensor-core) peak in TFLOP/s, for MFU.
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
case "$GPU_NAME" in
    *H100*PCIe*) PEAK=51.2 ;; *H100*NVL*) PEAK=60 ;; *H100*|*H200*) PEAK=66.9 ;;
    *A100*) PEAK=19.5 ;; *) PEAK=67 ;;
esac

env_step() {
    nvidia-smi
    echo "GPU: $GPU_NAME; float32 peak used for MFU: $PEAK TFLOP/s"
    "$PY" - <<'PY'
import importlib, platform, sys
print("python", sys.version.split()[0], platform.platform())
for name in ("numpy", "cupy", "torch", "transformers", "pytest", "hypothesis"):
    try:
        print(f"{name:13s}", getattr(importlib.import_module(name), "__version__", "?"))
    except Exception as error:
        print(f"{name:13s} MISSING ({type(error).__name__}: {error})")
from minit5 import backend
ok = backend.gpu_available()
print("minit5 backend.gpu_available():", ok, "" if ok else backend._why_no_gpu())
sys.exit(0 if ok else 1)
PY
}
export PY PEAK GPU_NAME
export -f env_step
run_step env 40 10 bash -c env_step

run_step pytest 150 60 "$PY" -m pytest -m gpu -p no:cacheprovider -q -ra --durations=10 \
    --junitxml="$OUT/pytest_gpu.xml" tests/kernels tests/test_backend.py \
    tests/test_functional_dropout.py tests/optim tests/t5 tests/golden \
    tests/experiments/test_world_gates.py
run_step lab 70 40 "$PY" benchmarks/kernels_lab.py --models t5-small --repeats 20 \
    --out "$OUT/kernels_lab.json"
run_step bench 90 50 "$PY" benchmarks/bench_train.py --device gpu --shape t5-small --batch 64 \
    --repeats 10 --peak-tflops "$PEAK" --json "$OUT/bench_train.json"
if want train; then
    l=$(left)
    secs=$(( l - 50 < 120 ? l - 50 : 120 ))
    if (( secs < 30 )); then
        note "train: SKIPPED (${l}s of the budget left)"
    else
        run_step train $(( secs + 50 )) $(( secs + 30 )) "$PY" benchmarks/gpu_train.py \
            --seconds "$secs" --batch 32 --out "$OUT"
    fi
fi

{
    echo
    echo "---- key lines ($(elapsed)s of ${BUDGET}s; $(date -u +%Y-%m-%dT%H:%MZ); $GPU_NAME) ----"
    grep -h "gpu_available" "$OUT/env.txt" 2>/dev/null
    tail -n 1 "$OUT/pytest.txt" 2>/dev/null
    grep -h "^FAILED\|^ERROR" "$OUT/pytest.txt" 2>/dev/null | head -20
    grep -h "x$\|!\|worst" "$OUT/lab.txt" 2>/dev/null | head -30
    grep -h "train step\|forward\|MFU\|peak memory" "$OUT/bench.txt" 2>/dev/null
    grep -h "LOSS\|RESULT\|PROBE\|steps/s" "$OUT/train.txt" 2>/dev/null
} >> "$SUMMARY"
cat "$SUMMARY"
exit $FAILED
