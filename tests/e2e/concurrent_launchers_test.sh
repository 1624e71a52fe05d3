#!/usr/bin/env bash
# Several launchers on one suite output (e.g. the tasks of a Slurm job array) share the work:
# a job is locked (flock on OUTPUT/jobs/<job>/lock) while one trains it, the others take
# the free jobs, wait at the end for the ones held elsewhere, and all end with the same
# complete summary. Each job is trained exactly once; a launcher killed with -9 leaves no
# stale lock: another takes its job over and resumes it from its checkpoint.
source "$(dirname "$0")/lib.sh"
d=$(test_dir concurrent_launchers)
cd "$d"
small_h5 small.h5 640 100
SUITE_DATA=small.h5
write_suite three.toml three "[train]" "batch = 32" "epochs = 3" 'train_eval = "running"' \
  "[sweep]" '"train.seed" = [0, 1, 2, 3]'
write_suite killed.toml killed "[train]" "batch = 32" "epochs = 12" 'train_eval = "running"' \
  "[sweep]" '"train.seed" = [0, 1]'
started() { cat "$@" | grep -Ec '\] job [0-9]+/4: seed=[0-9]+$' || true; }

# 1. Three launchers at once: every job started once over all of them.
pids=()
for i in 1 2 3; do
  "$IPM" three.toml --progress 0 > "three$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  wait "${pids[$((i - 1))]}" || fail "launcher $i: $(tail -n 5 "three$i.log")"
done
[ "$(started three?.log)" -eq 4 ] || fail "jobs started $(started three?.log) times, not 4: $(grep -h '] job' three?.log)"
for s in 0 1 2 3; do
  [ "$(cat three?.log | grep -c "job [0-9]/4: seed=$s$")" -eq 1 ] ||
    fail "seed=$s was trained more than once"
  [ -e "runs/three/jobs/seed=$s/DONE" ] || fail "seed=$s is not DONE"
done
for i in 1 2 3; do
  grep -q "^| 4 | " "three$i.log" || fail "launcher $i's summary is not complete: $(cat "three$i.log")"
done
pass "3 launchers: each job trained once, every launcher printed the complete summary"

# 2. Two launchers; the first is killed with -9 while training: the second takes its job.
# (each step of launcher 1 sleeps 20 ms: the job outlives the kill on any machine)
IPM_TEST_STEP_DELAY_MS=20 "$IPM" killed.toml --progress 0 > killed1.log 2>&1 &
p1=$!
for _ in $(seq 600); do
  ls runs/killed/jobs/*/metrics.jsonl > /dev/null 2>&1 && break
  sleep 0.05
done
job=$(basename "$(dirname "$(ls runs/killed/jobs/*/metrics.jsonl | head -n 1)")")
[ -n "$job" ] || fail "launcher 1 never trained an epoch: $(cat killed1.log)"
"$IPM" killed.toml --progress 0 > killed2.log 2>&1 &
p2=$!
for _ in $(seq 600); do
  grep -q "$job is being trained by another launcher" killed2.log && break
  sleep 0.05
done
[ ! -e "runs/killed/jobs/$job/DONE" ] || fail "too slow: $job finished before the kill (make epochs longer)"
kill -9 "$p1"
wait "$p1" || true
wait "$p2" || fail "launcher 2: $(tail -n 5 killed2.log)"
grep -q "\[$job\] resuming after epoch" killed2.log || fail "launcher 2 did not resume $job: $(cat killed2.log)"
for s in 0 1; do [ -e "runs/killed/jobs/seed=$s/DONE" ] || fail "seed=$s is not DONE"; done
grep -q "^| 2 | " killed2.log || fail "summary not complete: $(cat killed2.log)"
pass "kill -9 of a launcher: no stale lock, the other resumed $job and finished the suite"
