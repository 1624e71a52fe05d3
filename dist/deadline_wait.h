// Waiting for an asynchronous operation under a deadline, against a source of its state:
// NCCL's non-blocking ncclCommInitRankConfig polled with ncclCommGetAsyncError (in
// nccl_communicator.cc), a scripted fake in tests. Pure logic, no CUDA.
// defines: ipm::AsyncState, ipm::wait_with_deadline
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace ipm {

struct AsyncState {
  bool pending = false;  // still in progress (ncclInProgress)
  std::string error;     // non-empty: failed with this reason
};

// Polls state() until it is neither pending nor failed. On an error, or when `timeout` has
// passed, calls abort() (once) and throws ipm::Error naming `what`, the reason and `hint`.
// poll: called between polls (sleep/yield); injectable so tests need not wait.
void wait_with_deadline(const std::function<AsyncState()>& state,
                        const std::function<void()>& abort,
                        std::chrono::steady_clock::duration timeout, const std::string& what,
                        const std::string& hint, const std::function<void()>& poll);

}  // namespace ipm
