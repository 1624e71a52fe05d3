#include "dist/launch_check.h"

#include <cstdlib>
#include <sstream>

#include "common/error.h"

namespace ipm {

std::string srun_world_problem(const char* step_tasks, const char* procid, bool under_mpirun,
                               int world_size, int world_rank) {
  if (under_mpirun || step_tasks == nullptr || procid == nullptr) return "";
  const long tasks = std::strtol(step_tasks, nullptr, 10);
  const long id = std::strtol(procid, nullptr, 10);
  std::ostringstream why;
  if (tasks != world_size) {
    why << "srun started " << tasks << " tasks (SLURM_STEP_NUM_TASKS) but MPI sees a world of "
        << world_size << ": without srun's MPI plugin each task would train the whole suite "
        << "on its own; launch with `srun --mpi=pmix` (or set MpiDefault=pmix)";
  } else if (id != world_rank) {
    why << "task " << id << " of srun (SLURM_PROCID) is MPI rank " << world_rank
        << ": the ranks do not come from this srun step";
  }
  return why.str();
}

bool started_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

void check_launch_matches_slurm(bool under_mpirun, int world_size, int world_rank) {
  const std::string problem = srun_world_problem(
      std::getenv("SLURM_STEP_NUM_TASKS"), std::getenv("SLURM_PROCID"), under_mpirun,
      world_size, world_rank);
  IPM_CHECK(problem.empty(), problem);
}

}  // namespace ipm
