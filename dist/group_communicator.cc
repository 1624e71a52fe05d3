#include "dist/group_communicator.h"

#include "common/error.h"
#include "dist/mpi_communicator.h"
#if IPM_WITH_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace ipm {

BackendOffer this_process_offer() {
  BackendOffer o;
  o.nccl_built = IPM_WITH_NCCL != 0;
  o.cuda_libtorch = IPM_TORCH_HAS_CUDA != 0;
  // Without a driver or device this is 0; it never fails.
  o.cuda_devices = o.cuda_libtorch ? static_cast<int>(torch::cuda::device_count()) : 0;
  return o;
}

GroupBackend choose_group_backend(const std::string& requested, int local_rank) {
  GroupBackend b;
  const BackendOffer offer = this_process_offer();
  b.choice = resolve_backend(requested, offer);
  if (b.choice.cuda) {
    try {
      b.cuda_device = choose_cuda_device(local_rank, offer.cuda_devices);
    } catch (const Error& e) {
      throw Error("run.backend = \"" + requested + "\": " + e.what());
    }
  }
  return b;
}

std::unique_ptr<Communicator> make_group_communicator(const GroupBackend& b, MPI_Comm group) {
  if (b.choice.backend == "nccl") {
#if IPM_WITH_NCCL
    return make_nccl_communicator(group, b.cuda_device);
#else
    throw Error("run.backend = \"nccl\": this ipm-dist was built without NCCL");
#endif
  }
  return std::make_unique<MpiCommunicator>(group);
}

}  // namespace ipm
