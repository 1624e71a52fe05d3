#include "dist/nccl_communicator.h"

#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "dist/deadline_wait.h"
#include "dist/job_start_barrier.h"
#include "dist/mpi_communicator.h"
#include "dist/ordered_collective.h"

namespace ipm {
namespace {

void nccl_check(ncclResult_t rc, const char* what, int rank) {
  if (rc == ncclSuccess) return;
  throw Error(std::string(what) + " failed on rank " + std::to_string(rank) + ": " +
              ncclGetErrorString(rc) + (rc == ncclSystemError || rc == ncclInternalError
                                            ? std::string(" (NCCL_DEBUG=WARN says more)")
                                            : std::string()));
}

ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kInt64: return ncclInt64;
    default: throw Error("NCCL collectives take float32, float64 or int64 tensors");
  }
}

std::chrono::seconds collective_timeout() {
  const char* v = std::getenv("IPM_NCCL_TIMEOUT_S");
  long s = v ? std::strtol(v, nullptr, 10) : 0;
  return std::chrono::seconds(s > 0 ? s : 600);
}

// CollectiveStreams over c10's CUDA streams and events and one NCCL communicator.
class CudaNcclStreams final : public CollectiveStreams {
 public:
  CudaNcclStreams(c10::cuda::CUDAStream comm_stream, ncclComm_t* comm, bool* aborted)
      : comm_stream_(comm_stream), comm_(comm), aborted_(aborted) {}
  void comm_waits_for_compute() override {
    ready_.record(c10::cuda::getCurrentCUDAStream(comm_stream_.device_index()));
    ready_.block(comm_stream_);
  }
  void compute_waits_for_comm() override {
    done_.record(comm_stream_);
    done_.block(c10::cuda::getCurrentCUDAStream(comm_stream_.device_index()));
  }
  bool comm_done() override { return done_.query(); }
  std::string async_error() override {
    ncclResult_t async = ncclSuccess;
    const ncclResult_t rc = ncclCommGetAsyncError(*comm_, &async);
    if (rc != ncclSuccess) return ncclGetErrorString(rc);
    return async == ncclSuccess || async == ncclInProgress ? "" : ncclGetErrorString(async);
  }
  void abort() override {
    if (*aborted_) return;
    ncclCommAbort(*comm_);
    *aborted_ = true;
  }

 private:
  c10::cuda::CUDAStream comm_stream_;
  ncclComm_t* comm_;
  bool* aborted_;
  at::cuda::CUDAEvent ready_{cudaEventDisableTiming}, done_{cudaEventDisableTiming};
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(MPI_Comm group, int device)
      : mpi_(std::make_unique<MpiCommunicator>(group)),
        device_(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device)),
        comm_stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/true, device_.index())),
        timeout_(collective_timeout()) {
    c10::cuda::set_device(device_.index());
    ncclUniqueId id;
    if (mpi_->rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId", 0);
    MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, mpi_->comm());
    // Non-blocking: a peer that never connects (a wrong network interface, a firewall) turns
    // into an error at the deadline instead of a hang.
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    const ncclResult_t rc = ncclCommInitRankConfig(&comm_, mpi_->size(), id, mpi_->rank(), &config);
    if (rc != ncclInProgress) nccl_check(rc, "ncclCommInitRank", mpi_->rank());
    wait_ready("ncclCommInitRank (NCCL set-up) on rank " + std::to_string(mpi_->rank()) +
               " of " + std::to_string(mpi_->size()));
  }
  ~NcclCommunicator() override {
    if (aborted_ || comm_ == nullptr) return;
    // Destroy waits for pending work; while an error unwinds, abort instead (never blocks).
    if (std::uncaught_exceptions() > 0) {
      ncclCommAbort(comm_);
      return;
    }
    try {  // a non-blocking communicator finalizes asynchronously: wait, under the deadline
      if (ncclCommFinalize(comm_) == ncclInProgress) wait_ready("ncclCommFinalize");
      ncclCommDestroy(comm_);
    } catch (const std::exception& e) {  // wait_ready aborted it
      std::fprintf(stderr, "ipm-dist: %s\n", e.what());
    }
  }
  int rank() const override { return mpi_->rank(); }
  int size() const override { return mpi_->size(); }
  const char* backend() const override { return "nccl"; }
  torch::Device device() const override { return device_; }

  void allreduce_sum(torch::Tensor& t) override {
    if (t.device().is_cpu()) return host([&] { mpi_->allreduce_sum(t); });
    allreduce(t, ncclSum);
  }
  void allreduce_max(torch::Tensor& t) override {
    if (t.device().is_cpu()) return host([&] { mpi_->allreduce_max(t); });
    allreduce(t, ncclMax);
  }
  void broadcast(torch::Tensor& t, int root) override {
    if (t.device().is_cpu()) return host([&] { mpi_->broadcast(t, root); });
    check(t);
    if (size() == 1) return;
    run(t, "broadcast", [&] {
      return ncclBroadcast(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()),
                           nccl_type(t), root, comm_, comm_stream_.stream());
    });
  }

 private:
  template <class Op>
  void host(Op op) {  // a CPU tensor over MPI: a phase boundary (job_start_barrier.h)
    op();
    job_start_.after_host_collective();
  }
  void check(const torch::Tensor& t) const {
    IPM_CHECK(t.device() == device_, "NCCL collective on a tensor on " << t.device()
                                         << "; this rank's communicator is on " << device_);
    IPM_CHECK(t.is_non_overlapping_and_dense(),
              "NCCL collectives need a dense tensor (got strides " << t.strides() << ")");
  }
  void allreduce(torch::Tensor& t, ncclRedOp_t op) {
    check(t);
    if (size() == 1) return;
    const auto t0 = std::chrono::steady_clock::now();
    run(t, "all-reduce", [&] {
      return ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()),
                           nccl_type(t), op, comm_, comm_stream_.stream());
    });
    add_comm_time(t0, t.numel() * t.element_size());
  }
  // Waits until the communicator's pending operation (set-up, an enqueue, finalize) is done;
  // aborts it and throws on an NCCL error or at the deadline.
  void wait_ready(const std::string& what) {
    wait_with_deadline(
        [this] {
          ncclResult_t state = ncclSuccess;
          const ncclResult_t rc = ncclCommGetAsyncError(comm_, &state);
          AsyncState s;
          if (rc != ncclSuccess) s.error = ncclGetErrorString(rc);
          else if (state == ncclInProgress) s.pending = true;
          else if (state != ncclSuccess) s.error = ncclGetErrorString(state);
          return s;
        },
        [this] {
          if (!aborted_) ncclCommAbort(comm_);
          aborted_ = true;
        },
        timeout_, what,
        "a peer that never connects is often NCCL choosing the wrong network interface: set "
        "NCCL_SOCKET_IFNAME (e.g. =ib0 or =eth0) and NCCL_DEBUG=INFO to see its choice",
        [] { std::this_thread::sleep_for(std::chrono::milliseconds(1)); });
  }
  template <class Call>
  void run(torch::Tensor& t, const char* name, Call call) {
    IPM_CHECK(!aborted_, "the NCCL communicator of rank " << rank() << " was aborted earlier");
    // The ranks meet (no deadline) before the first device collective of a job: slow data
    // reads on one rank must not count against the collective's deadline.
    job_start_.before_device_collective();
    c10::cuda::CUDAGuard guard(device_.index());
    std::ostringstream what;
    what << name << " of " << t.numel() << " " << t.scalar_type() << " on rank " << rank();
    CudaNcclStreams streams(comm_stream_, &comm_, &aborted_);
    run_ordered_collective(
        streams,
        [&] {
          const ncclResult_t rc = call();
          // A non-blocking communicator may still be enqueuing: the kernel must be on the
          // comm stream before the events that order it are recorded.
          if (rc == ncclInProgress) {
            wait_ready(std::string(name) + " enqueue on rank " + std::to_string(rank()));
          } else {
            nccl_check(rc, name, rank());
          }
          // The allocator must not reuse t's memory before the comm stream is done with it.
          t.record_stream(comm_stream_);
        },
        timeout_, what.str(), [] { std::this_thread::yield(); });
  }

  std::unique_ptr<MpiCommunicator> mpi_;  // the group; also carries CPU tensors
  torch::Device device_;
  c10::cuda::CUDAStream comm_stream_;
  std::chrono::seconds timeout_;
  ncclComm_t comm_ = nullptr;
  bool aborted_ = false;
  JobStartBarrier job_start_{[this] { MPI_Barrier(mpi_->comm()); }};
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(MPI_Comm group, int cuda_device) {
  return std::make_unique<NcclCommunicator>(group, cuda_device);
}

}  // namespace ipm
