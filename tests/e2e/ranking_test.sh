#!/usr/bin/env bash
# Learning Fashion-MNIST classes from rankings alone (§4.2): pairs of training images, each
# told only which member has the larger class index (or that they are equal), trained with
# RQ against the marginals of Eq. 6. The same run with every triangle transposed (a wrong
# joint prior, IPM_TEST_REVERSE_RANKING=1) must stay far below: it learns the reversed
# order. Thresholds from measured runs (docs/results.md, Rankings); 1 thread, < 1 min.
source "$(dirname "$0")/lib.sh"
d=$(test_dir ranking)
cd "$d"
small_h5 small.h5 "${RANK_ROWS:-6000}" 2000
SUITE_DATA=small.h5 write_suite rank.toml rank "[prior]" "kind = \"ranking\"" \
  "[train]" "loss = \"rq\"" "lr = 1e-3" "batch = 128" "epochs = ${RANK_EPOCHS:-6}" \
  "train_eval = \"running\""
cp rank.toml reversed.toml
sed -i 's/^name = "rank"/name = "reversed"/; s#runs/rank#runs/reversed#' reversed.toml
"$IPM" rank.toml > rank.log
IPM_TEST_REVERSE_RANKING=1 "$IPM" reversed.toml > reversed.log
last() { last_field "runs/$1/jobs/$1" "$2"; }
ok=$(last rank test_acc); bad=$(last reversed test_acc)
echo "test accuracy from pairs: correct prior $ok, transposed prior $bad"
awk -v ok="$ok" -v bad="$bad" -v min="${RANK_MIN:-0.25}" 'BEGIN {
  if (ok < min) { print "FAIL: ranking test accuracy " ok " < " min; exit 1 }
  if (bad >= min) { print "FAIL: the transposed prior reached " bad " >= " min; exit 1 }
}' || exit 1
pass "ranking $ok >= ${RANK_MIN:-0.25} > transposed $bad"
