#!/usr/bin/env bash
# `ipm-dist slurm SUITE --submit` under a real single-node Slurm: the rendered script is
# accepted by sbatch, its 2 tasks train the suite's 2 jobs (2 groups of 1 rank) and the
# results equal a local run's. The suite lives in a directory whose name holds a space, '$',
# ';' and a quote, and its name holds quotes, '$', ';' and '#': Slurm must read the job name
# back exactly, and nothing may be expanded or executed. Then `--array 2`: two array tasks of
# one rank, each training its slice (one job), again equal to the local run.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slurm_lib.sh"
d=$(test_dir slurm_submit)
cd "$d"
small_h5 small.h5 384 200
body() {  # the suite's jobs, the same for both runs
  printf '%s\n' "[data]" "file = \"$d/small.h5\"" "[train]" "batch = 32" "epochs = 2" \
    'train_eval = "running"' "[sweep]" '"train.loss" = ["qr", "rq"]'
}
sdir="$d/my suites \$HOME;'q"
mkdir -p "$sdir"
name='it'"'"'s "q" $x; #1'
{ echo 'name = "it'"'"'s \"q\" $x; #1"'; echo 'output = "runs/out dir"'; body
  printf '%s\n' "[slurm]" "ntasks_per_node = 2" "time = 5"; } > "$sdir/sub.toml"
{ echo 'name = "local"'; echo 'output = "runs/local"'; body; } > local.toml
{ echo 'name = "arr"'; echo 'output = "runs/arr"'; body; } > arr.toml
"$IPM" local.toml --progress 0 > local.log

slurm_start
out=$("$IPM" slurm "$sdir/sub.toml" --submit) || fail "ipm-dist slurm --submit: $out"
echo "$out"
script=$(sed -n 's/^wrote //p' <<< "$out")
id=$(sed -n 's/^submitted batch job //p' <<< "$out")
log=$(sed -n 's/^log: //p' <<< "$out")
[ "$script" = "$sdir/runs/out dir/slurm/it_s__q___x___1.sbatch" ] || fail "script at '$script'"
[ -n "$id" ] || fail "no job id in: $out"
got_name=$(scontrol show job "$id" | sed -n 's/^JobId=[0-9]* JobName=//p')
[ "$got_name" = "$name" ] || fail "Slurm read the job name as '$got_name', not '$name'"
pass "sbatch accepted the script; job $id is named exactly '$name'"
state=$(slurm_wait_job "$id" 90)
[ "$state" = COMPLETED ] || fail "job $id ended $state: $(tail -n 5 "$log" 2>/dev/null)"
[ -s "$log" ] || fail "no log at $log"
grep -q "2 jobs: 2 trained" "$log" || fail "log: $(tail -n 5 "$log")"
[ ! -e "$d/pwned" ] && [ ! -e "$sdir/pwned" ] || fail "something was executed"
for loss in qr rq; do
  [ -e "$sdir/runs/out dir/jobs/loss=$loss/DONE" ] || fail "$loss: no DONE"
  diff <(timeless "runs/local/jobs/loss=$loss/metrics.jsonl") \
    <(timeless "$sdir/runs/out dir/jobs/loss=$loss/metrics.jsonl") ||
    fail "$loss: the Slurm job's metrics differ from the local run's"
done
pass "the batch job's 2 tasks trained the same models as a local run (log: $log)"

out=$("$IPM" slurm arr.toml --array 2 --ntasks-per-node 1 --time 5 --submit) || fail "--array 2: $out"
id=$(sed -n 's/^submitted batch job //p' <<< "$out")
grep -q '^#SBATCH --array=0-1$' runs/arr/slurm/arr.sbatch || fail "no --array line"
for task in 0 1; do
  state=$(slurm_wait_job "${id}_$task" 90)
  [ "$state" = COMPLETED ] || fail "array task $task ended $state: $(tail -n 5 runs/arr/slurm/arr_$task.log)"
  grep -q "2 jobs (slice $task/2): 1 trained" "runs/arr/slurm/arr_$task.log" ||
    fail "array task $task: $(tail -n 3 runs/arr/slurm/arr_$task.log)"
done
for loss in qr rq; do
  diff <(timeless "runs/local/jobs/loss=$loss/metrics.jsonl") \
    <(timeless "runs/arr/jobs/loss=$loss/metrics.jsonl") || fail "array: $loss differs"
done
pass "--array 2: each array task trained its slice (one job each), same models as a local run"
