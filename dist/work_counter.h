// Hands out job numbers 0, 1, 2, ... to whoever asks first: the dynamic scheduling of a
// suite's jobs over groups of ranks (long and short jobs mix; a group that finishes early
// takes the next job).
// defines: ipm::WorkCounter, ipm::LocalWorkCounter, ipm::MpiWorkCounter
#pragma once

#include <mpi.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace ipm {

class WorkCounter {
 public:
  virtual ~WorkCounter() = default;
  virtual int64_t next() = 0;  // each value is returned exactly once, over all callers
};

class LocalWorkCounter final : public WorkCounter {
 public:
  int64_t next() override { return value_++; }

 private:
  int64_t value_ = 0;
};

// The suite's shared counter, on world rank 0, usable by any rank at any time. Constructed
// and destroyed collectively by every rank of `comm`.
// Two implementations, chosen together by all ranks:
//  - with MPI_THREAD_MULTIPLE (requested at start-up): a server thread on rank 0 answers
//    each rank's request message with the next number. Rank 0's training never has to enter
//    MPI for others to get work: under NCCL it may compute for minutes between MPI calls,
//    and across nodes without RDMA atomics a window's request waits for exactly that.
//    (Open MPI 4.1's message-based window, osc pt2pt, also refuses MULTIPLE outright.)
//    The thread polls every 0.2 ms; rank 0 itself takes numbers from the same atomic.
//  - otherwise: an MPI window with MPI_Fetch_and_op under an exclusive passive-target lock
//    (on one node Open MPI's shared-memory windows serve it directly; across nodes progress
//    may wait for rank 0's next MPI call).
class MpiWorkCounter final : public WorkCounter {
 public:
  explicit MpiWorkCounter(MPI_Comm comm);
  ~MpiWorkCounter() override;
  MpiWorkCounter(const MpiWorkCounter&) = delete;
  MpiWorkCounter& operator=(const MpiWorkCounter&) = delete;
  int64_t next() override;
  bool has_server_thread() const { return server_.joinable(); }

 private:
  void serve();  // rank 0's server thread

  int rank_ = 0;
  // Server mode (MPI_THREAD_MULTIPLE everywhere):
  MPI_Comm server_comm_ = MPI_COMM_NULL;  // a duplicate: its messages meet nothing else
  std::atomic<int64_t> value_{0};         // rank 0
  std::atomic<bool> stop_{false};
  std::thread server_;
  // Window mode:
  MPI_Win win_ = MPI_WIN_NULL;
  int64_t* base_ = nullptr;
};

}  // namespace ipm
