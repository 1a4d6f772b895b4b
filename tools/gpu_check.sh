#!/usr/bin/env bash
# ./dev gpu-check [--dry-run] [OUT]: run every CUDA path of matloss once on a GPU machine and keep
# what it measured in OUT (default gpu-check-out/), laid out like results/:
#   OUT/summary.txt                 one line per step: exit status and seconds
#   OUT/tests/conformance.log, junit.xml   conformance (every loss, torch and jax, eager and
#                                   compiled, float32 and float64) on cuda, and the TF32 check
#   OUT/<machine>/*.json, OUT/benchmarks.json   asv results of the GPU subset + GPU peak memory
#   OUT/findings/findings.csv       matloss findings on cuda
# --dry-run does the same on the CPU with a small subset (every step's mechanics, minutes).
# Uses $PYTHON (default .venv/bin/python if present, else python3): on a machine without the
# venv, put the wheels of tools/gpu_wheels.sh on PYTHONPATH first (docs/speed.md, GPU section).
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; shift; fi
OUT=${1:-gpu-check-out}
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
mkdir -p "$OUT/tests" "$OUT/findings"
OUT=$(cd "$OUT" && pwd)
: > "$OUT/summary.txt"
export PYTHONUNBUFFERED=1

# the three steps' limits add up to 8 minutes on the GPU machine; the dry run on a small CPU
# machine gets three times as long
SCALE=1
[ $DRY = 1 ] && SCALE=3
step() {  # step NAME TIMEOUT_S CMD...: run, log to OUT/NAME.log, record exit status and time
  local name=$1 limit=$(( $2 * SCALE )); shift 2
  local t0=$SECONDS
  echo "[gpu-check] $name ..."
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "$name: exit $rc in $((SECONDS - t0)) s" | tee -a "$OUT/summary.txt"
}

if [ $DRY = 1 ]; then
  DEVICE=cpu; LOSSES="frobenius|logdet"; SHAPES="128"; K="frobenius or logdet or tf32"
else
  DEVICE=cuda; LOSSES="[^']*"; SHAPES="128|512|256x8"; K="torch or jax or tf32"
fi
"$PY" -c "import torch, jax; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), '| jax', jax.__version__, jax.devices())" \
  | tee "$OUT/versions.txt"

# 1. conformance on the device, against the exact backend (tensorflow: no tensorflow there, it skips)
step conformance 180 env MATLOSS_TEST_DEVICE=$DEVICE "$PY" -m pytest -q -p no:cacheprovider -p no:xdist \
  tests/test_conformance.py tests/test_tf32.py -k "$K" -rs --junitxml="$OUT/tests/junit.xml"

# 2. the asv GPU subset (torch and jax, eager and compiled, both dtypes, forward and fwd+bwd) and
#    the GPU peak-memory tracks, spawned processes, under the machine name asv_run gives (it
#    carries the GPU model)
BENCH="bench_speed\.(Forward\.time_forward|Backward\.time_backward)\('($LOSSES)', '(torch|jax)', '$DEVICE', '[^']*', '($SHAPES)', '[^']*'\)"
MEM="bench_speed\.GpuMemory"
[ $DRY = 1 ] && MEM="bench_speed\.GpuMemory\.track_gpu_peakmem_backward\('frobenius'"
step asv 180 "$PY" -m matloss bench HEAD -b "$BENCH" -b "$MEM" --launch-method spawn
"$PY" - "$OUT" <<'PY'
import json, pathlib, shutil, sys
out = pathlib.Path(sys.argv[1])
res = pathlib.Path("results")
shutil.copy(res / "benchmarks.json", out / "benchmarks.json")
from matloss.asv_run import machine_name
m = machine_name()
(out / m).mkdir(exist_ok=True)
for p in (res / m).glob("*.json"):
    shutil.copy(p, out / m / p.name)
print("asv machine:", m, "files:", len(list((out / m).glob("*.json"))))
PY
if [ $DRY = 1 ]; then  # a dry run leaves the checkout's results/ as it was (its copy is in OUT)
  M=$("$PY" -c "from matloss.asv_run import machine_name; print(machine_name())")
  git checkout -q -- results/benchmarks.json "results/$M" 2>/dev/null
  git clean -fdq -- "results/$M" 2>/dev/null
fi

# 3. the findings on the device
if [ $DRY = 1 ]; then FARGS="--loss frobenius -n 2"; else FARGS=""; fi
step findings 120 "$PY" -m matloss findings --device $DEVICE --framework torch,jax $FARGS --out "$OUT/findings/findings.csv"
echo "[gpu-check] done: $OUT"
cat "$OUT/summary.txt"
