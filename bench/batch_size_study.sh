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
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
[ -s "$work/fm.h5" ] || "$build/tools/ipm-dist" pack idx "${IDX_DIR:-/usr/share/datasets/fashion-mnist}" -o "$work/fm.h5" >/dev/null

run() {  # label ranks batch normalizer
  local name="$1"
  cat > "$work/$name.toml" <<TOML
name = "$name"
output = "$name"
[data]
file = "fm.h5"
[prior]
kind = "negative"
k = 1
[train]
loss = "rq"
lr = 1e-3
batch = $3
epochs = $epochs
train_subset = $rows
train_eval = "running"
normalizer = "$4"
[run]
ranks_per_job = $2
threads_per_rank = 1
TOML
  if [ "$2" -eq 1 ]; then
    "$build/tools/ipm-dist" "$work/$name.toml" >/dev/null
  else
    mpirun --oversubscribe -np "$2" "$build/tools/ipm-dist" "$work/$name.toml" >/dev/null
  fi
  printf "%-3s %5s %6s %-8s %s\n" "$name" "$2" "$3" "$4" "$(cat "$work/$name/jobs/$name/DONE")"
}
echo "RQ, k = 1, $rows training images, $epochs epochs; results under $work"
printf "%-3s %5s %6s %-8s %s\n" run ranks batch norm "result"
run A 1 64 global
run B 4 64 global
run C 4 64 local
run D 1 256 local
run E 1 8 local
run F 1 8 ema
