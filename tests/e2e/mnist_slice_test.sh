#!/usr/bin/env bash
# A slice of the real MNIST (docs/mnist.md), only where scripts/get-mnist.sh has already put
# the CSVs in its cache (CI fetches nothing): the first 2,000 training and 500 test rows of the
# wheel's CSVs packed with `pack csv`, then RQ from one negative label per image (the paper's
# Fig. 3 at k = 1) for 8 epochs must learn the digits (measured: test accuracy
# 0.736 after 8 epochs, 0.59 after 4; chance is 0.1). Skips (exit 77) without the CSVs.
source "$(dirname "$0")/lib.sh"
cache=${IPM_MNIST_CACHE:-$HOME/.cache/ipm-dist/mnist}
if [ ! -s "$cache/mnist_train.csv" ] || [ ! -s "$cache/mnist_test.csv" ]; then
  echo "skip: no MNIST CSVs in $cache (scripts/get-mnist.sh fetches them)"
  exit 77
fi
d=$(test_dir mnist_slice)
cd "$d"
head -n 2001 "$cache/mnist_train.csv" > train.csv
head -n 501 "$cache/mnist_test.csv" > test.csv
"$IPM" pack csv train.csv test.csv -o mnist.h5 --shape 1,28,28 > pack.log
grep -q "2000 train and 500 test samples" pack.log || fail "pack said: $(cat pack.log)"
SUITE_DATA=$d/mnist.h5 write_suite slice.toml slice "[prior]" 'kind = "negative"' "k = 1" \
  "[train]" 'loss = "rq"' "lr = 1e-3" "batch = 64" "epochs = ${MNIST_SLICE_EPOCHS:-8}"
"$IPM" slice.toml > slice.log
acc=$(last_field runs/slice/jobs/slice test_acc)
awk -v a="$acc" -v min="${MNIST_SLICE_MIN:-0.65}" 'BEGIN { exit !(a >= min) }' ||
  fail "RQ on 2,000 MNIST digits: test accuracy $acc < ${MNIST_SLICE_MIN:-0.65}"
pass "RQ, k = 1, 2,000 MNIST digits: test accuracy $acc"
