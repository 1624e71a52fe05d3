#!/usr/bin/env bash
# Bad input for segmentation from coarse labels: each case must fail before training with one
# clear line naming the file, dataset or key, and write no output for the job.
source "$(dirname "$0")/lib.sh"
d=$(test_dir lsr_bad_input)
cd "$d"
PY=/usr/bin/python3

expect_error "pack lsr: block does not divide size" "--block 5 must divide --size 32" \
  "$IPM" pack lsr "$IPM_IDX_DIR" -o x.h5 --size 32 --block 5
[ ! -e x.h5 ] || fail "pack lsr left x.h5 behind"
expect_error "pack lsr: class out of range" "--classes: 11 is not a Fashion-MNIST class" \
  "$IPM" pack lsr "$IPM_IDX_DIR" -o x.h5 --classes 1,2,11
"$IPM" pack lsr "$IPM_IDX_DIR" -o good.h5 --train 8 --test 4 --size 32 --block 8 --classes 1,8,7 \
  > /dev/null

# mutate FILE PYTHON: a copy of good.h5 changed by the Python statements (f = the h5py File).
mutate() {
  cp good.h5 "$1"
  $PY -c "import h5py, numpy as np
f = h5py.File('$1', 'r+')
$2
f.close()"
}
suite() {  # [ARCH=.. KIND=..] suite FILE DATA [extra lines]
  local file=$1 data=$2
  shift 2
  SUITE_DATA="$d/$data" write_suite "$file" "${file%.toml}" "[model]" "arch = \"${ARCH:-fcn}\"" \
    "width = 4" "[prior]" "kind = \"${KIND:-coarse}\"" "smoothing = 1e-4" "[train]" "batch = 4" \
    "epochs = 1" "$@"
}

mutate wide.h5 "c = f['cooccurrence'][...]; del f['cooccurrence']; f['cooccurrence'] = np.ones((c.shape[0], 4), np.float32)"
suite wide.toml wide.h5
expect_error "co-occurrence of the wrong shape" \
  "wide.h5:/cooccurrence: co-occurrence matrix has shape \[6, 4\] but the data has 3 classes" \
  "$IPM" wide.toml

mutate zerocol.h5 "f['cooccurrence'][:, 2] = 0"
suite zerocol.toml zerocol.h5
expect_error "co-occurrence with a zero column" \
  "zerocol.h5:/cooccurrence: column 2 of the co-occurrence matrix is all zero" "$IPM" zerocol.toml

mutate nocooc.h5 "del f['cooccurrence']"
suite nocooc.toml nocooc.h5
expect_error "no co-occurrence matrix" "nocooc.h5: no dataset '/cooccurrence'" "$IPM" nocooc.toml

mutate notile.h5 "del f['train/coarse']; f['train/coarse'] = np.zeros((8, 3, 3), np.int32)"
suite notile.toml notile.h5
expect_error "coarse map that does not tile" \
  "notile.h5:/train/coarse: a 3x3 coarse map does not tile the 32x32 image" "$IPM" notile.toml

mutate range.h5 "f['test/coarse'][2, 1, 3] = 99"
suite range.toml range.h5
expect_error "coarse label out of range" \
  "range.h5:/test/coarse: sample 2: coarse label 99 is outside 0..5" "$IPM" range.toml

mutate zerorow.h5 "c = f['train/coarse'][0, 0, 0]; f['cooccurrence'][c, :] = 0"
suite zerorow.toml zerorow.h5
expect_error "all-zero row in use" "/train/coarse: sample 0: coarse class [0-9]+ has an all-zero row" \
  "$IPM" zerorow.toml

mutate nocoarse.h5 "del f['train/coarse']"
suite nocoarse.toml nocoarse.h5
expect_error "no coarse labels" "nocoarse.h5:/train: prior.kind = \"coarse\" but the split has no 'coarse'" \
  "$IPM" nocoarse.toml

ARCH=small_cnn suite cnn.toml good.h5
expect_error "per-image model on per-pixel labels" 'model.arch = "small_cnn" predicts one label per image' \
  "$IPM" cnn.toml

KIND=negative suite neg.toml good.h5
expect_error "classification prior on segmentation data" \
  'prior.kind = "negative" is for classification' "$IPM" neg.toml

# The other way round: coarse priors and the FCN need per-pixel labels.
SUITE_DATA="$FM_H5" write_suite fmcoarse.toml fmcoarse "[prior]" "kind = \"coarse\""
expect_error "coarse prior on classification data" 'prior.kind = "coarse" needs per-pixel labels' \
  "$IPM" fmcoarse.toml
SUITE_DATA="$FM_H5" write_suite fmfcn.toml fmfcn "[model]" "arch = \"fcn\""
expect_error "fcn on classification data" 'model.arch = "fcn" predicts per-pixel labels' \
  "$IPM" fmfcn.toml

for job in wide zerocol nocooc notile range zerorow nocoarse cnn neg; do
  [ ! -e "runs/$job/jobs" ] || [ -z "$(ls -A "runs/$job/jobs" 2>/dev/null)" ] ||
    fail "$job: job output written despite the error"
done
pass "no job output after any error"
