#include "losses/pair_losses.h"

#include "common/error.h"

namespace ipm {
namespace {

void check_pair_shapes(const torch::Tensor& log_qa, const torch::Tensor& log_qb,
                       const torch::Tensor& joint_prior) {
  IPM_CHECK(log_qa.dim() == 2, "pair loss: log_qa must be [P, L], got " << log_qa.sizes());
  IPM_CHECK(log_qb.sizes() == log_qa.sizes(),
            "pair loss: log_qb " << log_qb.sizes() << " does not match log_qa " << log_qa.sizes());
  const int64_t p = log_qa.size(0), l = log_qa.size(1);
  IPM_CHECK(joint_prior.dim() == 3 && joint_prior.size(0) == p && joint_prior.size(1) == l &&
                joint_prior.size(2) == l,
            "pair loss: joint prior must be [" << p << ", " << l << ", " << l << "], got "
                                               << joint_prior.sizes());
}

// sum_l a_l (log a_l - log b_l) with a = exp(log_a): KL(a || b) per row. Where a_l = 0
// exactly (log_a at the stand-in), exp gives 0 and the product is 0 with a finite gradient.
torch::Tensor kl_rows(const torch::Tensor& log_a, const torch::Tensor& log_b) {
  return (log_a.exp() * (log_a - log_b)).sum(1);
}

}  // namespace

torch::Tensor pair_joint_log_posterior(const torch::Tensor& log_qa, const torch::Tensor& log_qb,
                                       const torch::Tensor& log_za, const torch::Tensor& log_zb,
                                       const torch::Tensor& joint_prior, double prior_floor) {
  check_pair_shapes(log_qa, log_qb, joint_prior);
  const int64_t p = log_qa.size(0), l = log_qa.size(1);
  const torch::Tensor log_p =
      prior_floor > 0.0
          ? joint_prior.clamp_min(prior_floor).log()
          : torch::where(joint_prior > 0, joint_prior, torch::ones_like(joint_prior)).log()
                .masked_fill(joint_prior <= 0, kLogZeroStandIn);
  // Eq. 6: p(l1, l2) q(l1|x_j1) / Za(l1) * q(l2|x_j2) / Zb(l2), normalized over (l1, l2).
  const torch::Tensor a = (log_qa - log_za.unsqueeze(0)).unsqueeze(2);  // [P, L, 1]
  const torch::Tensor b = (log_qb - log_zb.unsqueeze(0)).unsqueeze(1);  // [P, 1, L]
  const torch::Tensor s = (log_p + a + b).reshape({p, l * l});
  return torch::log_softmax(s, 1).reshape({p, l, l});
}

PairLossTerms pair_loss_terms(LossKind kind, const torch::Tensor& log_qa,
                              const torch::Tensor& log_qb, const torch::Tensor& joint_prior,
                              PairNormalization norm, Normalizer& normalizer) {
  check_pair_shapes(log_qa, log_qb, joint_prior);
  IPM_CHECK(kind == LossKind::kQR || kind == LossKind::kRQ,
            "prior.kind = \"ranking\" trains with train.loss = \"qr\" or \"rq\", not \""
                << loss_name(kind) << "\"");
  torch::Tensor log_za, log_zb;
  if (norm == PairNormalization::kPosition) {
    // Two normalizer calls, in the same order on every rank (global all-reduces each).
    log_za = normalizer.log_z(log_qa);
    log_zb = normalizer.log_z(log_qb);
  } else {
    log_za = normalizer.log_z(torch::cat({log_qa, log_qb}, 0));
    log_zb = log_za;
  }
  const double floor = kind == LossKind::kQR ? kQrPriorFloor : 0.0;
  const torch::Tensor log_r =
      pair_joint_log_posterior(log_qa, log_qb, log_za, log_zb, joint_prior, floor);
  // Marginals of r (§4.2). A row whose prior is all zero for some l1 sums the stand-ins:
  // its log marginal is ~-1e30, finite, and exp() of it is exactly 0.
  PairLossTerms t;
  t.log_ra = torch::logsumexp(log_r, 2);
  t.log_rb = torch::logsumexp(log_r, 1);
  if (kind == LossKind::kQR) {
    t.per_pair = kl_rows(log_qa, t.log_ra) + kl_rows(log_qb, t.log_rb);
  } else {
    t.per_pair = kl_rows(t.log_ra, log_qa) + kl_rows(t.log_rb, log_qb);
  }
  return t;
}

}  // namespace ipm
