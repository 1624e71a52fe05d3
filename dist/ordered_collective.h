// How one device collective is ordered against training's compute, and how it is waited for
// so that a failed or vanished peer turns into an error instead of a hang. Pure logic behind
// a small interface: the CUDA/NCCL implementation is in nccl_communicator.cc, a recording
// fake in tests/ordered_collective_test.cc.
// defines: ipm::CollectiveStreams, ipm::run_ordered_collective
//
// The sequence for a collective on tensor t, produced on the compute stream:
//   1. comm_waits_for_compute(): event recorded on the compute stream; the comm stream waits
//      for it (the all-reduce must not read t before the kernels that write it have run);
//   2. launch(): the NCCL call, enqueued on the comm stream (t is marked as used there, so
//      the caching allocator does not hand its memory out while NCCL still reads it);
//   3. compute_waits_for_comm(): event recorded on the comm stream; the compute stream waits
//      for it (whatever reads t next sees the reduced values);
//   4. until comm_done(): poll async_error(); on an error or past the deadline abort() the
//      communicator (every pending NCCL kernel of this rank returns) and throw ipm::Error.
// Step 4 makes each collective synchronous for the host. The training loop reads a loss
// value every step anyway, so no overlap is lost, and an NCCL kernel waiting for a dead
// peer can never block a later cudaStreamSynchronize forever.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace ipm {

class CollectiveStreams {
 public:
  virtual ~CollectiveStreams() = default;
  virtual void comm_waits_for_compute() = 0;
  virtual void compute_waits_for_comm() = 0;
  virtual bool comm_done() = 0;             // the comm stream's last event has completed
  virtual std::string async_error() = 0;    // "" while the communicator is healthy
  virtual void abort() = 0;                 // ncclCommAbort: pending kernels return
};

// what: names the collective in errors ("all-reduce of 33k float32 on rank 1").
// poll: called between polls (sleep/yield); injectable so tests need not sleep.
void run_ordered_collective(CollectiveStreams& s, const std::function<void()>& launch,
                            std::chrono::steady_clock::duration timeout, const std::string& what,
                            const std::function<void()>& poll);

}  // namespace ipm
