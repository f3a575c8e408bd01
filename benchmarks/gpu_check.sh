#!/usr/bin/env bash
# The GPU check: on a machine with one CUDA GPU, from a fresh clone, in at most 8 minutes:
# set up, the training benchmark (the book's pipeline vs ours, 28x28 and 96x96), the
# reference solutions graded on the GPU tier (timed), and the GPU tier's calibration
# (3 seeds, untrained and head-only controls, the design spaces for as long as the budget
# allows), all as JSON under benchmarks/results/ named after the GPU, then what changed
# against autograder/calibration.json. Each step runs under its own time budget; a step
# that overruns is stopped and recorded, and the next one runs.
#
#   bash benchmarks/gpu_check.sh [--dry-run] [--skip-setup]
#
# --dry-run lists the steps, their commands and budgets, and runs nothing. --skip-setup
# uses the .venv already there. Fashion-MNIST: $REGNETLAB_DATA, else the cache (downloaded
# there if the machine is online). Nothing is written to autograder/calibration.json: to
# adopt the measured GPU thresholds, run the --apply command printed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

usage="usage: bash benchmarks/gpu_check.sh [--dry-run] [--skip-setup]"
DRY=0 SETUP=1
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=1 ;;
    --skip-setup) SETUP=0 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; echo "$usage"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$arg'; expected --dry-run, --skip-setup or --help" >&2
       exit 2 ;;
  esac
done

PY=.venv/bin/python
RESULTS=benchmarks/results
SEEDS="0 1 2"
# budgets in seconds (8 minutes in all); the H200 figures they come from are in
# autograder/CALIBRATION.md and README.md ("The GPU check")
B_SETUP=60 B_PREFLIGHT=20 B_BENCH=75 B_GRADE=150 B_CALIBRATE=160 B_COMPARE=15
CAL_BUDGET=$((B_CALIBRATE - 40))   # each calibration process starts no design after this

NAME="<device>"   # the GPU's name as a file name, known after the preflight
cmd_setup() { echo "bash scripts/setup.sh"; }
cmd_preflight() { echo "$PY -c 'torch.cuda.is_available(); torch.cuda.get_device_name(0); Fashion-MNIST found'"; }
cmd_bench() { echo "$PY benchmarks/bench_train.py --device cuda --epochs 3 --target 0.87 --steps-96 100 --json $RESULTS/gpu-$NAME-bench.json"; }
cmd_grade() { echo "$PY -m regnetlab grade solutions --tier gpu --device cuda --json $RESULTS/gpu-$NAME-grade.json"; }
cmd_calibrate() { echo "$PY benchmarks/calibrate_thresholds.py --tier gpu --device cuda --runs-only --keys KEY --seeds SEED --budget-s $CAL_BUDGET --cache $RESULTS/gpu-$NAME-runs/KEY-SEED.jsonl  (one process per key and seed, side by side)"; }
cmd_compare() { echo "$PY benchmarks/calibrate_thresholds.py --tier gpu --cached-only --cache $RESULTS/gpu-$NAME-runs.jsonl --out $RESULTS/gpu-$NAME-calibration.json --compare autograder/calibration.json"; }

STEPS="setup preflight bench grade calibrate compare"
budget_of() { local v="B_${1^^}"; echo "${!v}"; }

if [ "$DRY" = 1 ]; then
  echo "gpu_check.sh --dry-run: the steps, their commands and time budgets (nothing run)"
  total=0 i=0
  for s in $STEPS; do
    i=$((i + 1)); b=$(budget_of "$s"); total=$((total + b))
    skip=""; [ "$s" = setup ] && [ "$SETUP" = 0 ] && skip="  (skipped: --skip-setup)"
    printf "  %d. %-10s budget %4d s%s\n     %s\n" "$i" "$s" "$b" "$skip" "$(cmd_"$s")"
  done
  echo "total budget $total s ($((total / 60)) min $((total % 60)) s); results as JSON under $RESULTS/ (gpu-$NAME-*.json, gpu-$NAME-summary.json)"
  exit 0
fi

# refuse a machine without a CUDA GPU before spending minutes on setup
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q "^GPU "; then
  echo "gpu_check.sh: no CUDA GPU on this machine (nvidia-smi lists none); this check needs one (--dry-run shows what it would run)" >&2
  exit 3
fi

mkdir -p "$RESULTS"
STARTED=$(date +%s)
LOG=$(mktemp -d)
declare -A RC SECS
step() {  # step NAME COMMAND...: run under the step's budget, record rc and seconds
  local name=$1; shift
  local b t0; b=$(budget_of "$name"); t0=$(date +%s)
  echo "=== $name (budget $b s): $*"
  timeout --kill-after=10 "$b" "$@" 2>&1 | tee "$LOG/$name.log"
  RC[$name]=${PIPESTATUS[0]}; SECS[$name]=$(( $(date +%s) - t0 ))
  echo "=== $name: exit ${RC[$name]} in ${SECS[$name]} s$([ "${RC[$name]}" = 124 ] && echo ' (over its budget: stopped)')"
}

if [ "$SETUP" = 1 ]; then step setup bash scripts/setup.sh; else RC[setup]=skipped SECS[setup]=0; fi
if [ ! -x "$PY" ]; then
  echo "gpu_check.sh: no $PY (setup failed?); run bash scripts/setup.sh" >&2; exit 2
fi

step preflight "$PY" -c '
import sys, torch
from regnetlab.data import load_split, resolve_root
if not torch.cuda.is_available():
    sys.exit("gpu_check.sh: torch " + torch.__version__ + " sees no CUDA device (a CPU-only build?)")
root, may_download = resolve_root(None)
load_split(root, train=False, download_ok=may_download)
print("device:", torch.cuda.get_device_name(0), "| torch", torch.__version__, "| data", root)
'
if [ "${RC[preflight]}" != 0 ]; then
  echo "gpu_check.sh: the preflight failed (see above): no CUDA for torch, or no Fashion-MNIST (set REGNETLAB_DATA)" >&2
  exit 3
fi
DEVICE_NAME=$("$PY" -c 'import torch; print(torch.cuda.get_device_name(0))')
NAME=$(echo "$DEVICE_NAME" | tr '[:upper:]' '[:lower:]' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
echo "results: $RESULTS/gpu-$NAME-*.json"

step bench "$PY" benchmarks/bench_train.py --device cuda --epochs 3 --target 0.87 --steps-96 100 \
  --json "$RESULTS/gpu-$NAME-bench.json"

step grade "$PY" -m regnetlab grade solutions --tier gpu --device cuda \
  --json "$RESULTS/gpu-$NAME-grade.json"

KEYS=$("$PY" - <<'EOF'
import sys
sys.path[:0] = ["benchmarks", "."]
from calibrate_thresholds import spaces
print(" ".join(spaces()))
EOF
)
RUNS="$RESULTS/gpu-$NAME-runs"
rm -rf "$RUNS"; mkdir -p "$RUNS"
calibrate_all() {  # one process per key and seed: small networks leave the GPU idle between launches
  local pids=()
  for key in $KEYS; do
    for seed in $SEEDS; do
      "$PY" benchmarks/calibrate_thresholds.py --tier gpu --device cuda --runs-only \
        --keys "$key" --seeds "$seed" --budget-s "$CAL_BUDGET" \
        --cache "$RUNS/$key-$seed.jsonl" > "$RUNS/$key-$seed.log" 2>&1 &
      pids+=($!)
    done
  done
  local bad=0
  for pid in "${pids[@]}"; do wait "$pid" || bad=1; done
  tail -n 3 "$RUNS"/*.log
  return $bad
}
export -f calibrate_all
export PY RUNS KEYS SEEDS CAL_BUDGET
step calibrate bash -c calibrate_all
cat "$RUNS"/*.jsonl > "$RUNS.jsonl" 2>/dev/null

step compare "$PY" benchmarks/calibrate_thresholds.py --tier gpu --cached-only \
  --cache "$RUNS.jsonl" --out "$RESULTS/gpu-$NAME-calibration.json" \
  --compare autograder/calibration.json

TOTAL=$(( $(date +%s) - STARTED ))
"$PY" - "$RESULTS/gpu-$NAME-summary.json" "$DEVICE_NAME" "$TOTAL" <<EOF
import json, subprocess, sys, torch
from regnetlab.files import write_json
path, name, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
steps = {s: {"budget_s": b, "seconds": t, "exit": int(r) if r.isdigit() else r}
         for s, b, t, r in zip(
    "$STEPS".split(), [$B_SETUP, $B_PREFLIGHT, $B_BENCH, $B_GRADE, $B_CALIBRATE, $B_COMPARE],
    [${SECS[setup]}, ${SECS[preflight]}, ${SECS[bench]}, ${SECS[grade]}, ${SECS[calibrate]},
     ${SECS[compare]}],
    ["${RC[setup]}", "${RC[preflight]}", "${RC[bench]}", "${RC[grade]}", "${RC[calibrate]}",
     "${RC[compare]}"])}
write_json(path, {"device_name": name, "torch": torch.__version__, "commit": commit,
                  "total_seconds": total, "steps": steps})
print(f"wrote {path}")
EOF
echo "gpu_check.sh: done in $TOTAL s; to adopt the measured GPU thresholds:"
echo "  $PY benchmarks/calibrate_thresholds.py --tier gpu --cached-only --cache $RUNS.jsonl --out $RESULTS/gpu-$NAME-calibration.json --apply autograder/calibration.json"
rm -rf "$LOG"
for s in bench grade calibrate compare; do [ "${RC[$s]}" = 0 ] || exit 1; done
