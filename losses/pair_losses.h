// The implied posterior over a pair's joint labels (§4.2, Eq. 6) and QR / RQ against its
// marginals, in log space.
// defines: ipm::PairLossTerms, ipm::pair_loss_terms, ipm::pair_joint_log_posterior
//
// A batch of P pairs (a_j, b_j) with model outputs log_qa, log_qb [P, L] and a joint prior
// p_j(l1, l2) [P, L, L] (priors/pair_prior.h builds the paper's triangles). Eq. 6:
//   log r_j(l1, l2) = log_softmax_{(l1, l2)}( log p_j(l1, l2)
//                         + log qa_j(l1) - log Za(l1) + log qb_j(l2) - log Zb(l2) )
// with the per-class normalizers of Eq. 2 taken through a Normalizer (so `global` spans
// every rank's pairs):
//   position  Za = sum_j qa_j over the first members, Zb over the second ones: Eq. 6 as
//             printed (sum_j q(l1|x_{j,1}) and sum_j q(l2|x_{j,2}))
//   pooled    Za = Zb = sum over all 2P images of the batch (Eq. 2's constraint
//             sum_i p(x_i|l) = 1 over every image)
// Marginals ra_j(l1) = sum_l2 r_j, rb_j(l2) = sum_l1 r_j; per pair (§4.2: "fit q(l1|x_j,1)
// to the marginal r_j(l1) and q(l2|x_j,2) to r_j(l2)"):
//   QR_j = KL(qa_j || ra_j) + KL(qb_j || rb_j)
//   RQ_j = KL(ra_j || qa_j) + KL(rb_j || qb_j)
// Zero prior entries are exact for RQ: log p = kLogZeroStandIn, a finite number so far below
// every other term that exp() of it is exactly 0 in float32 and float64; values and gradients
// stay finite even where a whole marginal row is zero (a prior that fixes a label). QR floors
// the joint prior at kQrPriorFloor as the per-image QR does (KL(q || r) is infinite where
// r = 0 < q).
#pragma once

#include <string>

#include <torch/torch.h>

#include "common/pair_normalization.h"
#include "losses/implicit_losses.h"
#include "losses/normalizer.h"

namespace ipm {

// Stands in for log 0 in the joint: exp(-1e30 + anything finite) == 0 exactly, and it is
// finite in float32 (max 3.4e38), so no inf - inf = NaN can arise.
constexpr double kLogZeroStandIn = -1e30;

struct PairLossTerms {
  torch::Tensor per_pair;  // [P]: both members' KL terms
  torch::Tensor log_ra;    // [P, L] marginal of r over l2 (first members)
  torch::Tensor log_rb;    // [P, L] marginal of r over l1 (second members)
};

// log r [P, L, L] of Eq. 6 from the members' log q, the normalizers' log Z [L] and the prior.
torch::Tensor pair_joint_log_posterior(const torch::Tensor& log_qa, const torch::Tensor& log_qb,
                                       const torch::Tensor& log_za, const torch::Tensor& log_zb,
                                       const torch::Tensor& joint_prior, double prior_floor);

// kind must be QR or RQ (the pair prior has no per-image CE/NLL form here); throws otherwise.
PairLossTerms pair_loss_terms(LossKind kind, const torch::Tensor& log_qa,
                              const torch::Tensor& log_qb, const torch::Tensor& joint_prior,
                              PairNormalization norm, Normalizer& normalizer);

}  // namespace ipm
