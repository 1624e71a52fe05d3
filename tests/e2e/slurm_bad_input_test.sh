#!/usr/bin/env bash
# `ipm-dist slurm` refuses bad input with one clear line and exit 1, and writes nothing:
# unknown [slurm] keys, bad values in the file and on the command line, hostile strings,
# a task count that does not fit ranks_per_job; `--submit` where sbatch is missing or
# refuses names the problem (the script itself is complete: it was renamed into place
# before sbatch ran).
source "$(dirname "$0")/lib.sh"
d=$(test_dir slurm_bad_input)
cd "$d"
small_h5 small.h5 64 32
SUITE_DATA=small.h5
write_suite ok.toml ok "[train]" "batch = 32" "epochs = 1" "[slurm]" 'partition = "debug"'
nothing_written() { [ ! -e runs/"$1"/slurm ] || fail "$1: something was written: $(ls -R runs/"$1")"; }

write_suite typo.toml typo "[slurm]" 'partiton = "gpu"'
expect_error "unknown [slurm] key" "typo.toml:6: unknown key 'slurm.partiton' \(did you mean 'slurm.partition'\?\)" \
  "$IPM" slurm typo.toml
nothing_written typo
write_suite nodes.toml nodes "[slurm]" "nodes = 0"
expect_error "slurm.nodes = 0" "nodes.toml:6: slurm.nodes = 0: must be an integer from 1" "$IPM" slurm nodes.toml
write_suite time.toml time "[slurm]" 'time = "1:60"'
expect_error "bad time" "time.toml:6: slurm.time = 1:60: not a Slurm time" "$IPM" slurm time.toml
write_suite part.toml part "[slurm]" 'partition = "gpu; touch pwned"'
expect_error "hostile partition in the file" "slurm.partition = 'gpu; touch pwned': not a Slurm name" \
  "$IPM" slurm part.toml
for f in nodes time part; do nothing_written $f; done
# run.backend decides the GPU request: a table that would put two ranks on a GPU, or hold
# GPUs for an MPI run, is refused before anything is written.
write_suite share.toml share "[train]" "batch = 32" "[run]" 'backend = "nccl"' "[slurm]" "gpus_per_node = 1" \
  "ntasks_per_node = 2"
expect_error "two ranks per GPU" "share.toml: \[slurm\]: gpus_per_node = 1 but ntasks_per_node = 2: run.backend = \"nccl\" runs one rank per GPU" \
  "$IPM" slurm share.toml
write_suite idle.toml idle "[train]" "batch = 32" "[run]" 'backend = "mpi"' "[slurm]" "gpus_per_node = 2"
expect_error "GPUs for mpi" "idle.toml: \[slurm\]: gpus_per_node = 2 with run.backend = \"mpi\"" \
  "$IPM" slurm idle.toml
expect_error "--gpus-per-node for mpi" "gpus_per_node = 4 with run.backend = \"mpi\"" \
  "$IPM" slurm idle.toml --gpus-per-node 4
for f in share idle; do nothing_written $f; done
write_suite gpu.toml gpu "[train]" "batch = 32" "[run]" 'backend = "nccl"' "ranks_per_job = 2"
"$IPM" slurm gpu.toml > /dev/null 2> gpu.err || fail "nccl suite: $(cat gpu.err)"
grep -q -- '--gpus-per-node=2' runs/gpu/slurm/gpu.sbatch || fail "nccl suite asks for no GPUs"
"$IPM" slurm ok.toml > /dev/null 2> ok.err || fail "ok.toml: $(cat ok.err)"
grep -q 'note: run.backend = "auto" and no gpus_per_node: the script asks for no GPU.*partition debug' ok.err ||
  fail "auto on a CPU partition said nothing: $(cat ok.err)"
rm -rf runs/ok
pass "the GPU request follows run.backend"
expect_error "hostile --partition" "--partition = 'a b\\\$\(touch pwned\)': not a Slurm name" \
  "$IPM" slurm ok.toml --partition 'a b$(touch pwned)'
expect_error "--cpus-per-task two" "--cpus-per-task = two: must be an integer" \
  "$IPM" slurm ok.toml --cpus-per-task two
expect_error "--time 25:00:61" "--time = 25:00:61: not a Slurm time" "$IPM" slurm ok.toml --time 25:00:61
expect_error "--launcher ssh" "--launcher = ssh: must be srun or mpirun" "$IPM" slurm ok.toml --launcher ssh
expect_error "signal after the start" "warning signal 120 s before the end would come before the job starts" \
  "$IPM" slurm ok.toml --time 2
expect_error "--job-name with a newline" "--job-name = \\\$'a\\\\nb': must be 1 to 200 characters without control" \
  "$IPM" slurm ok.toml --job-name "$(printf 'a\nb')"
expect_error "--array 3 for one job" "--array = 3: more array tasks than the suite's 1 jobs" \
  "$IPM" slurm ok.toml --array 3
expect_error "--slice 2/2" "--slice 2/2: expected I/N with 0 <= I < N" "$IPM" run ok.toml --slice 2/2
write_suite two.toml two "[train]" "batch = 32" "[run]" "ranks_per_job = 2"
expect_error "3 tasks for groups of 2" "= 3 ranks, not a multiple of run.ranks_per_job = 2" \
  "$IPM" slurm two.toml --ntasks-per-node 3
write_suite nodata.toml nodata
sed -i 's|small.h5|missing.h5|' nodata.toml
expect_error "missing data file" "missing.h5" "$IPM" slurm nodata.toml
for f in ok two nodata; do nothing_written $f; done
[ ! -e pwned ] || fail "a hostile value was executed"

# sbatch missing from PATH, then a fake sbatch that refuses.
rc=0
err=$(PATH=/nonexistent "$IPM" slurm ok.toml --submit 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 1 ] || fail "sbatch missing: exit $rc"
grep -q "cannot run sbatch: No such file or directory (is this a Slurm login node? sbatch is not on PATH)" <<< "$err" ||
  fail "sbatch missing: '$err'"
pass "sbatch missing -> $err"
mkdir -p bin
printf '#!/bin/sh\necho "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2\nexit 1\n' > bin/sbatch
chmod +x bin/sbatch
expect_error "sbatch refuses" "sbatch refused .*ok.sbatch \(exit 1\): sbatch: error: Batch job submission failed: Invalid partition name specified" \
  env PATH="$d/bin:$PATH" "$IPM" slurm ok.toml --submit
printf '#!/bin/sh\necho "not a job id"\n' > bin/sbatch
expect_error "sbatch prints no id" "sbatch printed no job id" env PATH="$d/bin:$PATH" "$IPM" slurm ok.toml --submit
# What is there is the whole script, never a temporary.
[ "$(ls runs/ok/slurm)" = ok.sbatch ] || fail "stray files: $(ls runs/ok/slurm)"
tail -n 1 runs/ok/slurm/ok.sbatch | grep -qx 'exit "$rc"' || fail "the script is incomplete"
printf '#!/bin/sh\necho "4242;cluster"\n' > bin/sbatch
out=$(env PATH="$d/bin:$PATH" "$IPM" slurm ok.toml --submit)
grep -qx "submitted batch job 4242" <<< "$out" && grep -qx "log: $d/runs/ok/slurm/ok.log" <<< "$out" ||
  fail "--submit output: $out"
pass "sbatch --parsable 'JOBID;CLUSTER' -> $(tr '\n' ' ' <<< "$out")"
