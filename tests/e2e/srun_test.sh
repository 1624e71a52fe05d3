#!/usr/bin/env bash
# Under a real Slurm: `srun --mpi=pmix -n W ipm-dist suite.toml` gets its ranks from Slurm
# (PMIx) and trains the same model as one process; ranks split into job groups as under
# mpirun.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slurm_lib.sh"
d=$(test_dir srun)
cd "$d"
small_h5 small.h5 384 200
SUITE_DATA=small.h5
suite() {  # name ranks_per_job
  write_suite "$1.toml" "$1" "[train]" "batch = 32" "epochs = 2" 'normalizer = "global"' \
    'precision = "float64"' 'train_eval = "running"' "[run]" "ranks_per_job = $2" \
    "[sweep]" '"train.loss" = ["qr", "rq"]'
}
suite one 1
suite two 2
suite groups 2
"$IPM" one.toml --progress 0 > one.log
slurm_start
timeout 120 srun --mpi=pmix -n 2 "$IPM" two.toml --progress 0 > two.log 2>&1 ||
  fail "srun -n 2: $(tail -n 5 two.log)"
for loss in qr rq; do
  ck="jobs/loss=$loss/checkpoint.pt"
  "$IPM_CKPT_DIFF" "runs/one/$ck" "runs/two/$ck" 1e-9 || fail "$loss: srun's 2 ranks trained another model"
  # comm_s > 0: the job really ran on 2 ranks (a 1-rank job all-reduces nothing).
  awk -F'"comm_s": ' 'NR == 1 { split($2, a, ","); exit !(a[1] > 0) }' \
    "runs/two/jobs/loss=$loss/metrics.jsonl" || fail "$loss did not run data-parallel"
done
pass "srun --mpi=pmix -n 2 == one process"
timeout 120 srun --mpi=pmix -n 4 "$IPM" groups.toml --progress 0 > groups.log 2>&1 ||
  fail "srun -n 4: $(tail -n 5 groups.log)"
diff runs/one/summary.csv runs/groups/summary.csv || fail "2 groups of 2 under srun differ"
pass "srun -n 4 in 2 groups of 2 == one process"
# Without srun's MPI plugin every task would be a world of one and train the whole suite into
# the same directory: refused before anything is written.
suite nompi 1
rc=0
timeout 60 srun --mpi=none -n 2 "$IPM" nompi.toml --progress 0 > nompi.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "srun --mpi=none -n 2 trained: $(tail -n 3 nompi.log)"
grep -q "srun started 2 tasks.*--mpi=pmix" nompi.log || fail "no clear refusal: $(cat nompi.log)"
[ ! -e runs/nompi/jobs ] || fail "srun --mpi=none wrote runs/nompi/jobs before refusing"
pass "srun --mpi=none -n 2 refused: $(head -n 1 nompi.log)"
