#include "dist/cuda_driver.h"

#include <dlfcn.h>

namespace ipm {
namespace {

// The few driver entry points used, with the driver API's C types (CUresult and CUdevice are
// int): no CUDA header is needed to build this file.
using InitFn = int (*)(unsigned);
using VersionFn = int (*)(int*);
using CountFn = int (*)(int*);
using GetFn = int (*)(int*, int);
using BusIdFn = int (*)(char*, int, int);

CudaDriverInfo probe() {
  CudaDriverInfo info;
  void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return info;  // no driver on this node: not an error
  const auto sym = [lib](const char* name) { return ::dlsym(lib, name); };
  const auto init = reinterpret_cast<InitFn>(sym("cuInit"));
  const auto version = reinterpret_cast<VersionFn>(sym("cuDriverGetVersion"));
  const auto count = reinterpret_cast<CountFn>(sym("cuDeviceGetCount"));
  const auto get = reinterpret_cast<GetFn>(sym("cuDeviceGet"));
  const auto bus_id = reinterpret_cast<BusIdFn>(sym("cuDeviceGetPCIBusId"));
  if (!init || !version || !count || !get || !bus_id) {
    info.error = "libcuda.so.1 lacks the driver API's entry points";
    return info;
  }
  version(&info.version);  // answers even when cuInit fails (no device, driver mismatch)
  const int rc = init(0);
  if (rc != 0) {
    // 100: no device (or CUDA_VISIBLE_DEVICES hides all); others: a broken install.
    if (rc != 100) info.error = "cuInit failed with CUDA driver error " + std::to_string(rc);
    return info;
  }
  info.loaded = true;
  int n = 0;
  if (count(&n) != 0) n = 0;
  for (int i = 0; i < n; ++i) {
    int dev = 0;
    char id[64] = {};
    if (get(&dev, i) != 0 || bus_id(id, sizeof(id), dev) != 0) {
      info.bus_ids.push_back("device " + std::to_string(i));  // still counts as a device
    } else {
      info.bus_ids.emplace_back(id);
    }
  }
  // libcuda stays loaded: LibTorch's CUDA runtime uses the same library.
  return info;
}

}  // namespace

const CudaDriverInfo& probe_cuda_driver() {
  static const CudaDriverInfo info = probe();
  return info;
}

std::string cuda_version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

}  // namespace ipm
