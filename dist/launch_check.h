// Does the MPI world match the launcher that started this process? Under srun without an
// MPI plugin (`srun -n 4 ipm-dist ...` on a cluster whose MpiDefault is none), every task
// initializes no MPI or a world of its own: 4 copies would each train the whole suite into
// the same output directory. Slurm's step variables tell how many tasks srun started.
// defines: ipm::srun_world_problem, ipm::started_by_mpirun, ipm::check_launch_matches_slurm
#pragma once

#include <string>

namespace ipm {

// "" when the world fits the srun step, else why not. step_tasks = SLURM_STEP_NUM_TASKS,
// procid = SLURM_PROCID (nullptr when unset: not inside an srun step, nothing to check),
// under_mpirun = the process was started by mpirun (OMPI_COMM_WORLD_SIZE set: its ranks
// are mpirun's, which itself may run inside a step of another size).
std::string srun_world_problem(const char* step_tasks, const char* procid, bool under_mpirun,
                               int world_size, int world_rank);

// The same on this process's environment; throws ipm::Error with the problem. Call
// started_by_mpirun() before MPI_Init: Open MPI may export OMPI_* variables itself while it
// initializes under srun.
bool started_by_mpirun();
void check_launch_matches_slurm(bool under_mpirun, int world_size, int world_rank);

}  // namespace ipm
