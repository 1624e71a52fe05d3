#!/usr/bin/env bash
# Ranking training does not depend on the number of ranks: pairs are sliced whole over ranks
# and the global normalizer all-reduces each position's Z (Eq. 6), so 1 and 2 ranks end with
# the same parameters in float64 (measured ~1e-12 relative; as dist_invariance_test.sh shows
# for classification), for both normalizations. The local normalizer on 2 ranks trains a
# different model.
source "$(dirname "$0")/lib.sh"
d=$(test_dir ranking_dist)
cd "$d"
small_h5 small.h5 480 200
suite() {  # name ranks normalizer pair_normalizer
  {
    echo "name = \"$1\""; echo "output = \"runs/$1\""
    echo "[data]"; echo "file = \"small.h5\""
    echo "[prior]"; echo "kind = \"ranking\""; echo "pair_normalizer = \"$4\""
    echo "[train]"; echo "loss = \"rq\""; echo "lr = 1e-3"; echo "batch = 25"; echo "epochs = 2"
    echo "normalizer = \"$3\""; echo "precision = \"float64\""; echo "train_eval = \"running\""
    echo "[run]"; echo "ranks_per_job = $2"
  } > "$1.toml"
}
ck() { echo "runs/$1/jobs/$1/checkpoint.pt"; }
for pn in position pooled; do
  suite "one_$pn" 1 global "$pn"
  suite "two_$pn" 2 global "$pn"
  "$IPM" "one_$pn.toml" > "one_$pn.log"
  "${MPIRUN[@]}" -np 2 "$IPM" "two_$pn.toml" > "two_$pn.log"
  "$IPM_CKPT_DIFF" "$(ck one_$pn)" "$(ck two_$pn)" 1e-8 ||
    fail "$pn: 2 ranks trained another model than 1"
  a=$(grep -o '"test_acc": [0-9.e-]*' "runs/one_$pn/jobs/one_$pn/metrics.jsonl")
  b=$(grep -o '"test_acc": [0-9.e-]*' "runs/two_$pn/jobs/two_$pn/metrics.jsonl")
  [ "$a" = "$b" ] || fail "$pn: test accuracy differs between 1 and 2 ranks"
  pass "$pn: 1 and 2 ranks train the same model"
done
suite two_local 2 local position
"${MPIRUN[@]}" -np 2 "$IPM" two_local.toml > two_local.log
if "$IPM_CKPT_DIFF" "$(ck one_position)" "$(ck two_local)" 1e-3; then
  fail "the local normalizer on 2 ranks should train a different model"
fi
pass "local normalization on 2 ranks differs"
