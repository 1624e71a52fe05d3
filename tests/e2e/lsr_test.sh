#!/usr/bin/env bash
# Label super-resolution end to end (§4.3): generate a small benchmark (`pack lsr`), train the
# FCN from 16x16-block coarse labels through p(l | c) with Eq. 5's free energy, CE on the soft
# prior and the hard naive baseline (CE on the prior's argmax) in one suite, plus the free
# energy on a *broken* prior (co-occurrence rows rolled by one land class), and check:
#   * the free energy beats hard naive in pixel accuracy and mean IoU, and beats CE on the
#     soft prior in mean IoU (it predicts the thin "road" class, which neither baseline's
#     mode does);
#   * its r (q reweighted by the prior, Eq. 3) on test is well above chance;
#   * the broken prior leaves q far below: a prior that is not used cannot pass.
# Exact QR / RQ (Eq. 4) are not asserted here: on grey textures they collapse to confident
# assignments that ignore the prior (docs/segmentation.md, docs/results.md);
# lsr_color_test.sh asserts them on the colour benchmark.
# Measured (400 training images, 10 epochs, 1 thread): free_energy 0.543 / mIoU 0.355 (r on
# test 0.602), ce 0.554 / 0.330, hard_ce 0.509 / 0.292; broken prior 0.136. ~50 s.
source "$(dirname "$0")/lib.sh"
d=$(test_dir lsr)
cd "$d"
lsr_files
suite() {
  SUITE_DATA="$d/$2" write_suite "$1" "${1%.toml}" "[model]" "arch = \"fcn\"" "width = 16" \
    "[prior]" "kind = \"coarse\"" "smoothing = 1e-4" "[train]" "lr = 1e-3" "batch = 8" \
    "epochs = ${LSR_EPOCHS:-10}" "q_smoothing = 1e-4" "train_eval = \"running\"" "${@:3}"
}
suite lsr.toml lsr.h5 "[sweep]" '"train.loss" = ["free_energy", "ce", "hard_ce"]'
suite broken.toml broken.h5 'loss = "free_energy"'
"$IPM" lsr.toml > lsr.log
"$IPM" broken.toml > broken.log
j=runs/lsr/jobs
fe_acc=$(last_field $j/loss=free_energy test_acc); fe_iou=$(last_field $j/loss=free_energy test_miou)
fe_r=$(last_field $j/loss=free_energy test_acc_r)
ce_acc=$(last_field $j/loss=ce test_acc); ce_iou=$(last_field $j/loss=ce test_miou)
hd_acc=$(last_field $j/loss=hard_ce test_acc); hd_iou=$(last_field $j/loss=hard_ce test_miou)
br_acc=$(last_field runs/broken/jobs/broken test_acc)
echo "test pixel acc / mIoU: free_energy $fe_acc / $fe_iou (r acc $fe_r), ce $ce_acc / $ce_iou," \
  "hard_ce $hd_acc / $hd_iou; broken prior: $br_acc"
awk -v fa="$fe_acc" -v fi="$fe_iou" -v fr="$fe_r" -v ca="$ce_acc" -v ci="$ce_iou" \
    -v ha="$hd_acc" -v hi="$hd_iou" -v ba="$br_acc" 'BEGIN {
  bad = 0
  if (fa < ha + 0.02) { print "FAIL: free_energy acc " fa " not 0.02 above hard_ce " ha; bad = 1 }
  if (fi < hi + 0.03) { print "FAIL: free_energy mIoU " fi " not 0.03 above hard_ce " hi; bad = 1 }
  if (fi < ci + 0.01) { print "FAIL: free_energy mIoU " fi " not 0.01 above ce " ci; bad = 1 }
  if (fr < 0.55) { print "FAIL: free_energy r on test " fr " < 0.55 (chance ~0.28)"; bad = 1 }
  if (ba > fa - 0.15) { print "FAIL: broken prior reaches " ba ", within 0.15 of " fa; bad = 1 }
  exit bad
}' || exit 1
pass "free_energy beats hard naive (acc, mIoU) and CE on the soft prior (mIoU); broken prior fails"
