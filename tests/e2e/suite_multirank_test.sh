#!/usr/bin/env bash
# A suite of 6 jobs on 4 ranks in groups of 2: the groups take jobs as they free up, every
# job trains exactly once, and the summary equals the same suite run in one process (float64,
# global normalizer: the data-parallel jobs train the same models as single-rank ones).
source "$(dirname "$0")/lib.sh"
d=$(test_dir suite_multirank)
cd "$d"
small_h5 small.h5 384 300
SUITE_DATA=small.h5
suite() {  # name ranks_per_job
  write_suite "$1.toml" "$1" "[train]" "lr = 1e-3" "batch = 32" "epochs = 2" \
    'normalizer = "global"' 'precision = "float64"' 'train_eval = "running"' "[run]" \
    "ranks_per_job = $2" "[sweep]" '"train.loss" = ["ce", "qr", "rq"]' '"train.seed" = [0, 1]'
}
suite one 1
suite four 2
"$IPM" one.toml > one.log
"${MPIRUN[@]}" -np 4 "$IPM" four.toml > four.log
for j in runs/four/jobs/*/; do
  [ -f "$j/DONE" ] || fail "$j not DONE"
  [ "$(wc -l < "$j/metrics.jsonl")" -eq 2 ] || fail "$j trained more or less than 2 epochs"
done
[ "$(ls runs/four/jobs | wc -l)" -eq 6 ] || fail "expected 6 job directories"
[ "$(grep -c '\] job [0-9]/6: ' four.log)" -eq 6 ] || fail "jobs started $(grep -c '\] job [0-9]/6: ' four.log) times, not 6"
[ "$(grep '\] job [0-9]/6: ' four.log | sort -u | wc -l)" -eq 6 ] || fail "a job started twice"
diff runs/one/summary.csv runs/four/summary.csv || fail "summaries differ between 1 rank and 4 ranks in groups of 2"
pass "6 jobs on 2 groups of 2 ranks, each once; summary == single process"

# Re-running trains nothing.
"${MPIRUN[@]}" -np 4 "$IPM" four.toml > again.log
grep -q "0 trained, 6 already done" again.log || fail "rerun trained again: $(tail -n 1 again.log)"
pass "rerun skips DONE jobs"
