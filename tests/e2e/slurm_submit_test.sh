#!/usr/bin/env bash
# `ipm-dist slurm SUITE --submit` under a real single-node Slurm: the rendered script is
# accepted by sbatch, its 2 tasks train the suite's 2 jobs (2 groups of 1 rank) and the
# results equal a local run's. The suite lives in a directory whose name holds a space, '$',
# ';' and a quote, and its name holds quotes, '$', ';' and '#': Slurm must read the job name
# back exactly, and nothing may be expanded or executed.
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
timeless() { sed -E 's/, "(samples_per_s|step_s|comm_s|epoch_s)": [^,}]*//g' "$1"; }
for loss in qr rq; do
  [ -e "$sdir/runs/out dir/jobs/loss=$loss/DONE" ] || fail "$loss: no DONE"
  diff <(timeless "runs/local/jobs/loss=$loss/metrics.jsonl") \
    <(timeless "$sdir/runs/out dir/jobs/loss=$loss/metrics.jsonl") ||
    fail "$loss: the Slurm job's metrics differ from the local run's"
done
pass "the batch job's 2 tasks trained the same models as a local run (log: $log)"
