#include "losses/implicit_losses.h"

#include <cmath>

#include "common/error.h"

namespace ipm {
namespace {

// log p with exact -inf at zeros (floor == 0) or log max(p, floor).
torch::Tensor log_prior(const torch::Tensor& prior, double floor) {
  if (floor > 0.0) return prior.clamp_min(floor).log();
  return prior.log();  // log 0 = -inf: masked by every caller
}

void check_shapes(const torch::Tensor& log_q, const torch::Tensor& prior) {
  IPM_CHECK(log_q.dim() == 2, "loss: log_q must be [M, L], got " << log_q.sizes());
  IPM_CHECK(prior.sizes() == log_q.sizes(),
            "loss: prior " << prior.sizes() << " does not match log_q " << log_q.sizes());
}

}  // namespace

LossKind parse_loss(const std::string& name) { return parse_enum<LossKind>(name, "loss"); }

const char* loss_name(LossKind kind) { return enum_to_name(kind); }

torch::Tensor implied_log_posterior(const torch::Tensor& log_q, const torch::Tensor& prior,
                                    const torch::Tensor& log_z, double prior_floor) {
  check_shapes(log_q, prior);
  // Rows with a zero prior entry get -inf there; log_softmax handles -inf (exp gives 0 and
  // its backward passes the incoming gradient through unchanged, which callers keep finite).
  return torch::log_softmax(log_q - log_z.unsqueeze(0) + log_prior(prior, prior_floor), 1);
}

torch::Tensor per_sample_loss(LossKind kind, const torch::Tensor& log_q,
                              const torch::Tensor& prior, Normalizer& normalizer) {
  return loss_terms(kind, log_q, prior, normalizer).per_sample;
}

LossTerms loss_terms(LossKind kind, const torch::Tensor& log_q, const torch::Tensor& prior,
                     Normalizer& normalizer) {
  check_shapes(log_q, prior);
  switch (kind) {
    case LossKind::kCE:
      return {-(prior * log_q).sum(1), {}};
    case LossKind::kHardCE:
      return {-log_q.gather(1, prior.argmax(1, /*keepdim=*/true)).squeeze(1), {}};
    case LossKind::kFreeEnergy: {
      // Eq. 5 per sample; r (for metrics) from the same log Z as QR's.
      const torch::Tensor log_z = normalizer.log_z(log_q);
      const torch::Tensor log_p = log_prior(prior, kQrPriorFloor);
      return {(log_q.exp() * (log_z.unsqueeze(0) - log_p)).sum(1),
              torch::log_softmax(log_q - log_z.unsqueeze(0) + log_p, 1)};
    }
    case LossKind::kNLL: {
      // -log sum_l p_il q_il; log 0 = -inf terms add exp(-inf) = 0 to value and gradient.
      return {-torch::logsumexp(log_q + log_prior(prior, 0.0), 1), {}};
    }
    case LossKind::kQR: {
      const torch::Tensor log_r =
          implied_log_posterior(log_q, prior, normalizer.log_z(log_q), kQrPriorFloor);
      return {(log_q.exp() * (log_q - log_r)).sum(1), log_r};
    }
    case LossKind::kRQ: {
      const torch::Tensor log_r = implied_log_posterior(log_q, prior, normalizer.log_z(log_q));
      // r = 0 off the support; where() before the product keeps both the value (0 * finite)
      // and the gradient (d/d log_r of r * log_r is r * ... = 0) finite.
      const torch::Tensor log_r_safe = torch::where(prior > 0, log_r, torch::zeros_like(log_r));
      return {(log_r.exp() * (log_r_safe - log_q)).sum(1), log_r};
    }
    case LossKind::kF2: {
      // Eq. F.2 per sample: sum_l q_il (log Z_l - log q_il); no prior, no r.
      const torch::Tensor log_z = normalizer.log_z(log_q);
      return {(log_q.exp() * (log_z.unsqueeze(0) - log_q)).sum(1), {}};
    }
  }
  throw Error("unhandled loss kind");
}

torch::Tensor flatten_classes(const torch::Tensor& t) {
  if (t.dim() == 2) return t;
  IPM_CHECK(t.dim() == 4, "expected [M, L] or [N, L, H, W], got " << t.sizes());
  return t.permute({0, 2, 3, 1}).reshape({-1, t.size(1)});
}

}  // namespace ipm
