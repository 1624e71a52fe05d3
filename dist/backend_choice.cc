#include "dist/backend_choice.h"

#include <cstdlib>

#include "common/error.h"
#include "dist/cuda_driver.h"

namespace ipm {

BackendChoice resolve_backend(const std::string& requested, const BackendOffer& offer) {
  if (requested == "mpi") return {"mpi", false, ""};
  // Why NCCL cannot run here; empty when it can.
  std::string why;
  if (!offer.cuda_libtorch) {
    why = "this ipm-dist was built against a CPU-only LibTorch (rebuild against a CUDA "
          "LibTorch with -DIPM_WITH_NCCL=ON: docs/gpu-clusters.md)";
  } else if (!offer.nccl_built) {
    why = "this ipm-dist was built without NCCL (-DIPM_WITH_NCCL=OFF, or CMake found no "
          "NCCL: docs/gpu-clusters.md)";
  } else if (offer.cuda_devices <= 0 && offer.driver_cuda > 0 && offer.build_cuda > 0 &&
             offer.driver_cuda / 1000 < offer.build_cuda / 1000) {
    why = "the NVIDIA driver supports CUDA " + cuda_version_text(offer.driver_cuda) +
          ", older than this build's CUDA " + cuda_version_text(offer.build_cuda) +
          " (update the driver, or build against a LibTorch for CUDA " +
          cuda_version_text(offer.driver_cuda) + ": docs/gpu-clusters.md)";
  } else if (offer.cuda_devices <= 0) {
    why = "no CUDA device is visible to this process (no GPU on this node, or "
          "CUDA_VISIBLE_DEVICES is empty)";
  }
  // A GPU that this run leaves idle is news; a CPU build on a CPU node is the expected case.
  const bool gpu_there = offer.driver_devices > 0 || offer.cuda_devices > 0 ||
                         (offer.driver_cuda > 0 && offer.build_cuda > 0 &&
                          offer.driver_cuda / 1000 < offer.build_cuda / 1000);
  if (requested == "nccl") {
    IPM_CHECK(why.empty(), "run.backend = \"nccl\": " << why
                                                     << "; use run.backend = \"mpi\" or \"auto\"");
    return {"nccl", true, ""};
  }
  IPM_CHECK(requested == "auto", "run.backend = \"" << requested
                                                    << "\" is unknown (expected auto, mpi, nccl)");
  if (why.empty()) return {"nccl", true, ""};
  return {"mpi", false, "run.backend = \"auto\": using MPI on the CPU: " + why, gpu_there};
}

int choose_cuda_device(int local_rank, int device_count) {
  IPM_CHECK(device_count > 0, "no CUDA device is visible to this process");
  IPM_CHECK(local_rank >= 0, "local rank " << local_rank << " is negative");
  if (device_count == 1) return 0;
  IPM_CHECK(local_rank < device_count,
            "local rank " << local_rank << " has no GPU of its own: this node shows "
                          << device_count << " CUDA devices; start at most one rank per GPU "
                          << "(srun --gpus-per-task=1, or mpirun -npernode " << device_count
                          << ")");
  return local_rank;
}

}  // namespace ipm
