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

// A counter in an MPI window on world rank 0, advanced with MPI_Fetch_and_op under an
// exclusive passive-target lock: any rank may call next() at any time. Constructed and
// destroyed collectively by every rank of `comm`.
// Progress: on one node Open MPI's shared-memory windows serve the atomics directly, but
// across nodes (osc pt2pt, or rdma without hardware atomics) a request is only answered when
// rank 0 enters MPI, and rank 0 may be deep in a GPU job between collectives (NCCL's run
// outside MPI) or reading data for minutes. So when MPI runs with MPI_THREAD_MULTIPLE, rank
// 0 keeps a progress thread that enters MPI (MPI_Iprobe) every millisecond while the counter
// lives; without MULTIPLE it falls back to the window alone, as before.
class MpiWorkCounter final : public WorkCounter {
 public:
  explicit MpiWorkCounter(MPI_Comm comm);
  bool has_progress_thread() const { return progress_.joinable(); }
  ~MpiWorkCounter() override;
  MpiWorkCounter(const MpiWorkCounter&) = delete;
  MpiWorkCounter& operator=(const MpiWorkCounter&) = delete;
  int64_t next() override;

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  int64_t* base_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread progress_;  // rank 0 only, under MPI_THREAD_MULTIPLE
};

}  // namespace ipm
