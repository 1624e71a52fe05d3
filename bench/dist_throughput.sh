#!/usr/bin/env bash
# Data-parallel throughput on this machine: 1 rank vs 2 ranks (1 thread each), the global
# normalizer against the local one, and what the all-reduces cost.
#
#   bench/dist_throughput.sh [BUILD_DIR] [ROWS] [EPOCHS]
#
# One job of the paper's CNN on the first ROWS Fashion-MNIST images, batch 256 (the global
# batch), RQ with k = 1; each figure is the last epoch's (training steps only). Bytes per
# step: the gradient (33,194 float32 = 132,776 B) plus the normalizer's 3 x 10 floats.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rows=${2:-16384}
epochs=${3:-3}
source "$here/bench/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_pack "$build" "$work"

run() {  # name ranks normalizer -> prints "samples_per_s step_s comm_s"
  bench_suite "$work/$1.toml" "$1" "$rows" "$epochs" 256 "$3" "$2"
  bench_run "$build" "$work/$1.toml" "$2"
  local m="$work/$1/jobs/$1/metrics.jsonl"
  echo "$(last_metric "$m" samples_per_s) $(last_metric "$m" step_s) $(last_metric "$m" comm_s)"
}
read -r s1 t1 c1 < <(run one 1 global)
read -r s2 t2 c2 < <(run two 2 global)
read -r s2l t2l c2l < <(run two_local 2 local)
awk -v s1="$s1" -v t1="$t1" -v c1="$c1" -v s2="$s2" -v t2="$t2" -v c2="$c2" \
    -v s2l="$s2l" -v t2l="$t2l" -v c2l="$c2l" -v rows="$rows" -v ep="$epochs" 'BEGIN {
  bytes = 33194 * 4 + 3 * 10 * 4
  printf "data-parallel training, %d rows, global batch 256, RQ, 1 thread per rank, last of %d epochs\n", rows, ep
  printf "%-26s %10s %10s %10s %12s %12s\n", "run", "samples/s", "step ms", "comm ms", "algbw MB/s", "busbw MB/s"
  row("1 rank, global", s1, t1, c1, 1)
  row("2 ranks, global", s2, t2, c2, 2)
  row("2 ranks, local", s2l, t2l, c2l, 2)
  printf "speed-up 2 ranks / 1 rank (global): %.2fx\n", s2 / s1
  printf "step time global / local (2 ranks): %+.1f%%\n", 100 * (t2 / t2l - 1)
}
function row(name, s, t, c, n,   alg) {
  alg = (c > 0) ? bytes / c / 1e6 : 0
  printf "%-26s %10.0f %10.2f %10.3f %12.1f %12.1f\n", name, s, 1e3 * t, 1e3 * c, alg, alg * 2 * (n - 1) / n
}'
