#include "dist/ordered_collective.h"

#include "common/error.h"

namespace ipm {

void run_ordered_collective(CollectiveStreams& s, const std::function<void()>& launch,
                            std::chrono::steady_clock::duration timeout, const std::string& what,
                            const std::function<void()>& poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  s.comm_waits_for_compute();
  launch();
  s.compute_waits_for_comm();
  while (!s.comm_done()) {
    const std::string err = s.async_error();
    if (!err.empty()) {
      s.abort();
      throw Error("NCCL " + what + " failed: " + err);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      s.abort();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
      throw Error("NCCL " + what + " did not complete within " +
                  (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms") +
                  " (a peer rank failed or hangs; IPM_NCCL_TIMEOUT_S sets the limit)");
    }
    poll();
  }
}

}  // namespace ipm
