// The per-class normalizer of Eq. 2 over the *global* batch: every rank's rows.
// defines: ipm::global_logsumexp, ipm::GlobalNormalizer, ipm::GlobalEmaNormalizer
//
// Rank r holds log_q [M_r, L] for its slice. Forward (two all-reduces of L numbers):
//   m_l = max_r max_i log q_il,  s_l = sum_r sum_i exp(log q_il - m_l),  log Z_l = m_l + log s_l
// Backward (one all-reduce): with g_l = dL_r/dlog Z_l from this rank's loss,
//   G_l = sum_r g_l,   dL/dlog q_il += exp(log q_il - log Z_l) * G_l
// which is the gradient of the global loss sum_r L_r, provided each rank's parameter
// gradients are summed afterwards (SyncBatchNorm's pattern). Every rank must run the
// forward and the backward, in the same order.
#pragma once

#include "dist/communicator.h"
#include "losses/normalizer.h"

namespace ipm {

// logsumexp over dim 0 of x [M_r, L] across all ranks of comm: [L], differentiable as above.
torch::Tensor global_logsumexp(const torch::Tensor& x, Communicator& comm);

class GlobalNormalizer final : public Normalizer {
 public:
  explicit GlobalNormalizer(Communicator& comm) : comm_(comm) {}
  torch::Tensor log_z(const torch::Tensor& log_q) override {
    return global_logsumexp(log_q, comm_);
  }
  const char* name() const override { return "global"; }

 private:
  Communicator& comm_;
};

// The ema normalizer with the batch mean taken over the global batch.
class GlobalEmaNormalizer final : public EmaNormalizer {
 public:
  GlobalEmaNormalizer(EmaOptions options, Communicator& comm)
      : EmaNormalizer(options), comm_(comm) {}

 protected:
  std::pair<torch::Tensor, int64_t> log_batch_mean(const torch::Tensor& log_q) override;

 private:
  Communicator& comm_;
};

}  // namespace ipm
