#!/usr/bin/env bash
# The normalizer and small batches (the data-parallel issue; the paper's Table B.1 setting):
# RQ with one negative label per Fashion-MNIST image, Adam lr 1e-3, 1 thread per rank.
#
#   bench/batch_size_study.sh [BUILD_DIR] [ROWS] [EPOCHS] [SEEDS]   (SEEDS: "0 1 2" by default)
#
#   A  1 rank,  batch 64, global            the reference for B and C
#   B  4 ranks, batch 64 (16 per rank), global    should match A
#   C  4 ranks, batch 64 (16 per rank), local     each rank normalizes over its 16
#   D  1 rank,  batch 256, local            the paper's large-batch setting
#   E  1 rank,  batch 8, local              the small-batch degradation
#   F  1 rank,  batch 8, ema                should close most of the D-E gap
# Prints the final test accuracy (all 10,000 test images) per seed and their mean.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rows=${2:-12288}
epochs=${3:-5}
seeds=${4:-0 1 2}
source "$here/bench/lib.sh"
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
bench_pack "$build" "$work"

run() {  # label ranks batch normalizer
  local accs="" seed
  for seed in $seeds; do
    bench_suite "$work/$1-$seed.toml" "$1-$seed" "$rows" "$epochs" "$3" "$4" "$2"
    sed -i "s/^\[run\]/seed = $seed\n[run]/" "$work/$1-$seed.toml"  # train.seed
    bench_run "$build" "$work/$1-$seed.toml" "$2"
    accs="$accs $(last_metric "$work/$1-$seed/jobs/$1-$seed/metrics.jsonl" test_acc)"
  done
  printf "%-3s %5s %6s %-8s %s   mean %s\n" "$1" "$2" "$3" "$4" "$accs" \
    "$(echo "$accs" | awk '{ s = 0; for (i = 1; i <= NF; ++i) s += $i; printf "%.4f", s / NF }')"
}
echo "RQ, k = 1, $rows training images, $epochs epochs, seeds $seeds; results under $work"
printf "%-3s %5s %6s %-8s %s\n" run ranks batch norm "final test accuracy per seed"
run A 1 64 global
run B 4 64 global
run C 4 64 local
run D 1 256 local
run E 1 8 local
run F 1 8 ema
