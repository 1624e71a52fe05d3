#!/usr/bin/env bash
# Wall time of a 36-job short suite: one process running the jobs one after another, against
# 2 ranks in 2 groups taking jobs from the shared counter.
#
#   bench/suite_throughput.sh [BUILD_DIR] [ROWS] [EPOCHS]
#
# 4 losses x 3 values of k x 3 seeds, each job EPOCHS epochs on ROWS training images and
# 1,000 test images of Fashion-MNIST, batch 64, 1 thread per rank.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rows=${2:-2048}
epochs=${3:-1}
source "$here/bench/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_pack "$build" "$work"
/usr/bin/python3 "$here/tools/h5_subset.py" "$work/fm.h5" "$work/small.h5" "$rows" 1000
suite() {
  cat > "$work/$1.toml" <<TOML
name = "$1"
output = "$1"
[data]
file = "small.h5"
[train]
lr = 1e-3
batch = 64
epochs = $epochs
train_eval = "running"
[run]
ranks_per_job = 1
threads_per_rank = 1
[sweep]
"train.loss" = ["ce", "nll", "qr", "rq"]
"prior.k" = [1, 3, 5]
"train.seed" = [0, 1, 2]
TOML
}
suite serial
suite groups
t0=$(date +%s.%N)
"$build/tools/ipm-dist" "$work/serial.toml" >/dev/null
t1=$(date +%s.%N)
mpirun --oversubscribe -np 2 "$build/tools/ipm-dist" "$work/groups.toml" >/dev/null
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v rows="$rows" -v ep="$epochs" 'BEGIN {
  printf "36-job suite (%d training images, %d epoch(s) per job)\n", rows, ep
  printf "one process, jobs in turn:   %7.1f s\n", b - a
  printf "2 ranks, 2 groups:           %7.1f s\n", c - b
  printf "speed-up:                    %7.2fx\n", (b - a) / (c - b)
}'
