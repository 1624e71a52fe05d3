#include "trainer/lagged_loss.h"

#include <thread>

#include <c10/core/impl/VirtualGuardImpl.h>

namespace ipm {

void LaggedLoss::put(const torch::Tensor& loss, int64_t step) {
  step_ = step;
  if (!loss.device().is_cuda()) {
    host_ = loss;
    copied_.reset();
    return;
  }
  // A non_blocking copy to the CPU lands in pinned memory (so it is truly asynchronous);
  // the event, recorded on the stream the step ran on, completes when the copy has.
  host_ = loss.to(torch::kCPU, /*non_blocking=*/true);
  const c10::impl::VirtualGuardImpl cuda(loss.device().type());
  copied_.emplace(loss.device().type());
  copied_->record(cuda.getStream(loss.device()));
}

double LaggedLoss::take() {
  // (LibTorch 1.13's c10::Event has no synchronize(): poll. The copy was queued a whole step
  // ago, so it has usually completed already.)
  if (copied_) {
    while (!copied_->query()) std::this_thread::yield();
  }
  const double v = host_.item<double>();
  host_ = torch::Tensor();
  copied_.reset();
  return v;
}

}  // namespace ipm
