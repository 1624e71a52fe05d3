#!/usr/bin/env bash
# Issue 15.1: srun does not inherit sbatch's --cpus-per-task (Slurm >= 22.05), so where Slurm
# binds tasks (TaskPlugin=task/affinity here) a script that relied on it gave each rank one
# core for its run.threads_per_rank threads. The script `ipm-dist slurm` writes, submitted to
# a local Slurm with task/affinity and binding to cores (SLURM_CPU_BIND=cores, as a cluster's
# default binding would), with the ranks replaced by a probe: each rank's allowed CPU set
# (Cpus_allowed_list) has threads_per_rank CPUs; without srun's --cpus-per-task it had 1.
# (1 rank of 2 threads: this machine may have only 2 cores, and Slurm is told 4.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slurm_lib.sh"
[ "$(nproc)" -ge 2 ] || { echo "skip: needs 2 CPUs"; exit 0; }
d=$(test_dir slurm_cpus)
cd "$d"
printf '%s\n' 'name = "cpus"' 'output = "runs/cpus"' '[data]' 'file = "small.h5"' '[train]' 'batch = 32' \
  'epochs = 1' '[run]' 'threads_per_rank = 2' 'backend = "mpi"' '[slurm]' 'time = 5' > cpus.toml
small_h5 small.h5 64 32
out=$("$IPM" slurm cpus.toml 2>&1) || fail "ipm-dist slurm: $out"
script=$(sed -n 's/^wrote //p' <<< "$out")
grep -q -- '--cpus-per-task=2' "$script" || fail "no --cpus-per-task=2 in $script"
# The probe stands in for ipm-dist: --version answers the start-up check, `run` reports the
# CPUs this task may run on.
cat > probe.sh <<'PROBE'
#!/bin/bash
[ "$1" = --version ] && { echo probe; exit 0; }
echo "task ${SLURM_PROCID:-?} cpus $(sed -n 's/^Cpus_allowed_list:\s*//p' /proc/self/status)"
PROBE
chmod +x probe.sh
sed -i "s|^ipm=.*|ipm=$d/probe.sh|" "$script"
SLURM_TASK_PLUGIN=task/affinity slurm_start
id=$(SLURM_CPU_BIND=cores sbatch --parsable --chdir="$d" "$script") || fail "sbatch refused $script"
state=$(slurm_wait_job "$id" 60)
log=runs/cpus/slurm/cpus.log
[ "$state" = COMPLETED ] || fail "job $id ended $state: $(cat "$log" 2>/dev/null)"
line=$(grep '^task 0 cpus ' "$log") || fail "no probe output: $(cat "$log")"
cpus=${line#task 0 cpus }
# Count the CPUs of a list like 0-1 or 0,2.
n=0
IFS=, read -ra parts <<< "$cpus"
for p in "${parts[@]}"; do
  if [[ $p == *-* ]]; then n=$(( n + ${p#*-} - ${p%-*} + 1 )); else n=$(( n + 1 )); fi
done
[ "$n" -eq 2 ] || fail "the rank may run on $n CPU(s) ($cpus), not threads_per_rank = 2"
pass "under task/affinity the rank's CPU set is $cpus: threads_per_rank = 2 CPUs"
