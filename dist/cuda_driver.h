// What the NVIDIA driver of this node offers, asked through libcuda loaded at run time
// (dlopen, never linked): a CPU build runs where there is no driver at all, and a CUDA build
// can tell "no GPU" from "a driver too old for this build's CUDA".
// defines: ipm::CudaDriverInfo, ipm::probe_cuda_driver, ipm::cuda_version_text
#pragma once

#include <string>
#include <vector>

namespace ipm {

struct CudaDriverInfo {
  bool loaded = false;       // libcuda.so.1 was found and cuInit succeeded
  int version = 0;           // CUDA version the driver supports (cuDriverGetVersion: 12040 = 12.4)
  std::vector<std::string> bus_ids;  // PCI bus id of each device this process sees, in CUDA
                                     // order (CUDA_VISIBLE_DEVICES applied): "0000:3b:00.0"
  std::string error;         // why not loaded (empty when there is simply no libcuda)
};

// Probes once per process (later calls return the first answer). Never throws.
const CudaDriverInfo& probe_cuda_driver();

// "13.2" for 13020.
std::string cuda_version_text(int version);

}  // namespace ipm
