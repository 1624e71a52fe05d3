#include "losses/normalizer.h"

#include <cmath>

#include "common/error.h"

namespace ipm {

torch::Tensor LocalNormalizer::log_z(const torch::Tensor& log_q) {
  return torch::logsumexp(log_q, /*dim=*/0);
}

EmaNormalizer::EmaNormalizer(double decay) : decay_(decay) {
  IPM_CHECK(decay >= 0.0 && decay < 1.0, "ema decay must be in [0, 1), got " << decay);
}

torch::Tensor EmaNormalizer::log_batch_mean(const torch::Tensor& log_q) {
  return torch::logsumexp(log_q, 0) - std::log(static_cast<double>(log_q.size(0)));
}

torch::Tensor EmaNormalizer::running_mean() const {
  return log_running_.defined() ? log_running_.exp() : torch::Tensor();
}

void EmaNormalizer::set_running_mean(const torch::Tensor& m) {
  log_running_ = m.defined() ? m.log() : torch::Tensor();
}

torch::Tensor EmaNormalizer::log_z(const torch::Tensor& log_q) {
  const torch::Tensor log_mean = log_batch_mean(log_q);  // [L], carries the gradient
  torch::Tensor log_z = log_mean;
  if (log_running_.defined()) {
    log_z = torch::logaddexp(log_mean + std::log1p(-decay_), log_running_ + std::log(decay_));
  }
  // The running estimate only moves while training; evaluation reads it as it is.
  if (torch::GradMode::is_enabled()) {
    const torch::Tensor m = log_mean.detach();
    log_running_ = log_running_.defined()
        ? torch::logaddexp(log_running_ + std::log(decay_), m + std::log1p(-decay_))
        : m.clone();
  }
  return log_z;
}

}  // namespace ipm
