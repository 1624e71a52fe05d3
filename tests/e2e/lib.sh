# Shared helpers of the end-to-end tests (sourced). Environment from tests/CMakeLists.txt:
#   IPM      the ipm-dist binary          IPM_SRC   the source tree
#   IPM_WORK scratch directory            IPM_IDX_DIR  Fashion-MNIST IDX files
set -euo pipefail
: "${IPM:?}" "${IPM_SRC:?}" "${IPM_WORK:?}"
FM_H5="$IPM_WORK/fashion-mnist.h5"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# A fresh directory for one test.
test_dir() {
  local d="$IPM_WORK/$1"
  rm -rf "$d" && mkdir -p "$d" && echo "$d"
}

# expect_error "what" "pattern" cmd...: the command must exit non-zero with one line on
# stderr matching the pattern (grep -E).
expect_error() {
  local what=$1 pattern=$2
  shift 2
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "$what: exit code 0"
  echo "$err" | grep -Eq -- "$pattern" || fail "$what: error '$err' does not match '$pattern'"
  pass "$what -> $(echo "$err" | head -n 1)"
}

# field FILE N KEY: value of KEY in line N of a metrics.jsonl.
field() {
  sed -n "${2}p" "$1" | sed "s/.*\"$3\": \([^,}]*\).*/\1/"
}

# last_field JOB_DIR KEY: value of KEY in the last line of JOB_DIR/metrics.jsonl.
last_field() {
  field "$1/metrics.jsonl" '$' "$2"
}

# lsr_files FLAGS...: lsr.h5, a small label super-resolution benchmark (`pack lsr`, 400
# training and 100 test images of 32x32, 16x16 blocks; FLAGS added, e.g. --color), and
# broken.h5, the same with the co-occurrence rows rolled by one land class (coarse class c
# of land class d gets the rows of d - 1): a prior that is no longer the data's.
lsr_files() {
  "$IPM" pack lsr "$IPM_IDX_DIR" -o lsr.h5 --train 400 --test 100 --size 32 --block 16 \
    --seed 1 "$@" > /dev/null
  cp lsr.h5 broken.h5
  /usr/bin/python3 -c "
import h5py, numpy as np
f = h5py.File('broken.h5', 'r+')
f['cooccurrence'][...] = np.roll(f['cooccurrence'][...], 3, axis=0)
f.close()"
}

# The metrics that must not depend on timing: everything but samples_per_s, step_s, epoch_s,
# read_wait_s and read_bytes (a resumed epoch reads only its remaining steps).
deterministic_metrics() {
  sed -E 's/, "(samples_per_s|step_s|epoch_s|read_wait_s|read_bytes)": [^,}]*//g' "$1"
}

# The same without comm_s either (a resumed or multi-rank run's all-reduce time).
timeless() {
  sed -E 's/, "(samples_per_s|step_s|comm_s|epoch_s|read_wait_s|read_bytes)": [^,}]*//g' "$1"
}

# write_suite FILE NAME [extra TOML lines...]: a suite on the packed Fashion-MNIST (or on
# $SUITE_DATA when set), writing to runs/NAME.
write_suite() {
  local file=$1 name=$2
  shift 2
  {
    echo "name = \"$name\""
    echo "output = \"runs/$name\""
    echo "[data]"
    echo "file = \"${SUITE_DATA:-$FM_H5}\""
    for line in "$@"; do echo "$line"; done
  } > "$file"
}

# small_h5 FILE TRAIN TEST: the first rows of the packed Fashion-MNIST, for quick runs.
small_h5() {
  /usr/bin/python3 "$IPM_SRC/tools/h5_subset.py" "$FM_H5" "$1" "$2" "$3"
}

MPIRUN=(mpirun --oversubscribe)
