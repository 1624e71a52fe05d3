#!/usr/bin/env bash
# Steady-state training throughput: ipm-dist against the paper's Python loop, side by side.
#
#   bench/train_throughput.sh [BUILD_DIR] [ROWS] [EPOCHS] [THREADS]
#
# Same model (the paper's CNN), data (the first ROWS Fashion-MNIST training images), batch
# (256), loss (RQ, k = 1 negative label), optimizer (Adam) and thread count for both; each
# reports the samples/s of its last epoch (training steps only, evaluation excluded). Runs
# one after another on this machine, so the ratio is taken under the same conditions.
# FLOP/s assume 15.4 MFLOP per training sample (2.64 M multiply-adds forward, backward 2x)
# against a peak of PEAK_GFLOPS per core (default 134: AVX-512, 2 FMA/cycle, 2.1 GHz).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rows=${2:-16384}
epochs=${3:-3}
threads=${4:-1}
peak=${PEAK_GFLOPS:-134}
source "$here/bench/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bench_pack "$build" "$work"
bench_suite "$work/bench.toml" bench "$rows" "$epochs" 256 global 1 "$threads"
bench_run "$build" "$work/bench.toml" 1
cpp=$(last_metric "$work/bench/jobs/bench/metrics.jsonl" samples_per_s)

py_rate() {  # last epoch's samples/s of the reference loop
  OMP_NUM_THREADS=$threads /usr/bin/python3 "$here/tools/reference/ipm_reference.py" --idx "$IDX_DIR" \
    --loss rq --k 1 --batch 256 --lr 1e-3 --epochs "$epochs" --train-subset "$rows" \
    --threads "$threads" "$@" | tail -n 1 | sed 's/.*"samples_per_s": \([0-9.e+-]*\).*/\1/'
}
py=$(py_rate)
py_cl=$(py_rate --channels-last)

awk -v cpp="$cpp" -v py="$py" -v pycl="$py_cl" -v peak="$peak" -v t="$threads" \
    -v rows="$rows" -v ep="$epochs" 'BEGIN {
  printf "training throughput, %d rows, batch 256, RQ, %d thread(s), last of %d epochs\n", rows, t, ep
  printf "%-34s %12s %10s %9s %9s\n", "implementation", "samples/s", "GFLOP/s", "of peak", "vs python"
  row("python loop (paper Fig. 2, NCHW)", py)
  row("python loop, channels-last", pycl)
  row("ipm-dist", cpp)
}
function row(name, r,   g) {
  g = r * 15.4e6 / 1e9
  printf "%-34s %12.0f %10.1f %8.1f%% %8.2fx\n", name, r, g, 100 * g / (peak * t), r / py
}'
