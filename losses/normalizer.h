// The per-class normalizer of Eq. 2: log Z_l = log sum_j q_j(l) over some set of samples.
// defines: ipm::Normalizer, ipm::LocalNormalizer, ipm::EmaNormalizer
//
// The losses only ask for log Z; which samples it spans is the normalizer's business:
//   local   this batch (the paper's Fig. 2, "normalization done within batches")
//   global  the global batch across ranks (dist/global_normalizer.h, all-reduced)
//   ema     a running per-class mean of q over past batches mixed with this one
// The scale of Z cancels in r (Eq. 3 renormalizes over l), so log Z may be offset by any
// per-sample-independent constant; only its variation over l matters.
#pragma once

#include <torch/torch.h>

namespace ipm {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // log_q [M, L] -> log Z [L]. Differentiable: gradients of the loss flow through log Z
  // into log_q, as in the paper's code (nothing is detached).
  virtual torch::Tensor log_z(const torch::Tensor& log_q) = 0;
  virtual const char* name() const = 0;
};

// log Z_l = logsumexp_i log q_il over the rows given.
class LocalNormalizer final : public Normalizer {
 public:
  torch::Tensor log_z(const torch::Tensor& log_q) override;
  const char* name() const override { return "local"; }
};

// Beyond the paper (App. B suggests estimating the denominator "across multiple batches").
// Z_l = (1 - w) * mean_i q_il (this batch, differentiable) + w * m_l (detached running mean),
// then m <- decay * m + (1 - decay) * mean_i q_il. Means, not sums, so batches of any size
// are comparable; w = decay once warm, 0 on the first batch. Computed in log space (a class
// whose q underflows in every row would otherwise give log 0). A distributed caller
// overrides log_batch_mean to supply the global mean of q (its own all-reduce).
// EXPERIMENTAL, measured unstable: RQ with it collapses to one class at every batch size
// tried (8, 64, 256; decay 0.5-0.9; lr 1e-3 and 1e-4), while decay 0 (= local) trains.
// Why: with part of Z detached, a sample lowers its loss by moving q toward the classes
// whose Z is small (r ~ p q / Z), and nothing pushes back; with Z over the batch, raising
// q_i(l) raises Z_l in the same backward pass, and that gradient is what stops the herding.
// Also tried and failed the same way: the value from the mixture with the gradient of the
// batch alone, and Z over past batches re-evaluated by the current model (no gradient).
// For small per-rank batches, use `global` over more ranks.
class EmaNormalizer : public Normalizer {
 public:
  explicit EmaNormalizer(double decay);
  torch::Tensor log_z(const torch::Tensor& log_q) override;
  const char* name() const override { return "ema"; }
  // Running mean of q per class [L] (undefined before the first batch); part of a checkpoint.
  torch::Tensor running_mean() const;
  void set_running_mean(const torch::Tensor& m);

 protected:
  // log mean_i q_il over the rows the normalizer spans, differentiable. [L]
  virtual torch::Tensor log_batch_mean(const torch::Tensor& log_q);

 private:
  double decay_;
  torch::Tensor log_running_;
};

}  // namespace ipm
