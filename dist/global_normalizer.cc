#include "dist/global_normalizer.h"

#include <cmath>

namespace ipm {
namespace {

// Autograd node for global_logsumexp. The communicator travels as an integer in saved_data
// (IValues hold no raw pointers); it outlives every graph built during a training step.
class GlobalLogSumExp : public torch::autograd::Function<GlobalLogSumExp> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               int64_t comm_ptr) {
    auto& comm = *reinterpret_cast<Communicator*>(comm_ptr);
    torch::Tensor m = std::get<0>(x.max(0)).contiguous();  // [L]
    comm.allreduce_max(m);
    torch::Tensor s = (x - m.unsqueeze(0)).exp().sum(0).contiguous();
    comm.allreduce_sum(s);
    const torch::Tensor log_z = m + s.log();
    ctx->save_for_backward({x, log_z});
    ctx->saved_data["comm"] = comm_ptr;
    return log_z;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto& comm = *reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt());
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& log_z = saved[1];
    torch::Tensor g = grads[0].contiguous().clone();  // [L], this rank's dL_r/dlog Z
    comm.allreduce_sum(g);
    return {(x - log_z.unsqueeze(0)).exp() * g.unsqueeze(0), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor global_logsumexp(const torch::Tensor& x, Communicator& comm) {
  return GlobalLogSumExp::apply(x, reinterpret_cast<int64_t>(&comm));
}

std::pair<torch::Tensor, int64_t> GlobalEmaNormalizer::log_batch_mean(const torch::Tensor& log_q) {
  torch::Tensor rows = torch::tensor({log_q.size(0)}, torch::kInt64);
  comm_.allreduce_sum(rows);
  const int64_t n = rows.item<int64_t>();
  return {global_logsumexp(log_q, comm_) - std::log(static_cast<double>(n)), n};
}

}  // namespace ipm
