#include "losses/normalizer.h"

#include <cmath>

#include "common/error.h"

namespace ipm {

torch::Tensor LocalNormalizer::log_z(const torch::Tensor& log_q) {
  return torch::logsumexp(log_q, /*dim=*/0);
}

EmaNormalizer::EmaNormalizer(EmaOptions options) : options_(options) {
  IPM_CHECK(options.decay >= 0.0 && options.decay < 1.0,
            "ema decay must be in [0, 1), got " << options.decay);
  IPM_CHECK(options.samples > 0.0, "ema samples must be positive, got " << options.samples);
  IPM_CHECK(options.warmup >= 0, "ema warmup must be >= 0, got " << options.warmup);
}

std::pair<torch::Tensor, int64_t> EmaNormalizer::log_batch_mean(const torch::Tensor& log_q) {
  const int64_t rows = log_q.size(0);
  return {torch::logsumexp(log_q, 0) - std::log(static_cast<double>(rows)), rows};
}

EmaNormalizer::State EmaNormalizer::state() const {
  return {log_running_.defined() ? log_running_.exp() : torch::Tensor(), steps_};
}

void EmaNormalizer::set_state(const State& s) {
  log_running_ = s.running_mean.defined() ? s.running_mean.log() : torch::Tensor();
  steps_ = s.steps;
}

torch::Tensor EmaNormalizer::log_z(const torch::Tensor& log_q) {
  const auto [log_mean, rows] = log_batch_mean(log_q);  // [L], carries the gradient
  torch::Tensor log_z = log_mean;
  if (log_running_.defined() && steps_ >= options_.warmup) {
    // log((B * mean + K * m) / (B + K)), in log space: a class whose q underflows in every
    // row would otherwise give log 0.
    const double b = static_cast<double>(rows), k = options_.samples;
    const torch::Tensor mixed =
        torch::logaddexp(log_mean + std::log(b / (b + k)),
                         log_running_.to(log_mean.scalar_type()) + std::log(k / (b + k)));
    // The value of the mixture with the gradient of the batch's own log Z (a straight-through
    // offset): see the header for why the gradient must stay at full strength.
    log_z = log_mean + (mixed - log_mean).detach();
  }
  // The running estimate only moves while training; evaluation reads it as it is.
  if (torch::GradMode::is_enabled()) {
    const torch::Tensor m = log_mean.detach();
    log_running_ = log_running_.defined()
        ? torch::logaddexp(log_running_ + std::log(options_.decay), m + std::log1p(-options_.decay))
        : m.clone();
    ++steps_;
  }
  return log_z;
}

}  // namespace ipm
