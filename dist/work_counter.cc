#include "dist/work_counter.h"

#include <chrono>
#include <exception>

#include "common/error.h"

namespace ipm {

MpiWorkCounter::MpiWorkCounter(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const MPI_Aint bytes = rank == 0 ? sizeof(int64_t) : 0;
  IPM_CHECK(MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, comm, &base_, &win_) ==
                MPI_SUCCESS,
            "MPI_Win_allocate failed for the job counter");
  if (rank == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
    *base_ = 0;
    MPI_Win_unlock(0, win_);
  }
  MPI_Barrier(comm);  // nobody takes a number before it is zero
  int size = 1, level = MPI_THREAD_SINGLE;
  MPI_Comm_size(comm, &size);
  MPI_Query_thread(&level);
  if (rank == 0 && size > 1 && level == MPI_THREAD_MULTIPLE) {
    progress_ = std::thread([this] {
      // Any MPI call runs Open MPI's progress engine, which serves the window's requests.
      while (!stop_.load(std::memory_order_relaxed)) {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_SELF, &flag, MPI_STATUS_IGNORE);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
}

MpiWorkCounter::~MpiWorkCounter() {
  stop_ = true;
  if (progress_.joinable()) progress_.join();
  // MPI_Win_free waits for every rank: while an error unwinds this rank toward MPI_Abort,
  // the others may be training and would never join it.
  if (win_ != MPI_WIN_NULL && std::uncaught_exceptions() == 0) MPI_Win_free(&win_);
}

int64_t MpiWorkCounter::next() {
  const int64_t one = 1;
  int64_t got = 0;
  MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
  MPI_Fetch_and_op(&one, &got, MPI_INT64_T, 0, 0, MPI_SUM, win_);
  MPI_Win_unlock(0, win_);
  return got;
}

}  // namespace ipm
