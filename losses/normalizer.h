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

#include <utility>

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

// Beyond the paper (App. B: "it may be beneficial to estimate the denominator of Eq. 2 across
// multiple batches"), for small batches, where a batch normalizer forces every class to be
// assigned within each batch even when the batch holds no sample of it (Table B.1).
//
// The running per-class mean m of q over past batches (detached) counts as `samples`
// pseudo-samples beside the B rows of this batch:
//   Z_l = (B * mean_i q_il + K * m_l) / (B + K),   m <- decay * m + (1 - decay) * mean_i q_il
// Means, not sums, so batches of any size are comparable (the scale of Z cancels in r).
// The gradient is the batch normalizer's, at full strength: log Z = log mean_batch + c with
// the offset c = log Z - log mean_batch held constant (straight-through). For the first
// `warmup` steps Z is this batch's alone (= local/global) while m warms up.
//
// Why the batch's gradient is kept at full strength: it is what keeps r from following a
// shift of q's class marginal, and what makes training leave the trivial fixed point where q
// is the same for every x (r = p there). Forms that scale it down (weighting the running mean
// into the gradient, geometric means) collapse to one or two classes or stay at that point.
// With it and the warm-up, RQ at batch 8 trains like `local` at much larger batches
// (docs/results.md, "Normalizers and batch size").
struct EmaOptions {
  double decay = 0.99;   // of the running mean, per step
  double samples = 16;   // K: how many samples the running mean counts as
  // Steps with the batch's own normalizer first. It must outlast the batch normalizer's own
  // escape from the trivial point (q the same for every x): mixed in earlier, the running
  // mean of that constant q holds training there (docs/results.md gives the measurement).
  int64_t warmup = 2000;
};

class EmaNormalizer : public Normalizer {
 public:
  explicit EmaNormalizer(EmaOptions options);
  torch::Tensor log_z(const torch::Tensor& log_q) override;
  const char* name() const override { return "ema"; }

  // What a checkpoint needs: the running mean of q per class [L] (undefined before the first
  // training batch) and the number of training steps seen.
  struct State {
    torch::Tensor running_mean;
    int64_t steps = 0;
  };
  State state() const;
  void set_state(const State& s);

 protected:
  // log mean_i q_il over the rows the normalizer spans, differentiable [L], and how many rows
  // that is. A distributed caller overrides it to span the global batch.
  virtual std::pair<torch::Tensor, int64_t> log_batch_mean(const torch::Tensor& log_q);

 private:
  EmaOptions options_;
  torch::Tensor log_running_;
  int64_t steps_ = 0;
};

}  // namespace ipm
