#!/usr/bin/env bash
# Preemption without Slurm: a stop request (SIGUSR1 to mpirun, which forwards it to every
# rank; or the IPM_TEST_STOP_AT_STEP hook on rank 0 alone) makes the ranks of a 2-rank job
# agree on a step, write a mid-epoch checkpoint and exit with 75; the rerun resumes at that
# step and ends with metrics (all but timings) and parameters identical to an uninterrupted
# run, without retraining jobs that are DONE.
source "$(dirname "$0")/lib.sh"
d=$(test_dir preempt)
cd "$d"
small_h5 small.h5 960 200
SUITE_DATA=small.h5
suite() {
  write_suite "$1.toml" "$1" "[train]" "batch = 32" "epochs = 3" 'train_eval = "running"' \
    "[run]" "ranks_per_job = 2" "[sweep]" '"train.loss" = ["qr", "rq"]'
}
suite ref
suite hook
suite sig
timeless() { sed -E 's/, "(samples_per_s|step_s|comm_s|epoch_s)": [^,}]*//g' "$1"; }
same_as_ref() {  # suite: every job's metrics and parameters equal the uninterrupted run's
  for loss in qr rq; do
    local j="jobs/loss=$loss"
    [ -e "runs/$1/$j/DONE" ] || fail "$1: $loss is not DONE"
    diff <(timeless "runs/ref/$j/metrics.jsonl") <(timeless "runs/$1/$j/metrics.jsonl") ||
      fail "$1: $loss's metrics differ from the uninterrupted run's"
    "$IPM_CKPT_DIFF" "runs/ref/$j/checkpoint.pt" "runs/$1/$j/checkpoint.pt" 0 > /dev/null ||
      fail "$1: $loss's parameters differ from the uninterrupted run's"
  done
}
"${MPIRUN[@]}" -np 2 "$IPM" ref.toml --progress 0 > ref.log 2>&1 || fail "ref: $(tail -n 5 ref.log)"

# 1. Deterministic: rank 0 alone asks to stop before step 40 of the job (step 10 of epoch 2).
rc=0
"${MPIRUN[@]}" -np 2 -x IPM_TEST_STOP_AT_STEP=40 "$IPM" hook.toml --progress 0 > hook1.log 2>&1 ||
  rc=$?
[ "$rc" -eq 75 ] || fail "stopped run exited $rc, not 75: $(tail -n 5 hook1.log)"
grep -q "stopped (preemption) at step 10/30 of epoch 2; checkpoint written" hook1.log ||
  fail "no stop at step 10 of epoch 2: $(cat hook1.log)"
[ "$(wc -l < runs/hook/jobs/loss=qr/metrics.jsonl)" -eq 1 ] || fail "metrics ran ahead"
[ ! -e runs/hook/jobs/loss=qr/DONE ] && [ ! -e runs/hook/jobs/loss=rq ] ||
  fail "the stopped run went on to other work"
"${MPIRUN[@]}" -np 2 "$IPM" hook.toml --progress 0 > hook2.log 2>&1 || fail "resume: $(tail -n 5 hook2.log)"
grep -q "resuming after epoch 1, at step 10/30 of epoch 2" hook2.log || fail "no resume: $(cat hook2.log)"
same_as_ref hook
pass "stop at step 10 of epoch 2 on one rank, resume: identical metrics and parameters"

# 2. A real SIGUSR1 to mpirun while the second job trains: exit 75, the rerun finishes.
# (steps sleep 50 ms: 1.5 s an epoch, so the signal lands mid-job on any machine)
"${MPIRUN[@]}" -np 2 -x IPM_TEST_STEP_DELAY_MS=50 "$IPM" sig.toml --progress 0 > sig1.log 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ -e runs/sig/jobs/loss=qr/DONE ] && [ -s runs/sig/jobs/loss=rq/metrics.jsonl ] && break
  sleep 0.05
done
[ -s runs/sig/jobs/loss=rq/metrics.jsonl ] || fail "the second job never got going: $(tail -n 5 sig1.log)"
kill -USR1 "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 75 ] || fail "SIGUSR1: exit $rc, not 75: $(tail -n 5 sig1.log)"
grep -q "stopped (preemption) at step" sig1.log || fail "no checkpoint on SIGUSR1: $(cat sig1.log)"
[ ! -e runs/sig/jobs/loss=rq/DONE ] || fail "the stopped job is marked DONE"
"${MPIRUN[@]}" -np 2 "$IPM" sig.toml --progress 0 > sig2.log 2>&1 || fail "rerun: $(tail -n 5 sig2.log)"
grep -q "1 trained, 1 already done" sig2.log || fail "rerun retrained a DONE job: $(tail -n 3 sig2.log)"
same_as_ref sig
pass "SIGUSR1 to mpirun: $(grep -o 'stopped (preemption) at step [0-9/]* of epoch [0-9]*' sig1.log); rerun identical"
