#!/usr/bin/env bash
# Whether a job is DONE (or locked by another launcher) is decided by the group's rank 0 and
# broadcast: ranks that see the shared filesystem differently (NFS attribute caching) must
# not split up, one training while another skips, and hang in their collectives. The hook
# IPM_TEST_FAKE_DONE_RANK=r makes rank r see every job as DONE.
source "$(dirname "$0")/lib.sh"
d=$(test_dir done_by_rank0)
cd "$d"
small_h5 small.h5 320 100
SUITE_DATA=small.h5
for name in one zero; do
  write_suite "$name.toml" "$name" "[train]" "batch = 32" "epochs = 1" "[run]" "ranks_per_job = 2"
done
# Rank 1 sees a DONE that rank 0 does not: the group trains the job, together.
timeout 120 "${MPIRUN[@]}" -np 2 -x IPM_TEST_FAKE_DONE_RANK=1 "$IPM" one.toml --progress 0 \
  > one.log 2>&1 || fail "rank 1 seeing DONE: $(tail -n 5 one.log)"
grep -q "1 jobs: 1 trained, 0 already done" one.log && [ -e runs/one/jobs/one/DONE ] ||
  fail "the group did not train the job: $(tail -n 5 one.log)"
# Rank 0 sees it: the whole group skips it.
timeout 120 "${MPIRUN[@]}" -np 2 -x IPM_TEST_FAKE_DONE_RANK=0 "$IPM" zero.toml --progress 0 \
  > zero.log 2>&1 || fail "rank 0 seeing DONE: $(tail -n 5 zero.log)"
grep -q "1 jobs: 0 trained, 1 already done" zero.log || fail "the group did not skip: $(tail -n 5 zero.log)"
pass "rank 0's view of DONE decides for its group (no split, no hang)"

# --dry-run lists a job whose lock another process holds as running.
mkdir -p runs/zero/jobs/zero
exec 9> runs/zero/jobs/zero/lock  # this shell holds the lock, as a training launcher would
flock -n 9 || fail "cannot take the lock"
"$IPM" run zero.toml --dry-run | grep -q "^running	zero" || fail "dry run: $("$IPM" run zero.toml --dry-run)"
exec 9>&-
"$IPM" run zero.toml --dry-run | grep -q "^todo	zero" || fail "dry run after release: $("$IPM" run zero.toml --dry-run)"
pass "dry run: a locked job is 'running', 'todo' once released"
