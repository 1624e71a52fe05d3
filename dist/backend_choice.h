// Which communicator backend and device a run uses, from `run.backend` and what this build
// and this node offer. Pure logic: no CUDA needed, unit-tested on any machine.
// defines: ipm::BackendOffer, ipm::BackendChoice, ipm::resolve_backend,
//          ipm::choose_cuda_device
#pragma once

#include <string>

namespace ipm {

// What this process could run on.
struct BackendOffer {
  bool nccl_built = false;    // compiled with IPM_WITH_NCCL (implies a CUDA LibTorch)
  bool cuda_libtorch = false; // LibTorch has CUDA support (torch::cuda::is_available's build half)
  int cuda_devices = 0;       // devices visible to this process (torch::cuda::device_count)
  // What the NVIDIA driver says (dist/cuda_driver.h), whatever LibTorch can use:
  int driver_devices = 0;     // devices the driver shows this process (0: none, or no driver)
  int driver_cuda = 0;        // CUDA version the driver supports (12040 = 12.4); 0: no driver
  int build_cuda = 0;         // CUDA version this build's LibTorch was made for; 0: CPU-only
};

struct BackendChoice {
  std::string backend;  // "mpi" or "nccl"
  bool cuda = false;    // tensors (model, batches) live on a CUDA device
  std::string note;     // for `auto` falling back to MPI: one line saying so (else empty)
  // Whether the note is news worth printing: a GPU is there but unused (a CPU build on a GPU
  // node, a driver too old for this build's CUDA). A CPU build on a CPU node stays silent.
  bool note_is_news = false;
};

// requested: the value of run.backend ("auto", "mpi" or "nccl").
//   mpi  -> MPI on the CPU, always.
//   nccl -> NCCL on CUDA devices; throws ipm::Error naming run.backend when the build has no
//           NCCL or no CUDA device is visible.
//   auto -> nccl when it would succeed, else mpi with a note saying why (note_is_news when a
//           GPU is present but cannot be used).
// A driver older than build_cuda's major version is named as the reason (not "no GPU").
BackendChoice resolve_backend(const std::string& requested, const BackendOffer& offer);

// The CUDA device of the rank with this local rank, one rank per GPU:
//   one visible device  -> 0 (the launcher bound the rank to its GPU: srun --gpus-per-task=1,
//                          or CUDA_VISIBLE_DEVICES set per rank);
//   several             -> local_rank (mpirun's ranks on a node share all GPUs);
//   local_rank >= count -> ipm::Error: more ranks on the node than GPUs.
int choose_cuda_device(int local_rank, int device_count);

}  // namespace ipm
