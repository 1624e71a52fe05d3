#include "slurm/slurm_gpus.h"

#include <algorithm>

#include "common/error.h"

namespace ipm {

std::string finish_slurm_gpus(SlurmSpec& s, const std::string& backend, int64_t ranks_per_job,
                              const std::string& where) {
  IPM_CHECK(backend == "auto" || backend == "mpi" || backend == "nccl",
            "run.backend = \"" << backend << "\" is unknown (expected auto, mpi, nccl)");
  if (backend == "mpi") {
    IPM_CHECK(s.gpus_per_node == 0,
              where << ": gpus_per_node = " << s.gpus_per_node << " with run.backend = \"mpi\""
                    << ": the ranks train on the CPU and the GPUs would sit idle; drop "
                       "gpus_per_node or use run.backend = \"nccl\"");
    return "";
  }
  if (backend == "auto" && s.gpus_per_node == 0) {
    return "run.backend = \"auto\" and no gpus_per_node: the script asks for no GPU, so the "
           "ranks train on the CPU (MPI)" +
           (s.partition.empty() ? std::string() : " on partition " + s.partition) +
           "; set gpus_per_node (or run.backend = \"nccl\") to train on GPUs";
  }
  // One rank per GPU (dist/backend_choice.h): the two counts are one number.
  if (s.gpus_per_node == 0) {
    if (s.ntasks_per_node == 0) s.ntasks_per_node = std::max<int64_t>(1, ranks_per_job);
    s.gpus_per_node = s.ntasks_per_node;
  } else if (s.ntasks_per_node == 0) {
    s.ntasks_per_node = s.gpus_per_node;
  }
  IPM_CHECK(s.gpus_per_node == s.ntasks_per_node,
            where << ": gpus_per_node = " << s.gpus_per_node << " but ntasks_per_node = "
                  << s.ntasks_per_node << ": run.backend = \"" << backend << "\" runs one rank "
                  << "per GPU; make them equal");
  return "";
}

}  // namespace ipm
