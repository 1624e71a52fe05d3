#!/usr/bin/env bash
# Ranking settings that cannot work are refused before anything trains, with one line naming
# the key: more pairs than the rows can make, a batch (in pairs) larger than the pairs, a
# loss without a pair form, the ema normalizer, and unknown values.
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
check "unknown ties" 'prior.ties = "both" is not one of' \
  "[prior]" "kind = \"ranking\"" "ties = \"both\"" "${base[@]}"
check "unknown pair normalizer" 'prior.pair_normalizer = "pool" is not one of' \
  "[prior]" "kind = \"ranking\"" "pair_normalizer = \"pool\"" "${base[@]}"
check "negative pairs" 'prior.pairs = -1 is outside' \
  "[prior]" "kind = \"ranking\"" "pairs = -1" "${base[@]}"
