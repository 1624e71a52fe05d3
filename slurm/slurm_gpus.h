// The GPU request of a suite's sbatch script, derived from run.backend: NCCL runs one rank
// per GPU, so a GPU job asks for as many GPUs per node as it starts tasks per node.
// defines: ipm::finish_slurm_gpus
#pragma once

#include <string>

#include "slurm/slurm_spec.h"

namespace ipm {

// Before finish_slurm_spec. `backend` is run.backend ("auto", "mpi" or "nccl").
//   nccl: gpus_per_node = ntasks_per_node (either one given fills the other; neither: both
//         ranks_per_job); both given and different -> ipm::Error naming the two keys.
//   auto: like nccl when gpus_per_node is set; without it the script asks for no GPU and
//         the returned note says that the ranks will train on the CPU.
//   mpi:  gpus_per_node set -> ipm::Error (GPUs held but never used).
// `where` names the table in errors ("suite.toml: [slurm]"). Returns a note for the user, or
// "" when there is nothing to say.
std::string finish_slurm_gpus(SlurmSpec& spec, const std::string& backend,
                              int64_t ranks_per_job, const std::string& where);

}  // namespace ipm
