#!/usr/bin/env bash
# Fixture for the end-to-end tests: packs the real Fashion-MNIST once per build tree.
source "$(dirname "$0")/lib.sh"
mkdir -p "$IPM_WORK"
[ -s "$FM_H5" ] && { pass "already packed: $FM_H5"; exit 0; }
"$IPM" pack idx "$IPM_IDX_DIR" -o "$FM_H5" --class-names T-shirt/top Trouser Pullover Dress \
  Coat Sandal Shirt Sneaker Bag "Ankle boot"
[ -s "$FM_H5" ] || fail "pack wrote nothing"
pass "packed $FM_H5"
