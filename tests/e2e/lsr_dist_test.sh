#!/usr/bin/env bash
# Segmentation over ranks: with the global normalizer (Z over the global batch's images x
# pixels, all-reduced), 1 and 2 ranks train the same FCN from coarse priors (float64: same
# checkpoint to 1e-4, same pixel accuracy and mIoU, parameter norms to 1e-9); the local
# normalizer on 2 ranks trains another model, so the comparison can fail.
source "$(dirname "$0")/lib.sh"
d=$(test_dir lsr_dist)
cd "$d"
"$IPM" pack lsr "$IPM_IDX_DIR" -o tiny.h5 --train 48 --test 8 --size 16 --block 8 --seed 2 \
  > /dev/null
suite() {  # name ranks normalizer loss
  SUITE_DATA="$d/tiny.h5" write_suite "$1.toml" "$1" "[model]" "arch = \"fcn\"" "width = 4" \
    "[prior]" "kind = \"coarse\"" "smoothing = 1e-4" "blur = 1.5" "[train]" "loss = \"$4\"" \
    "lr = 1e-2" "batch = 6" "epochs = 2" "normalizer = \"$3\"" "precision = \"float64\"" \
    "q_smoothing = 1e-4" "train_eval = \"running\"" "[run]" "ranks_per_job = $2"
}
for loss in rq free_energy; do
  suite "one_$loss" 1 global $loss
  suite "two_$loss" 2 global $loss
  "$IPM" "one_$loss.toml" > "one_$loss.log"
  "${MPIRUN[@]}" -np 2 "$IPM" "two_$loss.toml" > "two_$loss.log"
  ck() { echo "runs/$1/jobs/$1/checkpoint.pt"; }
  "$IPM_CKPT_DIFF" "$(ck one_$loss)" "$(ck two_$loss)" 1e-4 ||
    fail "$loss: 2 ranks trained another model than 1"
  for key in test_acc test_miou test_acc_r test_miou_r; do
    a=$(grep -o "\"$key\": [0-9.e-]*" "runs/one_$loss/jobs/one_$loss/metrics.jsonl")
    b=$(grep -o "\"$key\": [0-9.e-]*" "runs/two_$loss/jobs/two_$loss/metrics.jsonl")
    [ "$a" = "$b" ] || fail "$loss: $key differs between 1 and 2 ranks: $a vs $b"
  done
  pass "$loss: 1 and 2 ranks train the same FCN"
done
suite two_local 2 local rq
"${MPIRUN[@]}" -np 2 "$IPM" two_local.toml > two_local.log
if "$IPM_CKPT_DIFF" runs/one_rq/jobs/one_rq/checkpoint.pt \
    runs/two_local/jobs/two_local/checkpoint.pt 1e-3; then
  fail "the local normalizer on 2 ranks should train a different model"
fi
pass "local normalization on 2 ranks trains a different model"
