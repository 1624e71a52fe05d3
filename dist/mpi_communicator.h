// The MPI backend of the communicator (Open MPI), and the process-wide MPI runtime.
// defines: ipm::MpiRuntime, ipm::MpiCommunicator, ipm::launched_by_mpi
//
// Tensors are reduced in place on the CPU: float32, float64 and int64, any memory layout
// that is dense (channels-last included), since the reduction is element-wise.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "dist/communicator.h"

namespace ipm {

// True when this process was started by mpirun/mpiexec or srun with PMI (the launcher's
// environment says so). A plain `ipm-dist ...` then runs without initializing MPI at all.
bool launched_by_mpi();

// MPI_Init_thread on construction, MPI_Finalize on destruction. abort() brings every rank
// of the job down (MPI_Abort): a failing rank must never leave the others waiting.
class MpiRuntime {
 public:
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;
  int world_rank() const { return rank_; }
  int world_size() const { return size_; }
  int local_rank() const { return local_rank_; }  // rank among the processes on this node
  [[noreturn]] static void abort(int code);

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
};

// One job group's communicator; owns (frees) the MPI_Comm it is given unless it is WORLD.
class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm);
  ~MpiCommunicator() override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(torch::Tensor& t) override;
  void allreduce_max(torch::Tensor& t) override;
  void broadcast(torch::Tensor& t, int root) override;
  const char* backend() const override { return "mpi"; }
  MPI_Comm comm() const { return comm_; }

 private:
  void allreduce(torch::Tensor& t, MPI_Op op);
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace ipm
