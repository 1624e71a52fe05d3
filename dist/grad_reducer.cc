#include "dist/grad_reducer.h"

#include "common/error.h"

namespace ipm {

GradReducer::GradReducer(std::vector<torch::Tensor> params, Communicator& comm)
    : params_(std::move(params)), comm_(comm) {
  IPM_CHECK(!params_.empty(), "GradReducer: no parameters");
  int64_t total = 0;
  for (const auto& p : params_) {
    IPM_CHECK(p.scalar_type() == params_[0].scalar_type(), "GradReducer: mixed parameter types");
    total += p.numel();
  }
  flat_ = torch::zeros({total}, params_[0].options());
}

void GradReducer::sum_gradients() {
  if (comm_.size() == 1) return;
  // Packed in logical order (view + copy_ handle any strides, channels-last included), so
  // ranks agree on the layout whatever memory format each gradient came out in.
  int64_t offset = 0;
  for (const auto& p : params_) {
    torch::Tensor slot = flat_.narrow(0, offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) {
      slot.copy_(p.grad());
    } else {
      slot.zero_();
    }
    offset += p.numel();
  }
  comm_.allreduce_sum(flat_);
  offset = 0;
  for (auto& p : params_) {
    const torch::Tensor slot = flat_.narrow(0, offset, p.numel()).view(p.sizes());
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().copy_(slot);
    offset += p.numel();
  }
}

}  // namespace ipm
