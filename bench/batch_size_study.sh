#!/usr/bin/env bash
# The normalizer and small batches (the data-parallel issue; the paper's Table B.1 setting):
# RQ with one negative label per Fashion-MNIST image, Adam lr 1e-3, 1 thread per rank.
#
#   bench/batch_size_study.sh [BUILD_DIR] [ROWS] [EPOCHS]
#
#   A  1 rank,  batch 64, global            the reference for B and C
#   B  4 ranks, batch 64 (16 per rank), global    should match A
#   C  4 ranks, batch 64 (16 per rank), local     each rank normalizes over its 16
#   D  1 rank,  batch 256, local            the paper's large-batch setting
#   E  1 rank,  batch 8, local              the small-batch degradation
#   F  1 rank,  batch 8, ema                should close most of the D-E gap
# Prints final and peak test accuracy (all 10,000 test images) for each.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rows=${2:-12288}
epochs=${3:-5}
source "$here/bench/lib.sh"
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
bench_pack "$build" "$work"

run() {  # label ranks batch normalizer
  bench_suite "$work/$1.toml" "$1" "$rows" "$epochs" "$3" "$4" "$2"
  bench_run "$build" "$work/$1.toml" "$2"
  printf "%-3s %5s %6s %-8s %s\n" "$1" "$2" "$3" "$4" "$(cat "$work/$1/jobs/$1/DONE")"
}
echo "RQ, k = 1, $rows training images, $epochs epochs; results under $work"
printf "%-3s %5s %6s %-8s %s\n" run ranks batch norm "result"
run A 1 64 global
run B 4 64 global
run C 4 64 local
run D 1 256 local
run E 1 8 local
run F 1 8 ema
