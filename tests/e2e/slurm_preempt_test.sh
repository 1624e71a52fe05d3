#!/usr/bin/env bash
# Preemption under a real single-node Slurm: a suite submitted with `ipm-dist slurm --submit`
# (one 2-rank job group, 2 jobs) gets `scancel --signal=USR1 --batch` while its second job
# trains. The batch shell forwards USR1 through srun to both ranks, they checkpoint mid-epoch
# and exit 75, the script runs `scontrol requeue`, and the requeued job (its BeginTime delay
# lifted by slurm_wait_job) resumes, skips the DONE job and ends with the same metrics and
# parameters as an uninterrupted srun of the suite. Each step of the submitted run sleeps
# 100 ms (IPM_TEST_STEP_DELAY_MS, exported through sbatch and srun): 3 s per epoch, so the
# signal lands mid-job however fast the machine trains.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slurm_lib.sh"
d=$(test_dir slurm_preempt)
cd "$d"
small_h5 small.h5 960 200
SUITE_DATA=small.h5
suite() {
  write_suite "$1.toml" "$1" "[train]" "batch = 32" "epochs = 3" 'train_eval = "running"' \
    "[run]" "ranks_per_job = 2" "[sweep]" '"train.loss" = ["qr", "rq"]' "[slurm]" "time = 5"
}
suite ref
suite pre
slurm_start
timeout 120 srun --mpi=pmix -n 2 "$IPM" ref.toml --progress 0 > ref.log 2>&1 ||
  fail "uninterrupted srun: $(tail -n 5 ref.log)"
out=$(IPM_TEST_STEP_DELAY_MS=100 "$IPM" slurm pre.toml --submit) || fail "ipm-dist slurm --submit: $out"
id=$(sed -n 's/^submitted batch job //p' <<< "$out")
log=$(sed -n 's/^log: //p' <<< "$out")
for _ in $(seq 600); do
  [ -e runs/pre/jobs/loss=qr/DONE ] && [ -s runs/pre/jobs/loss=rq/metrics.jsonl ] && break
  sleep 0.05
done
[ -s runs/pre/jobs/loss=rq/metrics.jsonl ] || fail "job $id never reached its second job: $(tail -n 5 "$log")"
scancel --signal=USR1 --batch "$id"
state=$(slurm_wait_job "$id" 90)
[ "$state" = COMPLETED ] || fail "job $id ended $state: $(tail -n 8 "$log")"
grep -q "got SIGUSR1" "$log" || fail "the batch shell saw no USR1: $(cat "$log")"
grep -q "stopped (preemption) at step" "$log" || fail "no mid-run checkpoint: $(cat "$log")"
grep -q "requeueing job $id" "$log" || fail "no requeue: $(cat "$log")"
grep -q "(restart 1)" "$log" || fail "the job did not run again: $(cat "$log")"
grep -q "\[loss=rq\] resuming after epoch" "$log" || fail "no resume: $(cat "$log")"
grep -q "1 trained, 1 already done" "$log" || fail "the DONE job was retrained: $(tail -n 3 "$log")"
timeless() { sed -E 's/, "(samples_per_s|step_s|comm_s|epoch_s)": [^,}]*//g' "$1"; }
for loss in qr rq; do
  j="jobs/loss=$loss"
  diff <(timeless "runs/ref/$j/metrics.jsonl") <(timeless "runs/pre/$j/metrics.jsonl") ||
    fail "$loss: metrics differ from the uninterrupted run's"
  "$IPM_CKPT_DIFF" "runs/ref/$j/checkpoint.pt" "runs/pre/$j/checkpoint.pt" 0 > /dev/null ||
    fail "$loss: parameters differ from the uninterrupted run's"
done
pass "scancel --signal=USR1 --batch: $(grep -o 'stopped (preemption) at step [0-9/]* of epoch [0-9]*' "$log"), requeued, resumed; identical to an uninterrupted run"
