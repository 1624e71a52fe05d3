// The losses of the paper (Eq. 2-4, Fig. 2) and its baselines, in log space.
// defines: ipm::LossKind, ipm::parse_loss, ipm::loss_name, ipm::implied_log_posterior,
//          ipm::per_sample_loss, ipm::LossTerms,
//          ipm::loss_terms, ipm::flatten_classes, ipm::kQrPriorFloor
//
// Shapes: log_q and prior are [M, L]: M samples (or samples x pixels, see flatten_classes),
// L classes. log_q is a log-softmax over L; prior rows are non-negative and sum to 1.
//   log r_il = log_softmax_l( log q_il - log Z_l + log p_il )        (Eq. 3)
//   CE_i  = -sum_l p_il log q_il
//   FREE_i = sum_l q_il (log Z_l - log p~_il)                         (Eq. 5, "free_energy")
//            = QR_i - log sum_l p~_il q_il / Z_l: the free energy (1) with r substituted,
//            i.e. QR without r's per-sample normalizer (p~ = max(p, 1e-9) as for QR). Its
//            sum over i is Eq. 5 exactly; it is what the authors' land-cover code minimizes
//            ("loss_on_prior_simple"). Unlike KL(q||r), which is 0 for *any* one-hot q, it
//            does not reward confident assignments that ignore the prior (see
//            docs/segmentation.md).
//   HARD_CE_i = -log q_{i, argmax_l p_il}  ("hard naive" baseline of §4.3 / Malkin et al.
//               2019: pseudo-labels from the prior's mode; ties go to the lowest class)
//   NLL_i = -log sum_l p_il q_il                                      (NLL (union), §4.1)
//   QR_i  = sum_l q_il (log q_il - log r_il)      = KL(q_i || r_i)    (Eq. 4)
//   RQ_i  = sum_l r_il (log r_il - log q_il)      = KL(r_i || q_i)
//   F2_i  = -sum_l q_il log q_il + sum_l q_il log Z_l                (App. F.1, Eq. F.2)
// F.2 is the self-supervised criterion: it ignores the prior. Its first term (the entropy of
// each q_i) rewards confident predictions, the second (sum_i of it is N * cross-entropy of
// the batch mean of q against itself, up to log N) rewards diverse ones, so a constant q
// cannot minimize it and the network has to split the data into clusters. The classes it
// finds are unnamed: test accuracy against y is meaningful only up to a permutation.
// Zero prior entries are exact for CE, NLL and RQ (0 log 0 = 0 with finite gradients: the
// terms are masked, not clamped). KL(q||r) is infinite wherever r = 0 < q, and q = softmax
// is never 0, so QR floors the prior at kQrPriorFloor = 1e-9 as the authors' code does;
// that floor is a penalty of -log(1e-9) ~ 20.7 nats per unit of q on a ruled-out class.
#pragma once

#include <string>

#include <torch/torch.h>

#include "common/enum_names.h"
#include "losses/normalizer.h"

namespace ipm {

enum class LossKind { kCE, kNLL, kQR, kRQ, kF2, kHardCE, kFreeEnergy };

inline const std::vector<EnumName<LossKind>>& enum_names(LossKind) {
  static const std::vector<EnumName<LossKind>> names = {
      {LossKind::kCE, "ce"},         {LossKind::kNLL, "nll"},
      {LossKind::kQR, "qr"},         {LossKind::kRQ, "rq"},
      {LossKind::kF2, "f2"},         {LossKind::kHardCE, "hard_ce"},
      {LossKind::kFreeEnergy, "free_energy"},
  };
  return names;
}

// By the names above; throws ipm::Error naming the value and the allowed ones otherwise.
LossKind parse_loss(const std::string& name);
const char* loss_name(LossKind kind);

constexpr double kQrPriorFloor = 1e-9;

// log r [M, L] from log_q [M, L], prior [M, L] and log Z [L]; -inf where the prior is 0
// unless prior_floor > 0 (then the prior is max(p, floor) before the log).
torch::Tensor implied_log_posterior(const torch::Tensor& log_q, const torch::Tensor& prior,
                                    const torch::Tensor& log_z, double prior_floor = 0.0);

// Per-sample loss [M]. The normalizer is asked for log Z only by QR, RQ and F2.
torch::Tensor per_sample_loss(LossKind kind, const torch::Tensor& log_q,
                              const torch::Tensor& prior, Normalizer& normalizer);

// The same, with the implied posterior it used: log_r [M, L] for QR and RQ, undefined for
// CE and NLL (which need no normalizer). Training reads r's accuracy from it.
struct LossTerms {
  torch::Tensor per_sample;  // [M]
  torch::Tensor log_r;       // [M, L] or undefined
};
LossTerms loss_terms(LossKind kind, const torch::Tensor& log_q, const torch::Tensor& prior,
                     Normalizer& normalizer);

// [N, L, H, W] -> [N*H*W, L] (pixels become samples); [M, L] is returned as is.
torch::Tensor flatten_classes(const torch::Tensor& t);

}  // namespace ipm
