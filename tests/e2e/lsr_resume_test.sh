#!/usr/bin/env bash
# Segmentation resume is exact: a job aborted right after epoch 1 and restarted ends with the
# same metrics (pixel accuracy, mIoU of q and r, loss, parameter norm) as an uninterrupted one.
source "$(dirname "$0")/lib.sh"
d=$(test_dir lsr_resume)
cd "$d"
"$IPM" pack lsr "$IPM_IDX_DIR" -o tiny.h5 --train 32 --test 8 --size 16 --block 8 --seed 3 \
  > /dev/null
common=("[model]" "arch = \"fcn\"" "width = 4" "[prior]" "kind = \"coarse\"" "blur = 1.0"
        "smoothing = 1e-4" "[train]" "loss = \"qr\"" "lr = 1e-2" "batch = 8" "epochs = 3"
        "q_smoothing = 1e-4")
SUITE_DATA="$d/tiny.h5" write_suite whole.toml whole "${common[@]}"
SUITE_DATA="$d/tiny.h5" write_suite killed.toml killed "${common[@]}"
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
