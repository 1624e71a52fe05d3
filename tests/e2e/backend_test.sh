#!/usr/bin/env bash
# run.backend through the real command line, on a machine without a GPU (or a build without
# NCCL): "nccl" is refused at start-up with one line naming the key, single-process and under
# mpirun (every rank stops, none hangs, nothing is trained); "auto" falls back to MPI and
# trains without a word (a CPU node is the expected case: issue 14.5); "mpi" says nothing. On a GPU node with an NCCL build
# the refusal cannot happen: run tests/e2e/dist_invariance_test.sh with IPM_BACKEND=nccl.
source "$(dirname "$0")/lib.sh"
if command -v nvidia-smi > /dev/null && nvidia-smi -L 2> /dev/null | grep -q GPU; then
  echo "skip: this node has a GPU (see docs/gpu-clusters.md)"
  exit 0
fi
d=$(test_dir backend)
cd "$d"
small_h5 small.h5 256 100
suite() {  # name backend ranks_per_job
  { echo "name = \"$1\""; echo "output = \"runs/$1\""; echo "[data]"; echo "file = \"small.h5\""
    echo "[train]"; echo "batch = 64"; echo "epochs = 1"; echo "train_eval = \"running\""
    echo "[run]"; echo "backend = \"$2\""; echo "ranks_per_job = $3"; } > "$1.toml"
}
why='(this ipm-dist was built against a CPU-only LibTorch|this ipm-dist was built without NCCL'
why="$why|no CUDA device is visible)"
refusal="run\\.backend = \"nccl\": $why"

# 1. nccl, one process: one error line, exit 1, no job directory.
suite one nccl 1
expect_error "nccl without a GPU" "^ipm-dist: error: $refusal" "$IPM" one.toml --progress 0
[ "$("$IPM" one.toml --progress 0 2>&1 >/dev/null | wc -l)" -eq 1 ] || fail "more than one line"
[ ! -e runs/one/jobs/one ] || fail "a job directory was created before the refusal"

# 2. nccl under mpirun: every rank refuses at start-up; the run ends quickly, nothing trained.
suite two nccl 2
rc=0
timeout 60 "${MPIRUN[@]}" -np 2 "$IPM" two.toml --progress 0 > two.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "nccl on 2 ranks: exit $rc (124 = hung)"
grep -Eq "rank [01]: error: $refusal" two.log || fail "no refusal naming the key: $(cat two.log)"
[ ! -e runs/two/jobs/two ] || fail "a job directory was created before the refusal"
pass "nccl on 2 ranks refused: $(grep -m1 -E 'error: run.backend' two.log)"

# 3. auto on 4 ranks (2 groups) on this GPU-less node: MPI on the CPU is the expected case,
#    so nothing is said about it (issue 14.5), and training runs.
suite auto auto 2
"${MPIRUN[@]}" -np 4 "$IPM" auto.toml --progress 0 > auto.out 2> auto.err ||
  fail "auto on 4 ranks failed: $(cat auto.err)"
! grep -q 'run.backend' auto.err || fail "auto on a CPU node should be silent: $(cat auto.err)"
[ -e runs/auto/jobs/auto/DONE ] || fail "auto: the job did not finish"
pass "auto on 4 ranks without a GPU trains and is silent"

# 4. auto in one process is silent too; so is mpi.
suite auto1 auto 1
"$IPM" auto1.toml --progress 0 > /dev/null 2> auto1.err || fail "auto, 1 process: $(cat auto1.err)"
! grep -q 'run.backend' auto1.err || fail "auto in one process should be silent: $(cat auto1.err)"
suite mpi mpi 2
"${MPIRUN[@]}" -np 2 "$IPM" mpi.toml --progress 0 > /dev/null 2> mpi.err ||
  fail "mpi on 2 ranks failed: $(cat mpi.err)"
! grep -q 'run.backend' mpi.err || fail "mpi should say nothing: $(cat mpi.err)"
pass "auto in one process and mpi are silent"
