#include "slurm/sbatch_script.h"

#include <sstream>

#include "common/error.h"
#include "slurm/shell_quote.h"

namespace ipm {
namespace {

// A comment line's text: control characters (a newline would end the comment) become '?'.
std::string comment_safe(const std::string& s) {
  std::string out;
  for (const char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

}  // namespace

std::string render_sbatch(const SlurmSpec& s, const SbatchPaths& p) {
  IPM_CHECK(s.nodes > 0 && s.ntasks_per_node > 0 && s.cpus_per_task > 0 && !s.time.empty(),
            "internal: render_sbatch before finish_slurm_spec");
  std::ostringstream o;
  o << "#!/bin/bash\n"
    << "# Written by `ipm-dist slurm` for the suite " << comment_safe(p.suite) << "\n"
    << "# Submit it with sbatch, or write and submit it in one go: ipm-dist slurm SUITE --submit\n";
  const auto line = [&o](const std::string& opt, const std::string& value) {
    o << "#SBATCH --" << opt << "=" << sbatch_quote(value) << "\n";
  };
  line("job-name", s.job_name);
  line("nodes", std::to_string(s.nodes));
  line("ntasks-per-node", std::to_string(s.ntasks_per_node));
  line("cpus-per-task", std::to_string(s.cpus_per_task));
  if (s.gpus_per_node > 0) line("gpus-per-node", std::to_string(s.gpus_per_node));
  line("time", s.time);
  if (!s.partition.empty()) line("partition", s.partition);
  if (!s.account.empty()) line("account", s.account);
  if (!s.qos.empty()) line("qos", s.qos);
  if (!s.mem.empty()) line("mem", s.mem);
  if (!s.constraint.empty()) line("constraint", s.constraint);
  line("output", p.log);
  if (s.array > 0) line("array", "0-" + std::to_string(s.array - 1));
  o << "#SBATCH --open-mode=append\n"  // a requeued run continues the same log
    << "#SBATCH --requeue\n"
    << "#SBATCH --signal=B:USR1@" << s.signal_seconds << "\n"
    << "\n"
    << "# Preemption: USR1 reaches this shell " << s.signal_seconds << " s before the time "
       "limit (or from\n"
    << "# `scancel --signal=USR1 --batch`). It is forwarded to the ranks, which checkpoint at "
       "their next\n"
    << "# step and exit with " << kPreemptedExitCode << "; the job then requeues itself and "
       "the requeued run resumes.\n"
    << "# SIGTERM (scancel, or the time limit reached) also checkpoints, but does not "
       "requeue: resubmit to resume.\n"
    << "set -u\n"
    << "ipm=" << shell_quote(p.ipm_dist) << "\n"
    << "suite=" << shell_quote(p.suite) << "\n"
    << "preempted=" << kPreemptedExitCode << "\n"
    << "export OMP_NUM_THREADS=" << s.cpus_per_task << " MKL_NUM_THREADS=" << s.cpus_per_task
    << "\n"
    << "echo \"ipm-dist: Slurm job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}) on "
       "${SLURM_JOB_NODELIST:-?} at $(date -u +%FT%TZ)\"\n"
    << "pid=\n"
    << "pending=\n"
    << "requeue=1\n"
    << "forward() {\n"
    << "  echo \"ipm-dist: got SIG$1; asking the ranks to checkpoint and stop\"\n"
    << "  [ \"$1\" = TERM ] && requeue=0\n"
    << "  pending=1  # before the launcher has started: passed on as soon as it has\n"
    << "  [ -n \"$pid\" ] && kill -USR1 \"$pid\" 2>/dev/null\n"
    << "}\n"
    << "trap 'forward USR1' USR1\n"
    << "trap 'forward TERM' TERM\n"
    << "# Every node must reach this binary and the libraries it loads (LibTorch, NCCL): an\n"
    << "# install on a node-local disk of the submitting host is not there (docs/gpu-clusters.md).\n";
  if (s.launcher == "mpirun") {
    o << "if ! mpirun --map-by ppr:1:node \"$ipm\" --version > /dev/null; then\n";
  } else {
    // Its own task count: the batch environment's SLURM_NTASKS would ask for every rank.
    o << "nodes=${SLURM_JOB_NUM_NODES:-1}\n"
      << "if ! srun --nodes=\"$nodes\" --ntasks=\"$nodes\" --ntasks-per-node=1 --mpi=none \"$ipm\" "
         "--version > /dev/null; then\n";
  }
  o << "  echo \"ipm-dist: $ipm (or a library it loads) does not start on every node of "
       "${SLURM_JOB_NODELIST:-?}; install it where all nodes see it\" >&2\n"
    << "  exit 1\n"
    << "fi\n";
  if (s.launcher == "mpirun") {
    o << "mpirun -np \"$SLURM_NTASKS\" \"$ipm\" run \"$suite\"";
  } else {
    // srun does not inherit sbatch's --cpus-per-task (Slurm >= 22.05): without it, where
    // Slurm binds tasks, every rank would get one core for its threads_per_rank threads.
    o << "srun --mpi=pmix --cpus-per-task=" << s.cpus_per_task << " \"$ipm\" run \"$suite\"";
  }
  // Array task i trains the jobs j with j % array == i.
  if (s.array > 0) o << " --slice \"$SLURM_ARRAY_TASK_ID/" << s.array << "\"";
  o << " &\n";
  o << "pid=$!\n"
    << "[ -n \"$pending\" ] && kill -USR1 \"$pid\" 2>/dev/null\n"
    << "# A trapped signal ends `wait` early (status > 128): wait again until the launcher is "
       "gone.\n"
    << "rc=0; wait \"$pid\" || rc=$?\n"
    << "while [ \"$rc\" -gt 128 ] && kill -0 \"$pid\" 2>/dev/null; do rc=0; wait \"$pid\" || "
       "rc=$?; done\n"
    << "if [ \"$rc\" -gt 128 ]; then rc=0; wait \"$pid\" || rc=$?; fi\n"
    << "if [ \"$rc\" -eq \"$preempted\" ] && [ \"$requeue\" = 0 ]; then\n"
    << "  echo \"ipm-dist: checkpointed after SIGTERM; not requeued (resubmit to resume)\"\n"
    << "  exit \"$rc\"\n"
    << "fi\n"
    << "if [ \"$rc\" -eq \"$preempted\" ]; then\n"
    << "  echo \"ipm-dist: checkpointed after preemption; requeueing job $SLURM_JOB_ID\"\n"
    << "  scontrol requeue \"$SLURM_JOB_ID\" || exit \"$preempted\"\n"
    << "  exit 0\n"
    << "fi\n"
    << "exit \"$rc\"\n";
  return o.str();
}

}  // namespace ipm
