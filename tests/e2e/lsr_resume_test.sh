#!/usr/bin/env bash
# Segmentation resume is exact: a job aborted right after epoch 1 and restarted ends with the
# same metrics (pixel accuracy, mIoU of q and r, loss, parameter norm) as an uninterrupted one;
# so does one stopped mid-epoch (preemption: the IPM_TEST_STOP_AT_STEP hook on rank 0 as a
# SIGUSR1 would, exit 75, a mid-epoch checkpoint) and resumed, on 1 rank and on 2 ranks, with
# the parameters equal too.
source "$(dirname "$0")/lib.sh"
d=$(test_dir lsr_resume)
cd "$d"
"$IPM" pack lsr "$IPM_IDX_DIR" -o tiny.h5 --train 32 --test 8 --size 16 --block 8 --seed 3 \
  > /dev/null
common=("[model]" "arch = \"fcn\"" "width = 4" "[prior]" "kind = \"coarse\"" "blur = 1.0"
        "smoothing = 1e-4" "[train]" "loss = \"qr\"" "lr = 1e-2" "batch = 8" "epochs = 3"
        "q_smoothing = 1e-4")
for name in whole killed stopped whole2 stopped2; do
  extra=()
  [[ $name == *2 ]] && extra=("[run]" "ranks_per_job = 2")
  SUITE_DATA="$d/tiny.h5" write_suite "$name.toml" "$name" "${common[@]}" "${extra[@]}"
done
"$IPM" whole.toml > whole.log
rc=0
IPM_TEST_ABORT_AFTER_EPOCH=1 "$IPM" killed.toml > killed1.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "the aborted run exited 0"
[ "$(wc -l < runs/killed/jobs/killed/metrics.jsonl)" -eq 1 ] || fail "expected 1 epoch of metrics"
"$IPM" killed.toml > killed2.log
grep -q "resuming after epoch 1" killed2.log || fail "the restart did not resume"
grep -q '"test_miou_r"' runs/whole/jobs/whole/metrics.jsonl || fail "no segmentation metrics"
diff <(deterministic_metrics runs/whole/jobs/whole/metrics.jsonl) \
     <(deterministic_metrics runs/killed/jobs/killed/metrics.jsonl) \
  || fail "resumed metrics differ from the uninterrupted run"
pass "segmentation: abort after epoch 1 + restart == uninterrupted"

# Mid-epoch preemption: 32 rows / batch 8 = 4 steps an epoch; stop before step 6 of the job
# (step 2 of epoch 2), then resume. Metrics (timings aside) and parameters as uninterrupted.
stop_and_resume() {  # NAME REFERENCE RANKS
  local name=$1 ref=$2 launch=() hook=(env IPM_TEST_STOP_AT_STEP=6) rc=0
  if [ "$3" -gt 1 ]; then
    launch=("${MPIRUN[@]}" -np "$3")
    hook=("${launch[@]}" -x IPM_TEST_STOP_AT_STEP=6)
  fi
  "${hook[@]}" "$IPM" "$name.toml" --progress 0 > "${name}1.log" 2>&1 || rc=$?
  [ "$rc" -eq 75 ] || fail "$name: stopped run exited $rc, not 75: $(tail -n 5 "${name}1.log")"
  grep -q "stopped (preemption) at step 2/4 of epoch 2; checkpoint written" "${name}1.log" ||
    fail "$name: no stop at step 2 of epoch 2: $(cat "${name}1.log")"
  [ "$(wc -l < "runs/$name/jobs/$name/metrics.jsonl")" -eq 1 ] || fail "$name: metrics ran ahead"
  "${launch[@]}" "$IPM" "$name.toml" --progress 0 > "${name}2.log" 2>&1 ||
    fail "$name: resume failed: $(tail -n 5 "${name}2.log")"
  grep -q "resuming after epoch 1, at step 2/4 of epoch 2" "${name}2.log" ||
    fail "$name: did not resume mid-epoch: $(cat "${name}2.log")"
  diff <(timeless "runs/$ref/jobs/$ref/metrics.jsonl") \
       <(timeless "runs/$name/jobs/$name/metrics.jsonl") ||
    fail "$name: metrics after the mid-epoch resume differ from the uninterrupted run's"
  "$IPM_CKPT_DIFF" "runs/$ref/jobs/$ref/checkpoint.pt" "runs/$name/jobs/$name/checkpoint.pt" 0 \
    > /dev/null || fail "$name: parameters differ from the uninterrupted run's"
}
stop_and_resume stopped whole 1
pass "segmentation: stop at step 2 of epoch 2 + resume == uninterrupted (1 rank)"
"${MPIRUN[@]}" -np 2 "$IPM" whole2.toml --progress 0 > whole2.log 2>&1 || fail "whole2: $(tail -n 5 whole2.log)"
stop_and_resume stopped2 whole2 2
pass "segmentation: stop at step 2 of epoch 2 + resume == uninterrupted (2 ranks)"
