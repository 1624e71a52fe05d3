#!/usr/bin/env bash
# A suite killed mid-way (kill -9 of mpirun) and started again completes with no job trained
# twice and results identical to an uninterrupted run; nothing half-written is read back as
# complete (every file is written to a temporary name and renamed).
source "$(dirname "$0")/lib.sh"
d=$(test_dir suite_resume)
cd "$d"
small_h5 small.h5 512 200
SUITE_DATA=small.h5
suite() {
  write_suite "$1.toml" "$1" "[train]" "lr = 1e-3" "batch = 64" "epochs = 3" \
    'train_eval = "running"' 'normalizer = "global"' "[run]" "ranks_per_job = 1" "[sweep]" \
    '"train.loss" = ["ce", "nll", "qr", "rq"]' '"train.seed" = [0, 1]'
}
suite whole
suite killed
"${MPIRUN[@]}" -np 2 "$IPM" whole.toml > whole.log

count() { find runs/killed/jobs -name "$1" 2>/dev/null | wc -l || true; }
# (steps sleep 30 ms, about 0.7 s a job: the kill lands mid-suite on any machine)
"${MPIRUN[@]}" -np 2 -x IPM_TEST_STEP_DELAY_MS=30 "$IPM" killed.toml > killed1.log 2>&1 &
launcher=$!
for _ in $(seq 600); do  # until 2 jobs are DONE and another is part-way (has a checkpoint)
  [ "$(count DONE)" -ge 2 ] && [ "$(count checkpoint.pt)" -gt "$(count DONE)" ] && break
  sleep 0.05
done
kill -9 "$launcher"
wait "$launcher" 2>/dev/null || true
pkill -9 -f "ipm-dist killed.toml" 2>/dev/null || true
sleep 0.5
done_before=$(find runs/killed/jobs -name DONE | xargs -r -n1 dirname | xargs -r -n1 basename)
finished_before=$(echo "$done_before" | grep -c . || true)
[ "$finished_before" -lt 8 ] || fail "the suite finished before it was killed"
if find runs/killed -name '*.tmp.*' | grep -q .; then
  echo "note: the kill left a temporary file (never read as a result)"
fi

"${MPIRUN[@]}" -np 2 "$IPM" killed.toml > killed2.log
grep -q "already done" killed2.log || fail "restart did not report skipped jobs"
for name in $done_before; do
  ! grep -q "job [0-9]*/8: $name\$" killed2.log || fail "$name was DONE and trained again"
done
for j in runs/killed/jobs/*/; do
  name=$(basename "$j")
  [ -f "$j/DONE" ] || fail "$name not DONE after the restart"
  diff <(deterministic_metrics "runs/whole/jobs/$name/metrics.jsonl") \
       <(deterministic_metrics "$j/metrics.jsonl") || fail "$name differs from the uninterrupted run"
done
diff runs/whole/summary.csv runs/killed/summary.csv || fail "summaries differ"
pass "killed after $finished_before of 8 jobs; restart completed the rest; results identical"
