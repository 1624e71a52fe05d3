#!/usr/bin/env bash
# Runs that go bad fail loudly. A diverging job (train.lr = 10) stops at the step its loss
# passes 1000 log L, with one line naming job, epoch, step, rank and cause; it is listed as
# failed, never DONE or in the summary, the suite goes on with the next job (also when a
# group of 2 ranks fails together: no MPI_Abort) and exits 1. Data that would poison
# training is refused before any job starts, with nothing written: a NaN in a float image
# and a label outside 0..num_classes-1, each named by file and row.
source "$(dirname "$0")/lib.sh"
d=$(test_dir bad_values)
cd "$d"
small_h5 small.h5 640 100
SUITE_DATA=small.h5

for ranks in 1 2; do
  name=lr$ranks
  write_suite "$name.toml" "$name" "[train]" "batch = 32" "epochs = 2" \
    "[run]" "ranks_per_job = $ranks" "[sweep]" '"train.lr" = [10.0, 0.001]'
  rc=0
  "${MPIRUN[@]}" -np "$ranks" "$IPM" "$name.toml" --progress 0 > "$name.log" 2> "$name.err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$name: exit $rc, not 1: $(tail -n 5 "$name.err")"
  grep -Eq "job lr=10 failed: diverged: loss .* above 2302.* at epoch 1, step [0-9]+ on rank [01];.*learning rate is too high \(train.lr = 10\)" "$name.err" ||
    fail "$name: no divergence line: $(cat "$name.err")"
  grep -q "2 jobs: 1 trained, 0 already done, 1 failed" "$name.log" || fail "$name: $(tail -n 3 "$name.log")"
  [ -e "runs/$name/jobs/lr=0.001/DONE" ] || fail "$name: the job after the failed one did not train"
  [ ! -e "runs/$name/jobs/lr=10/DONE" ] || fail "$name: the diverged job is DONE"
  ! grep -qs null "runs/$name/jobs/lr=10/metrics.jsonl" || fail "$name: null in metrics"
  grep -q "^10,0,,,,$" "runs/$name/summary.csv" || fail "$name: diverged job in the summary: $(cat "runs/$name/summary.csv")"
  pass "$ranks rank(s): diverged job failed at its step, the suite went on, exit 1"
done

# A rerun does not count the failed job as done: it fails again, the DONE one is skipped.
rc=0
"$IPM" lr1.toml --progress 0 > rerun.log 2> rerun.err || rc=$?
[ "$rc" -eq 1 ] && grep -q "0 trained, 1 already done, 1 failed" rerun.log ||
  fail "rerun: exit $rc: $(tail -n 3 rerun.log)"
pass "rerun: the failed job fails again, the DONE one is skipped"

/usr/bin/python3 -c "
import h5py, numpy as np, shutil
src = h5py.File('small.h5', 'r')
with h5py.File('nan.h5', 'w') as f:
    for k, v in src.attrs.items(): f.attrs[k] = v
    for s in ['train', 'test']:
        x = src[s + '/x'][...].astype(np.float32) / 255
        if s == 'train': x[123, 0, 5, 5] = np.nan
        f.create_dataset(s + '/x', data=x)
        f.create_dataset(s + '/y', data=src[s + '/y'][...])
shutil.copy('small.h5', 'label.h5')
f = h5py.File('label.h5', 'r+')
y = f['test/y'][...]; y[17] = 10; f['test/y'][...] = y
f.close()"
for bad in nan label; do
  SUITE_DATA=$bad.h5 write_suite "$bad.toml" "$bad" "[train]" "batch = 32" "epochs = 1"
done
check_refused() {  # NAME PATTERN
  local rc=0
  "$IPM" "$1.toml" --progress 0 > "$1.log" 2> "$1.err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$1: exit $rc"
  grep -Eq "$2" "$1.err" || fail "$1: '$(cat "$1.err")' does not match '$2'"
  [ "$(wc -l < "$1.err")" -eq 1 ] || fail "$1: more than one line: $(cat "$1.err")"
  ! grep -q "job 1/1" "$1.log" || fail "$1: a job started: $(cat "$1.log")"
  [ ! -e "runs/$1" ] || fail "$1: output written"
  pass "$1 -> $(cat "$1.err")"
}
check_refused nan 'nan\.h5:/train/x: row 123 holds NaN or Inf'
check_refused label 'label\.h5:/test/y: row 17 has label 10, outside 0\.\.9'
