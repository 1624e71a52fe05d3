# A real single-node Slurm for the tests (sourced after lib.sh): munged, slurmctld and slurmd
# from Debian's slurm-wlm and munge, on this machine, with a generated slurm.conf in a
# temporary directory, loopback addresses and free unprivileged ports. slurm_stop (run on
# exit) ends the daemons by their pids.
SLURM_DIR=""

# SLURM_TASK_PLUGIN (default task/none): task/affinity makes Slurm bind each task to its CPUs.
slurm_start() {
  SLURM_DIR=$(mktemp -d "${IPM_WORK}/slurm.XXXXXX")
  local d=$SLURM_DIR host port
  host=$(hostname -s)
  port=$(( 20000 + RANDOM % 20000 ))
  mkdir -p "$d/state" "$d/spool"
  [ -r /etc/munge/munge.key ] || fail "no /etc/munge/munge.key (install munge)"
  munged --force --socket="$d/munge.sock" --pid-file="$d/munged.pid" \
    --log-file="$d/munged.log" --seed-file="$d/munged.seed" --key-file=/etc/munge/munge.key ||
    fail "munged did not start: $(cat "$d/munged.log" 2>/dev/null)"
  cat > "$d/slurm.conf" <<CONF
ClusterName=ipmtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$(( port + 1 ))
AuthType=auth/munge
AuthInfo=socket=$d/munge.sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=${SLURM_TASK_PLUGIN:-task/none}
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
MpiDefault=none
ReturnToService=2
# 4 CPUs whatever the machine has: tests run up to 4 ranks on a 2-core machine.
SlurmdParameters=config_overrides
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=4 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$d/slurm.conf"
  trap slurm_stop EXIT
  slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start: $(tail -n 5 "$d/slurmctld.log")"
  slurmd -f "$SLURM_CONF" -N "$host" || fail "slurmd did not start: $(tail -n 5 "$d/slurmd.log")"
  for _ in $(seq 100); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && return 0
    sleep 0.2
  done
  fail "the Slurm node never became idle: $(sinfo 2>&1; tail -n 5 "$d/slurmctld.log")"
}

slurm_stop() {
  [ -n "$SLURM_DIR" ] || return 0
  local f
  for f in slurmd slurmctld munged; do
    [ -s "$SLURM_DIR/$f.pid" ] && kill "$(cat "$SLURM_DIR/$f.pid")" 2>/dev/null || true
  done
  SLURM_DIR=""
}

# slurm_job_state JOBID: the job's state (PENDING, RUNNING, COMPLETED, ...).
slurm_job_state() {
  scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'
}

# slurm_wait_job JOBID SECONDS: waits until the job has ended and prints its final state.
# A requeued job waits for its BeginTime (Slurm holds requeued jobs back about two minutes):
# that delay is lifted with `scontrol update StartTime=now`, so the tests stay short, but
# only after the hold has lasted 2 s. slurmd refuses a launch whose credential is from the
# same second as the previous run's revocation ("Job credential revoked", seen here when the
# hold was lifted at once: the requeued job then ends FAILED without running).
slurm_wait_job() {
  local id=$1 state reason held=0
  for _ in $(seq $(( $2 * 5 ))); do
    state=$(slurm_job_state "$id")
    case $state in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)
        echo "$state"; return 0 ;;
      PENDING)
        reason=$(scontrol show job "$id" | sed -n 's/.*Reason=\([A-Za-z_]*\).*/\1/p')
        if [ "$reason" = BeginTime ]; then
          held=$(( held + 1 ))
          if [ "$held" -ge 10 ]; then  # 10 polls of 0.2 s
            scontrol update JobId="$id" StartTime=now >/dev/null 2>&1 &&
              echo "slurm_wait_job: lifted the BeginTime hold of requeued job $id" >&2
          fi
        fi ;;
      *) held=0 ;;
    esac
    sleep 0.2
  done
  echo "STILL_${state:-UNKNOWN}"
}
