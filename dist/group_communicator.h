// Chooses and builds a job group's communicator for the backend a suite asks for.
// defines: ipm::this_process_offer, ipm::GroupBackend, ipm::choose_group_backend,
//          ipm::choose_world_backend, ipm::make_group_communicator
//
// The one place that knows whether this build has NCCL (IPM_WITH_NCCL), so that the rest of
// the code, the command line included, builds and runs the same with and without it.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "dist/backend_choice.h"
#include "dist/communicator.h"

namespace ipm {

// What this build and this process offer (NCCL compiled in, CUDA LibTorch, visible devices).
BackendOffer this_process_offer();

// The resolved backend plus, for CUDA, this rank's device.
struct GroupBackend {
  BackendChoice choice;
  int cuda_device = -1;  // >= 0 when choice.cuda
};

// requested: run.backend. local_rank: this rank's rank on its node (MpiRuntime::local_rank()
// or 0 for a single process: MPI knows which ranks share a node). Throws
// ipm::Error with a message naming run.backend when the request cannot be met.
GroupBackend choose_group_backend(const std::string& requested, int local_rank);

// The same for every rank of an MPI world, collectively (every rank must call it): the ranks
// exchange their nodes and visible GPUs (PCI bus ids) and each takes the device assign_gpus
// gives it (dist/gpu_assignment.h). When any rank cannot meet the request, every rank throws
// (its own reason, or the first failing rank's): no rank goes on while another stops.
GroupBackend choose_world_backend(const std::string& requested, MPI_Comm world);

// choose_world_backend with this rank's offer and visible GPUs given: what tests fake.
GroupBackend choose_world_backend_with(const std::string& requested, const BackendOffer& offer,
                                       const std::vector<std::string>& bus_ids,
                                       MPI_Comm world);

// The group's communicator (MPI launch): an MpiCommunicator or an NCCL one. Takes ownership
// of `group`. Collective over `group`.
std::unique_ptr<Communicator> make_group_communicator(const GroupBackend& b, MPI_Comm group);

}  // namespace ipm
