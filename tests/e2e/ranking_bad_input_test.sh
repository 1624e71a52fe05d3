#!/usr/bin/env bash
# Ranking settings that cannot work are refused before anything trains, with one line naming
# the key: more pairs than the rows can make, a batch (in pairs) larger than the pairs, a
# loss without a pair form, the ema normalizer, CE pretraining, and unknown values.
source "$(dirname "$0")/lib.sh"
d=$(test_dir ranking_bad_input)
cd "$d"
base=("[train]" "loss = \"rq\"" "epochs = 1" "batch = 64" "train_subset = 256")
check() {  # what pattern [prior]-lines... -- [train]-lines...
  local what=$1 pattern=$2
  shift 2
  write_suite bad.toml bad "$@"
  expect_error "$what" "$pattern" "$IPM" bad.toml
  [ ! -e runs/bad/jobs/bad/checkpoint.pt ] || fail "$what: something trained"
}
check "pairs that cannot fit" 'prior.pairs = 200 needs 400 distinct training rows, there are 256' \
  "[prior]" "kind = \"ranking\"" "pairs = 200" "${base[@]}"
check "batch larger than the pairs" 'train.batch = 100 pairs exceeds the 50 pairs' \
  "[prior]" "kind = \"ranking\"" "pairs = 50" "[train]" "batch = 100" "train_subset = 256"
check "loss without a pair form" 'train.loss = "ce" cannot train from prior.kind = "ranking"' \
  "[prior]" "kind = \"ranking\"" "[train]" "loss = \"ce\"" "batch = 64" "train_subset = 256"
check "ema normalizer" 'train.normalizer = "ema" is not supported with prior.kind = "ranking"' \
  "[prior]" "kind = \"ranking\"" "${base[@]}" "normalizer = \"ema\""
check "CE pretraining" 'train.pretrain_epochs = 1 is not supported with prior.kind = "ranking"' \
  "[prior]" "kind = \"ranking\"" "[train]" "loss = \"rq\"" "epochs = 2" "pretrain_epochs = 1" \
  "batch = 64" "train_subset = 256"
check "unknown ties" 'prior.ties = "both" is not one of' \
  "[prior]" "kind = \"ranking\"" "ties = \"both\"" "${base[@]}"
check "unknown pair normalizer" 'prior.pair_normalizer = "pool" is not one of' \
  "[prior]" "kind = \"ranking\"" "pair_normalizer = \"pool\"" "${base[@]}"
check "negative pairs" 'prior.pairs = -1 is outside' \
  "[prior]" "kind = \"ranking\"" "pairs = -1" "${base[@]}"

# Pairs from the data file (prior.pair_source = "file"): a good table trains; pairs that
# reference missing rows, pair a row with itself or carry an unknown observation are refused.
/usr/bin/python3 - "$FM_H5" <<'PY'
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as src:
    x, y = src["train"]["x"][:256], src["train"]["y"][:256]
    tx, ty = src["test"]["x"][:100], src["test"]["y"][:100]
    nc = src.attrs["num_classes"]
a, b = np.arange(0, 256, 2), np.arange(1, 256, 2)
good = np.stack([a, b, np.sign(y[a] - y[b])], 1).astype(np.int64)
bad = {"good": good, "missing_row": good.copy(), "self": good.copy(), "obs": good.copy()}
bad["missing_row"][5, 1] = 256
bad["self"][3, 1] = bad["self"][3, 0]
bad["obs"][7, 2] = 2
for name, table in list(bad.items()) + [("nopairs", None)]:
    with h5py.File(name + ".h5", "w") as f:
        f.attrs["num_classes"] = nc
        f["train/x"], f["train/y"], f["test/x"], f["test/y"] = x, y, tx, ty
        if table is not None:
            f["train/pairs"] = table
PY
file_suite() {  # data
  SUITE_DATA="$1.h5" write_suite bad.toml bad "[prior]" "kind = \"ranking\"" \
    "pair_source = \"file\"" "[train]" "loss = \"rq\"" "epochs = 1" "batch = 32"
}
file_suite good
"$IPM" bad.toml > good.log || fail "a good pairs table did not train"
pass "pairs from the data file train"
rm -rf runs/bad
file_suite missing_row
expect_error "pair referencing a missing row" 'pairs: pair 5 = \([0-9]+, 256\) references a row outside the 256 training rows' "$IPM" bad.toml
file_suite self
expect_error "pair of a row with itself" 'pair 3 pairs row [0-9]+ with itself' "$IPM" bad.toml
file_suite obs
expect_error "unknown observation" 'pair 7 has observation 2' "$IPM" bad.toml
file_suite nopairs
expect_error "no pairs dataset" '/train/pairs: missing' "$IPM" bad.toml
