#!/usr/bin/env bash
# The data path at scale: one rank, one thread, batch 256, RQ with one negative label, on
# Fashion-MNIST repeated COPIES times (default 3: 180,000 rows, 141 MB of images, more than
# HDF5's 64 MiB chunk cache), packed as `ipm-dist pack idx` packs (chunks of 334 rows).
#
#   bench/io_throughput.sh [BUILD_DIR] [COPIES] [EPOCHS]
#
# Runs data.preload = always, never with the exact order, and never with the chunked order
# (data.shuffle_window = WINDOW chunks, default 32) one after another and prints, for the
# last epoch: samples/s, read_bytes / the split's bytes, read_wait_s (per step), and the
# peak RSS of the whole run (/usr/bin/time -v). The file stays in the page cache: this
# measures read amplification and CPU cost, not a disk (drop the caches as root for that).
# Environment: WINDOW (chunks, default 32), PREFETCH (batches, default 2), RUNS (a subset).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
copies=${2:-3}
epochs=${3:-1}
window=${WINDOW:-32}
prefetch=${PREFETCH:-2}
source "$here/bench/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bench_pack "$build" "$work"
# COPIES copies of /train back to back, chunked as the packer chunks; /test as it is.
/usr/bin/python3 - "$work/fm.h5" "$work/big.h5" "$copies" <<'PY'
import sys
import h5py
import numpy as np
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(src, "r") as s, h5py.File(dst, "w") as d:
    for k, v in s.attrs.items():
        d.attrs[k] = v
    for split, n in (("train", copies), ("test", 1)):
        g = d.create_group(split)
        for name in ("x", "y"):
            a = np.concatenate([s[split][name][...]] * n)
            row = a[0].nbytes
            rows = min(len(a), max(1, (256 << 10) // row))
            g.create_dataset(name, data=a, chunks=(rows,) + a.shape[1:])
PY
split_bytes=$(/usr/bin/python3 -c "
import h5py; f = h5py.File('$work/big.h5', 'r'); print(f['train/x'].size + f['train/y'].size * 8)")

run() {  # name preload order
  cat > "$work/$1.toml" <<TOML
name = "$1"
output = "$1"
[data]
file = "big.h5"
preload = "$2"
order = "$3"
shuffle_window = $window
prefetch = $prefetch
[prior]
kind = "negative"
k = 1
[train]
loss = "rq"
lr = 1e-3
batch = 256
epochs = $epochs
train_eval = "running"
[run]
threads_per_rank = 1
TOML
  (cd "$work" && /usr/bin/time -v "$build/tools/ipm-dist" "$1.toml" > "$1.log" 2> "$1.time")
  local m="$work/$1/jobs/$1/metrics.jsonl"
  local rss
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$1.time")
  printf "%-24s %10.0f %12.2f %12.5f %10.0f %8.4f\n" "$1" "$(last_metric "$m" samples_per_s)" \
    "$(awk -v b="$(last_metric "$m" read_bytes)" -v s="$split_bytes" 'BEGIN { print b / s }')" \
    "$(last_metric "$m" read_wait_s)" "$((rss / 1024))" "$(last_metric "$m" test_acc)"
}
echo "io throughput: Fashion-MNIST x$copies ($split_bytes bytes of train x and y), batch 256," \
     "1 rank, 1 thread, last of $epochs epoch(s), window $window chunks, prefetch $prefetch"
printf "%-24s %10s %12s %12s %10s %8s\n" "data path" "samples/s" "read/split" "read_wait_s" \
  "peak MiB" "test acc"
# RUNS picks some of them (default all three).
for r in ${RUNS:-preload_always never_exact never_chunked}; do
  case $r in
    preload_always) run preload_always always exact ;;
    never_exact) run never_exact never exact ;;
    never_chunked) run never_chunked never chunked ;;
    *) echo "unknown run '$r' (preload_always, never_exact, never_chunked)" >&2; exit 2 ;;
  esac
done
