// The sbatch script of a suite: #SBATCH lines, the launch, and the preemption protocol.
// defines: ipm::SbatchPaths, ipm::render_sbatch
//
// Preemption: Slurm sends SIGUSR1 to the batch shell signal_seconds before the time limit
// (--signal=B:USR1@N), or on `scancel --signal=USR1 --batch JOB`. The shell forwards it to
// srun (which forwards it to every task) or mpirun (which does the same); ipm-dist's ranks
// agree on a step, checkpoint mid-epoch and exit with kPreemptedExitCode (75). The shell then
// runs `scontrol requeue $SLURM_JOB_ID`; the requeued job appends to the same log, resumes
// at that step and skips jobs that are DONE. SIGTERM (scancel, the time limit itself) is
// forwarded the same way so no work is lost, but the job is not requeued: a user's scancel
// must stop it.
#pragma once

#include <string>

#include "slurm/slurm_spec.h"

namespace ipm {

struct SbatchPaths {
  std::string ipm_dist;  // absolute path of the ipm-dist binary
  std::string suite;     // absolute path of the suite file
  std::string log;       // absolute path of the job's log (stdout and stderr); sbatch
                         // expands %-patterns in it (%a: the array task)
};

// The script's text. Every value is validated (set_slurm_value) and quoted: shell values
// with shell_quote, #SBATCH values with sbatch_quote. Pure: same inputs, same bytes.
std::string render_sbatch(const SlurmSpec& spec, const SbatchPaths& paths);

}  // namespace ipm
