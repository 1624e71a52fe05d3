#include "dist/group_communicator.h"

#include "common/error.h"
#include "dist/cuda_driver.h"
#include "dist/gpu_assignment.h"
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
  const CudaDriverInfo& driver = probe_cuda_driver();
  o.driver_devices = static_cast<int>(driver.bus_ids.size());
  o.driver_cuda = driver.version;
  o.build_cuda = IPM_BUILD_CUDA_VERSION;
  return o;
}

namespace {

// Every rank's string, in rank order (collective over `comm`).
std::vector<std::string> allgather_strings(const std::string& mine, MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<size_t>(size)), offsets(static_cast<size_t>(size));
  MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, comm);
  int total = 0;
  for (int r = 0; r < size; ++r) {
    offsets[static_cast<size_t>(r)] = total;
    total += lens[static_cast<size_t>(r)];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Allgatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR,
                 comm);
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r) {
    out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                             static_cast<size_t>(lens[static_cast<size_t>(r)])));
  }
  return out;
}

std::string node_name() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  return std::string(name, static_cast<size_t>(len));
}

}  // namespace

GroupBackend choose_world_backend(const std::string& requested, MPI_Comm world) {
  const BackendOffer offer = this_process_offer();
  std::vector<std::string> bus_ids = probe_cuda_driver().bus_ids;
  // LibTorch's devices are the ones that count; should the driver list differ (it does not
  // with one driver), name them by index so that the count still holds.
  if (static_cast<int>(bus_ids.size()) != offer.cuda_devices) {
    bus_ids.clear();
    for (int i = 0; i < offer.cuda_devices; ++i) bus_ids.push_back("device " + std::to_string(i));
  }
  return choose_world_backend_with(requested, offer, bus_ids, world);
}

GroupBackend choose_world_backend_with(const std::string& requested, const BackendOffer& offer,
                                       const std::vector<std::string>& bus_ids,
                                       MPI_Comm world) {
  int rank = 0;
  MPI_Comm_rank(world, &rank);
  GroupBackend b;
  std::string error;
  try {
    b.choice = resolve_backend(requested, offer);
  } catch (const Error& e) {
    error = e.what();
  }
  // One record per rank: "E<error>" or "G<node>\n<bus id>\n<bus id>...".
  std::string mine = error.empty() ? "G" + node_name() : "E" + error;
  if (error.empty() && b.choice.cuda) {
    for (const auto& id : bus_ids) mine += "\n" + id;
  }
  const std::vector<std::string> all = allgather_strings(mine, world);
  for (size_t r = 0; r < all.size(); ++r) {
    if (all[r][0] != 'E') continue;
    if (!error.empty()) throw Error(error);
    throw Error("rank " + std::to_string(r) + ": " + all[r].substr(1));
  }
  std::vector<RankGpus> ranks;
  for (size_t r = 0; r < all.size(); ++r) {
    RankGpus g;
    g.rank = static_cast<int>(r);
    std::string rest = all[r].substr(1);
    size_t nl = rest.find('\n');
    g.node = rest.substr(0, nl);
    while (nl != std::string::npos) {
      rest = rest.substr(nl + 1);
      nl = rest.find('\n');
      g.bus_ids.push_back(rest.substr(0, nl));
    }
    ranks.push_back(std::move(g));
  }
  try {
    b.cuda_device = assign_gpus(ranks)[static_cast<size_t>(rank)];
  } catch (const Error& e) {  // the same on every rank: all stop together
    throw Error("run.backend = \"" + requested + "\": " + e.what());
  }
  return b;
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
