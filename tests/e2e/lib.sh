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

# The metrics that must not depend on timing: everything but samples_per_s, step_s, epoch_s.
deterministic_metrics() {
  sed -E 's/, "(samples_per_s|step_s|epoch_s)": [^,}]*//g' "$1"
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
