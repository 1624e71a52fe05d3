#include "dist/work_counter.h"

#include <chrono>
#include <exception>

#include "common/error.h"

namespace ipm {
namespace {

constexpr int kAsk = 1, kAnswer = 2;  // tags on the counter's own communicator

}  // namespace

MpiWorkCounter::MpiWorkCounter(MPI_Comm comm) {
  MPI_Comm_rank(comm, &rank_);
  int size = 1, level = MPI_THREAD_SINGLE;
  MPI_Comm_size(comm, &size);
  MPI_Query_thread(&level);
  int multiple = level == MPI_THREAD_MULTIPLE ? 1 : 0, all_multiple = 0;
  MPI_Allreduce(&multiple, &all_multiple, 1, MPI_INT, MPI_MIN, comm);
  if (all_multiple && size > 1) {
    IPM_CHECK(MPI_Comm_dup(comm, &server_comm_) == MPI_SUCCESS,
              "MPI_Comm_dup failed for the job counter");
    if (rank_ == 0) server_ = std::thread([this] { serve(); });
    return;
  }
  const MPI_Aint bytes = rank_ == 0 ? sizeof(int64_t) : 0;
  IPM_CHECK(MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, comm, &base_, &win_) ==
                MPI_SUCCESS,
            "MPI_Win_allocate failed for the job counter");
  if (rank_ == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
    *base_ = 0;
    MPI_Win_unlock(0, win_);
  }
  MPI_Barrier(comm);  // nobody takes a number before it is zero
}

void MpiWorkCounter::serve() {
  while (true) {
    int ask = 0;
    MPI_Request req;
    MPI_Irecv(&ask, 1, MPI_INT, MPI_ANY_SOURCE, kAsk, server_comm_, &req);
    int got = 0;
    MPI_Status st;
    while (true) {
      MPI_Test(&req, &got, &st);
      if (got || stop_.load()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!got) {  // stopping: every rank has left next() (the destructor's barrier)
      MPI_Cancel(&req);
      MPI_Wait(&req, MPI_STATUS_IGNORE);
      return;
    }
    const int64_t v = value_.fetch_add(1);
    MPI_Send(&v, 1, MPI_INT64_T, st.MPI_SOURCE, kAnswer, server_comm_);
  }
}

MpiWorkCounter::~MpiWorkCounter() {
  // Collective: skipped while an error unwinds this rank toward MPI_Abort, since the others
  // may be training and would never join it.
  const bool clean = std::uncaught_exceptions() == 0;
  if (server_comm_ != MPI_COMM_NULL) {
    if (clean) MPI_Barrier(server_comm_);  // nobody asks any more
    stop_ = true;
    if (server_.joinable()) server_.join();
    if (clean) MPI_Comm_free(&server_comm_);
    return;
  }
  if (win_ != MPI_WIN_NULL && clean) MPI_Win_free(&win_);
}

int64_t MpiWorkCounter::next() {
  if (server_comm_ != MPI_COMM_NULL) {
    if (rank_ == 0) return value_.fetch_add(1);
    const int ask = 1;
    int64_t got = 0;
    MPI_Send(&ask, 1, MPI_INT, 0, kAsk, server_comm_);
    MPI_Recv(&got, 1, MPI_INT64_T, 0, kAnswer, server_comm_, MPI_STATUS_IGNORE);
    return got;
  }
  const int64_t one = 1;
  int64_t got = 0;
  MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
  MPI_Fetch_and_op(&one, &got, MPI_INT64_T, 0, 0, MPI_SUM, win_);
  MPI_Win_unlock(0, win_);
  return got;
}

}  // namespace ipm
