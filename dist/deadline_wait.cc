#include "dist/deadline_wait.h"

#include <sstream>

#include "common/error.h"

namespace ipm {

void wait_with_deadline(const std::function<AsyncState()>& state,
                        const std::function<void()>& abort,
                        std::chrono::steady_clock::duration timeout, const std::string& what,
                        const std::string& hint, const std::function<void()>& poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const AsyncState s = state();
    if (!s.error.empty()) {
      abort();
      throw Error(what + " failed: " + s.error + (hint.empty() ? "" : "; " + hint));
    }
    if (!s.pending) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      abort();
      std::ostringstream msg;
      msg << what << " did not finish within " << std::chrono::duration<double>(timeout).count()
          << " s (IPM_NCCL_TIMEOUT_S)" << (hint.empty() ? "" : "; " + hint);
      throw Error(msg.str());
    }
    poll();
  }
}

}  // namespace ipm
