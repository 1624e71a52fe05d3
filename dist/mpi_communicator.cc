#include "dist/mpi_communicator.h"

#include <cstdlib>
#include <exception>

#include "common/error.h"

namespace ipm {
namespace {

void mpi_check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(std::string("MPI ") + what + " failed: " + std::string(msg, len));
}

MPI_Datatype mpi_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    default: throw Error("MPI collectives take float32, float64 or int64 tensors");
  }
}

// Element-wise collectives only need the storage to be dense (no gaps or overlap).
void check_dense(const torch::Tensor& t) {
  IPM_CHECK(t.device().is_cpu(), "MPI collectives need CPU tensors");
  IPM_CHECK(t.is_non_overlapping_and_dense(),
            "MPI collectives need a dense tensor (got strides " << t.strides() << ")");
}

}  // namespace

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(var)) return true;
  }
  return false;
}

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int provided = 0;
  // MULTIPLE for the job counter's progress thread on rank 0 (dist/work_counter.h); every
  // other MPI call stays on the main thread. Less is fine: the counter falls back.
  mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
}

MpiRuntime::~MpiRuntime() { MPI_Finalize(); }

void MpiRuntime::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  // Collective: skipped while an error unwinds toward MPI_Abort (see MpiWorkCounter).
  if (comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_NULL && std::uncaught_exceptions() == 0) {
    MPI_Comm_free(&comm_);
  }
}

void MpiCommunicator::allreduce(torch::Tensor& t, MPI_Op op) {
  check_dense(t);
  if (size_ == 1) return;
  const auto t0 = std::chrono::steady_clock::now();
  mpi_check(MPI_Allreduce(MPI_IN_PLACE, t.data_ptr(), static_cast<int>(t.numel()), mpi_type(t),
                          op, comm_),
            "MPI_Allreduce");
  add_comm_time(t0, t.numel() * t.element_size());
}

void MpiCommunicator::allreduce_sum(torch::Tensor& t) { allreduce(t, MPI_SUM); }
void MpiCommunicator::allreduce_max(torch::Tensor& t) { allreduce(t, MPI_MAX); }

void MpiCommunicator::broadcast(torch::Tensor& t, int root) {
  check_dense(t);
  if (size_ == 1) return;
  mpi_check(MPI_Bcast(t.data_ptr(), static_cast<int>(t.numel()), mpi_type(t), root, comm_),
            "MPI_Bcast");
}

}  // namespace ipm
