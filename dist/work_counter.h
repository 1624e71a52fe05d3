// Hands out job numbers 0, 1, 2, ... to whoever asks first: the dynamic scheduling of a
// suite's jobs over groups of ranks (long and short jobs mix; a group that finishes early
// takes the next job).
// defines: ipm::WorkCounter, ipm::LocalWorkCounter, ipm::MpiWorkCounter
#pragma once

#include <mpi.h>

#include <cstdint>

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
// exclusive passive-target lock: any rank may call next() at any time, and rank 0 need not
// take part. Constructed and destroyed collectively by every rank of `comm`. (On one node
// Open MPI's shared-memory windows serve the atomics directly; across nodes, progress may
// wait for rank 0's next MPI call, i.e. its next step or job.)
class MpiWorkCounter final : public WorkCounter {
 public:
  explicit MpiWorkCounter(MPI_Comm comm);
  ~MpiWorkCounter() override;
  MpiWorkCounter(const MpiWorkCounter&) = delete;
  MpiWorkCounter& operator=(const MpiWorkCounter&) = delete;
  int64_t next() override;

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  int64_t* base_ = nullptr;
};

}  // namespace ipm
