// Image-shaped losses (CE, hard CE, NLL, QR, RQ, free energy over all pixels, normalizer over
// batch x pixels) against the PyTorch float64 fixtures, gradients against finite
// differences, and Eq. 5 against Eq. 4.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/seg_fixtures.h"  // f64, ReadSegFixtures
#include "losses/implicit_losses.h"
#include "losses/normalizer.h"

namespace {

using torch::Tensor;

// The trainer's path: logits [N, L, H, W] -> log_softmax over L -> pixels as samples ->
// loss over the batch's pixels with the local normalizer -> mean over N*H*W.
Tensor SegLoss(ipm::LossKind kind, const Tensor& logits, const Tensor& prior) {
  ipm::LocalNormalizer local;
  const Tensor log_q = ipm::flatten_classes(torch::log_softmax(logits, 1));
  return ipm::per_sample_loss(kind, log_q, ipm::flatten_classes(prior), local).mean();
}

TEST(SegFixtures, ImageShapedLossesAndGradientsMatchReference) {
  for (const auto& c : ReadSegFixtures()) {
    for (size_t i = 0; i < c.values.size(); ++i) {
      const ipm::LossKind kind = ipm::parse_loss(c.values[i].first);
      const Tensor x = c.logits.clone().requires_grad_(true);
      const Tensor loss = SegLoss(kind, x, c.prior);
      loss.backward();
      EXPECT_NEAR(loss.item<double>(), c.values[i].second, 1e-12 * (1 + c.values[i].second))
          << c.name << " " << c.values[i].first;
      EXPECT_LT((x.grad() - c.grads[i]).abs().max().item<double>(), 1e-12)
          << c.name << " " << c.values[i].first;
    }
  }
}

TEST(SegFixtures, GradientsMatchFiniteDifferences) {
  const auto cases = ReadSegFixtures();
  const SegCase& c = cases[0];
  for (const auto kind : {ipm::LossKind::kQR, ipm::LossKind::kRQ, ipm::LossKind::kCE,
                          ipm::LossKind::kHardCE, ipm::LossKind::kFreeEnergy}) {
    const Tensor x = c.logits.clone().requires_grad_(true);
    SegLoss(kind, x, c.prior).backward();
    const double h = 1e-6;
    // A spread of entries: every class, corners and middle pixels, both images.
    for (int64_t k = 0; k < c.logits.numel(); k += 7) {
      Tensor up = c.logits.clone(), dn = c.logits.clone();
      up.view(-1)[k] += h;
      dn.view(-1)[k] -= h;
      const double fd = (SegLoss(kind, up, c.prior).item<double>() -
                         SegLoss(kind, dn, c.prior).item<double>()) / (2 * h);
      EXPECT_NEAR(x.grad().view(-1)[k].item<double>(), fd, 1e-8) << ipm::loss_name(kind) << " " << k;
    }
  }
}

// Eq. 5 against Eq. 4: F_i = QR_i - log sum_l p_il q_il / Z_l (r's per-sample normalizer),
// and F is not zero at a one-hot q that ignores the prior, where QR nearly is.
TEST(FreeEnergy, IsQrWithoutTheNormalizerOfR) {
  const Tensor log_q = torch::log_softmax(torch::randn({12, 4}, f64()) * 2, 1);
  Tensor prior = torch::rand({12, 4}, f64()) + 0.05;
  prior = prior / prior.sum(1, true);
  ipm::LocalNormalizer local;
  const Tensor qr = ipm::per_sample_loss(ipm::LossKind::kQR, log_q, prior, local);
  const Tensor f = ipm::per_sample_loss(ipm::LossKind::kFreeEnergy, log_q, prior, local);
  const Tensor log_z = torch::logsumexp(log_q, 0);
  const Tensor log_c = torch::logsumexp(prior.log() + log_q - log_z, 1);
  EXPECT_TRUE(torch::allclose(f, qr - log_c, 1e-12, 1e-12));
  // Confident q: label i % 4 for sample i, regardless of the prior.
  const Tensor hard = torch::log_softmax(torch::eye(4, f64()).repeat({3, 1}) * 30, 1);
  const double qr_hard = ipm::per_sample_loss(ipm::LossKind::kQR, hard, prior, local).mean().item<double>();
  const double f_hard = ipm::per_sample_loss(ipm::LossKind::kFreeEnergy, hard, prior, local).mean().item<double>();
  EXPECT_LT(qr_hard, 1e-6);
  EXPECT_GT(f_hard, 1.0);  // log Z = log 3 (3 samples per label), minus log p <= 0: >= log 3
}

TEST(HardCe, IsCrossEntropyOnThePriorsMode) {
  const Tensor log_q = torch::log_softmax(torch::randn({5, 3}, f64()), 1);
  const Tensor prior = torch::tensor({{0.2, 0.5, 0.3}, {0.6, 0.3, 0.1}, {0.1, 0.1, 0.8},
                                      {0.4, 0.4, 0.2}, {0.0, 0.0, 1.0}}, f64());
  ipm::LocalNormalizer local;
  const Tensor v = ipm::per_sample_loss(ipm::LossKind::kHardCE, log_q, prior, local);
  const int64_t mode[5] = {1, 0, 2, 0, 2};  // ties: the lowest class
  for (int64_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(v[i].item<double>(), -log_q[i][mode[i]].item<double>());
  EXPECT_STREQ(ipm::loss_name(ipm::parse_loss("hard_ce")), "hard_ce");
}

}  // namespace
