#!/usr/bin/env bash
# Ctrl-C is a graceful stop: the first SIGINT checkpoints at the next step (exit 75, "Ctrl-C
# again to abort"), the rerun resumes to metrics and parameters identical to an
# uninterrupted run, on 1 and on 2 ranks; a second SIGINT kills at once. The interrupted
# runs sleep before each step (IPM_TEST_STEP_DELAY_MS) so the signals land mid-job and
# mid-step however fast the machine trains. (A terminal's
# Ctrl-C reaches every process of the foreground group; mpirun puts each rank in a group
# of its own, so the 2-rank case signals the ranks themselves.)
source "$(dirname "$0")/lib.sh"
d=$(test_dir sigint)
cd "$d"
small_h5 small.h5 960 200
SUITE_DATA=small.h5
suite() {  # suite NAME RANKS [BATCH]
  write_suite "$1.toml" "$1" "[train]" "batch = ${3:-32}" "epochs = 4" 'train_eval = "running"' \
    "[run]" "ranks_per_job = $2"
}
timeless() { sed -E 's/, "(samples_per_s|step_s|comm_s|epoch_s)": [^,}]*//g' "$1"; }
wait_first_epoch() {  # wait_first_epoch NAME PID: until epoch 1 is written
  for _ in $(seq 600); do
    [ -s "runs/$1/jobs/$1/metrics.jsonl" ] && return 0
    kill -0 "$2" 2> /dev/null || fail "$1 ended before its first epoch"
    sleep 0.05
  done
  fail "$1: no epoch after 30 s"
}
same_as() {  # same_as REF NAME
  [ -e "runs/$2/jobs/$2/DONE" ] || fail "$2 is not DONE after the rerun"
  diff <(timeless "runs/$1/jobs/$1/metrics.jsonl") <(timeless "runs/$2/jobs/$2/metrics.jsonl") ||
    fail "$2: metrics differ from the uninterrupted run's"
  "$IPM_CKPT_DIFF" "runs/$1/jobs/$1/checkpoint.pt" "runs/$2/jobs/$2/checkpoint.pt" 0 > /dev/null ||
    fail "$2: parameters differ from the uninterrupted run's"
}
for s in ref1:1 int1:1 ref2:2 int2:2; do suite "${s%:*}" "${s#*:}"; done
suite twice 1 480  # 2 steps an epoch, each 300 ms or more: the second Ctrl-C comes mid-step

# 1 rank: one Ctrl-C.
"$IPM" ref1.toml --progress 0 > ref1.log 2>&1 || fail "ref1: $(tail -n 5 ref1.log)"
IPM_TEST_STEP_DELAY_MS=50 "$IPM" int1.toml --progress 0 > int1.log 2>&1 &
pid=$!
wait_first_epoch int1 "$pid"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 75 ] || fail "1 rank, SIGINT: exit $rc, not 75: $(tail -n 5 int1.log)"
grep -q "stopping after this step; Ctrl-C again to abort" int1.log || fail "no Ctrl-C line: $(cat int1.log)"
grep -q "stopped (preemption) at step" int1.log || fail "no checkpoint: $(cat int1.log)"
"$IPM" int1.toml --progress 0 > int1b.log 2>&1 || fail "resume: $(tail -n 5 int1b.log)"
grep -q "resuming after epoch" int1b.log || fail "no resume: $(cat int1b.log)"
same_as ref1 int1
pass "1 rank: Ctrl-C checkpoints, exit 75, the rerun ends identical to an uninterrupted run"

# A second Ctrl-C aborts at once: killed by SIGINT, no checkpoint of this moment. (Apart in
# time: two pending SIGINTs would merge into one.)
IPM_TEST_STEP_DELAY_MS=300 "$IPM" twice.toml --progress 0 > twice.log 2>&1 &
pid=$!
wait_first_epoch twice "$pid"
kill -INT "$pid"
sleep 0.05
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || fail "two SIGINTs: exit $rc, not 130 (killed by SIGINT): $(tail -n 5 twice.log)"
# (Exit 130, not 75, is the proof: the graceful stop may already have printed its line when
# the second signal lands under load, but it never got to exit 75.)
pass "two Ctrl-C: killed at once (exit 130)"

# 2 ranks: Ctrl-C reaching both ranks.
"${MPIRUN[@]}" -np 2 "$IPM" ref2.toml --progress 0 > ref2.log 2>&1 || fail "ref2: $(tail -n 5 ref2.log)"
"${MPIRUN[@]}" -np 2 -x IPM_TEST_STEP_DELAY_MS=50 "$IPM" int2.toml --progress 0 > int2.log 2>&1 &
pid=$!
wait_first_epoch int2 "$pid"
kill -INT $(pgrep -P "$pid")
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 75 ] || fail "2 ranks, SIGINT: exit $rc, not 75: $(tail -n 5 int2.log)"
[ "$(grep -c "Ctrl-C again to abort" int2.log)" -eq 1 ] || fail "the Ctrl-C line is not printed once: $(cat int2.log)"
"${MPIRUN[@]}" -np 2 "$IPM" int2.toml --progress 0 > int2b.log 2>&1 || fail "resume: $(tail -n 5 int2b.log)"
same_as ref2 int2
pass "2 ranks: Ctrl-C checkpoints, exit 75, the rerun ends identical"
