// A step's loss, read on the host one step later without waiting for the step queued after
// it. On a GPU, reading a loss (`.item()`) waits for everything queued on the stream so far:
// read at once, it stalls the host until the step ends, and the GPU idles while the next
// step is queued; read after the next step is queued, it waits for that one too. So the
// value is copied to the host right after its step (non_blocking, into pinned memory) and
// an event marks that copy: `take` waits for the copy alone. On the CPU it is the value.
// defines: ipm::LaggedLoss
#pragma once

#include <cstdint>
#include <optional>

#include <c10/core/Event.h>
#include <torch/torch.h>

namespace ipm {

class LaggedLoss {
 public:
  // Queues the copy of `loss` (a scalar on the step's device) from step `step`.
  void put(const torch::Tensor& loss, int64_t step);
  bool empty() const { return !host_.defined(); }
  int64_t step() const { return step_; }
  // The value put last, waiting for its copy only; empties.
  double take();

 private:
  torch::Tensor host_;
  int64_t step_ = 0;
  std::optional<c10::Event> copied_;  // recorded after the copy, on GPU devices
};

}  // namespace ipm
