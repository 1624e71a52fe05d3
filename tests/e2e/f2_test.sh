#!/usr/bin/env bash
# The self-supervised criterion F.2 (App. F.1) as train.loss = "f2": no labels and no prior
# are used. A constant q costs log(batch) per sample (losses/implicit_losses.h), so the loss
# must fall clearly below log 256 = 5.55; the network must split the test images into several
# confident clusters (export-prior writes its q) that are far purer than chance (0.1).
# Measured (4 epochs, 4,096 images): loss 5.51 -> 3.78, 8 clusters, mean max q 0.97, purity
# 0.45.
source "$(dirname "$0")/lib.sh"
d=$(test_dir f2)
cd "$d"
small_h5 small.h5 4096 1000
SUITE_DATA=small.h5 write_suite f2.toml f2 "[train]" "loss = \"f2\"" "lr = 1e-3" \
  "batch = 256" "epochs = 4" "train_eval = \"running\""
"$IPM" f2.toml > f2.log
loss=$(tail -n 1 runs/f2/jobs/f2/metrics.jsonl | sed 's/.*"loss": \([^,}]*\).*/\1/')
awk -v l="$loss" 'BEGIN { exit !(l < 4.8) }' || fail "F.2 loss $loss is not below 4.8 (log 256 = 5.55)"
"$IPM" export-prior runs/f2/jobs/f2 --split test -o q.h5 > /dev/null
/usr/bin/python3 - <<'PY' || fail "F.2 did not cluster"
import h5py
import numpy as np
with h5py.File("q.h5", "r") as f:
    q, y = f["test"]["prior"][:], f["test"]["y"][:]
a = q.argmax(1)
used = np.unique(a)
purity = sum(np.bincount(y[a == c]).max() for c in used) / len(y)
print("clusters %d, mean max q %.3f, purity %.3f" % (len(used), q.max(1).mean(), purity))
assert len(used) >= 5 and q.max(1).mean() > 0.8 and purity > 0.3
PY
pass "F.2 loss $loss; confident, diverse, label-correlated clusters"
