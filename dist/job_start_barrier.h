// When a device collective first meets its group at a host barrier, which has no deadline.
// defines: ipm::JobStartBarrier
//
// Each NCCL collective has a deadline (IPM_NCCL_TIMEOUT_S). At a job's start the ranks read
// their data first, at different speeds (a cold file system, a slow node): without a meeting
// point the fastest rank's first all-reduce waits for the slowest one's reads and may hit
// the deadline although nothing is wrong. So the first device collective after any host
// (MPI) collective waits at an MPI barrier first. Host collectives mark the phases where
// ranks may drift apart: the job hand-out (a CPU broadcast) starts every job, epoch sums end
// every epoch. Every rank issues the same collectives in the same order, so every rank
// reaches the same barriers: the rule is collective without any exchange.
#pragma once

#include <functional>
#include <utility>

namespace ipm {

class JobStartBarrier {
 public:
  explicit JobStartBarrier(std::function<void()> barrier) : barrier_(std::move(barrier)) {}
  void after_host_collective() { due_ = true; }
  // Call before each device collective: meets the group when one is due.
  void before_device_collective() {
    if (!due_) return;
    barrier_();
    due_ = false;
  }

 private:
  std::function<void()> barrier_;
  bool due_ = true;  // the communicator's first collective is the first job's
};

}  // namespace ipm
