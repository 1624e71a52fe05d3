// The NCCL backend of the communicator: collectives on CUDA tensors, one NCCL communicator
// per job group. Compiled only when IPM_WITH_NCCL is on (CUDA LibTorch, toolkit and NCCL);
// this header itself needs no CUDA, so callers build either way.
// defines: ipm::make_nccl_communicator
//
// Bootstrap: rank 0 of the group's MPI communicator creates an ncclUniqueId and broadcasts
// it over MPI; every rank then joins with a non-blocking ncclCommInitRankConfig on its own
// device (dist/gpu_assignment.h), polled under the IPM_NCCL_TIMEOUT_S deadline (aborted at
// it, with a hint at NCCL_SOCKET_IFNAME). The first device collective after a host
// collective (a job's start) meets the group at an MPI barrier first (job_start_barrier.h). CUDA tensors are reduced on a comm stream ordered after the compute
// stream (dist/ordered_collective.h); CPU tensors (counts, epoch sums) go over MPI. Each
// collective waits at most IPM_NCCL_TIMEOUT_S seconds (default 600); an NCCL error or the
// timeout aborts the NCCL communicator and throws, and the command line then takes the
// whole MPI job down: a failing rank never leaves the others waiting.
#pragma once

#include <mpi.h>

#include <memory>

#include "dist/communicator.h"

namespace ipm {

// Takes ownership of `group` (freed with the communicator unless it is MPI_COMM_WORLD).
// Collective over `group`. Throws ipm::Error when NCCL or CUDA fail.
std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm group, int cuda_device);

}  // namespace ipm
