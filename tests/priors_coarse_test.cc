// Coarse priors for segmentation (§4.3, App. E.1.2): p(l | c) lookup, block tiling, blur
// (against an independent clamped-index sum), smoothing, all against hand-computed values;
// errors for a wrong shape, a zero column, an all-zero row in use, labels out of range, a map
// that does not tile; and the prior map against the PyTorch float64 fixtures.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/seg_fixtures.h"  // f64, ReadSegFixtures
#include "tests/test_util.h"     // ErrorOf, EXPECT_CONTAINS
#include "common/error.h"
#include "priors/coarse_prior.h"

namespace {

using torch::Tensor;

// ---------------------------------------------------------------------------------------------
// Coarse priors, hand-computed

// counts -> p(l | c): [[3, 1] -> .75 .25], [[0, 2] -> 0 1], [[1, 1] -> .5 .5]
Tensor Counts() { return torch::tensor({{3.0, 1.0}, {0.0, 2.0}, {1.0, 1.0}}, f64()); }

TEST(CoarsePrior, LooksUpConditionalPerBlock) {
  const ipm::CoarsePrior cp(Counts(), 2, 0.0, 0.0, "test");
  // One 4x6 image, 2x3 coarse map: blocks of 2x2.
  const Tensor coarse = torch::tensor({0, 1, 2, 2, 0, 1}, torch::kInt64).view({1, 2, 3});
  const Tensor p = cp.prior_map(coarse, 4, 6);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{1, 2, 4, 6}));
  const int64_t cells[2][3] = {{0, 1, 2}, {2, 0, 1}};
  const double p0[3] = {0.75, 0.0, 0.5};  // p(l = 0 | c) by hand
  for (int64_t u = 0; u < 4; ++u) {
    for (int64_t v = 0; v < 6; ++v) {
      const double e = p0[cells[u / 2][v / 2]];
      EXPECT_NEAR(p[0][0][u][v].item<double>(), e, 1e-7) << u << "," << v;
      EXPECT_NEAR(p[0][1][u][v].item<double>(), 1.0 - e, 1e-7) << u << "," << v;
    }
  }
}

TEST(CoarsePrior, PerImageLabelIsOneBlock) {
  const ipm::CoarsePrior cp(Counts(), 2, 0.0, 0.0, "test");
  const Tensor p = cp.prior_map(torch::tensor({2, 0}, torch::kInt64), 3, 5);
  EXPECT_TRUE(torch::allclose(p[0][0], torch::full({3, 5}, 0.5)));
  EXPECT_TRUE(torch::allclose(p[1][1], torch::full({3, 5}, 0.25)));
}

TEST(CoarsePrior, SmoothingIsAdditive) {
  const double eps = 1e-4;
  const ipm::CoarsePrior cp(Counts(), 2, 0.0, eps, "test");
  const Tensor p = cp.prior_map(torch::tensor({1}, torch::kInt64), 2, 2);
  // p(. | 1) = (0, 1) -> (eps, 1 + eps) / (1 + 2 eps)
  EXPECT_NEAR(p[0][0][0][0].item<double>(), eps / (1 + 2 * eps), 1e-9);
  EXPECT_NEAR(p[0][1][1][1].item<double>(), (1 + eps) / (1 + 2 * eps), 1e-7);
}

TEST(CoarsePrior, GaussianKernelHandValues) {
  // sigma = 0.5: R = 2, weights exp(-k^2 / 0.5) = e^-8, e^-2, 1, e^-2, e^-8, normalized.
  const Tensor k = ipm::gaussian_kernel1d(0.5);
  ASSERT_EQ(k.size(0), 5);
  const double z = 1 + 2 * std::exp(-2.0) + 2 * std::exp(-8.0);
  EXPECT_NEAR(k[2].item<double>(), 1 / z, 1e-15);
  EXPECT_NEAR(k[1].item<double>(), std::exp(-2.0) / z, 1e-15);
  EXPECT_NEAR(k[0].item<double>(), std::exp(-8.0) / z, 1e-15);
  EXPECT_EQ(ipm::gaussian_kernel1d(1.3).size(0), 2 * 6 + 1);  // R = ceil(5.2)
}

TEST(CoarsePrior, BlurOfAStepMatchesClampedSumAndKeepsRowsSummingToOne) {
  // Left half class 0 (p = 1, 0), right half class 1: a step along W.
  const Tensor counts = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, f64());
  const double sigma = 0.5;
  const ipm::CoarsePrior cp(counts, 2, sigma, 0.0, "test");
  const Tensor coarse = torch::tensor({0, 1}, torch::kInt64).view({1, 1, 2});
  const Tensor p = cp.prior_map(coarse, 3, 8);  // blocks 3x4
  const double z = 1 + 2 * std::exp(-2.0) + 2 * std::exp(-8.0);
  const double w[5] = {std::exp(-8.0) / z, std::exp(-2.0) / z, 1 / z, std::exp(-2.0) / z,
                       std::exp(-8.0) / z};
  for (int64_t v = 0; v < 8; ++v) {
    double e = 0;  // sum_k w_k * [clamp(v + k) < 4]
    for (int64_t k = -2; k <= 2; ++k) e += w[k + 2] * (std::clamp<int64_t>(v + k, 0, 7) < 4);
    for (int64_t u = 0; u < 3; ++u) {
      EXPECT_NEAR(p[0][0][u][v].item<double>(), e, 1e-6) << v;
      EXPECT_NEAR((p[0][0][u][v] + p[0][1][u][v]).item<double>(), 1.0, 1e-6);
    }
  }
  // Hand values at the edge: v = 3 keeps 1 - w(+1) - w(+2); v = 4 gets w(-1) + w(-2).
  EXPECT_NEAR(p[0][0][0][3].item<double>(), 1 - (std::exp(-2.0) + std::exp(-8.0)) / z, 1e-6);
  EXPECT_NEAR(p[0][0][0][4].item<double>(), (std::exp(-2.0) + std::exp(-8.0)) / z, 1e-6);
}

TEST(CoarsePrior, BadMatrixErrors) {
  EXPECT_CONTAINS(ErrorOf([] { ipm::CoarsePrior(torch::ones({3, 4}), 5, 0, 0, "f.h5:/cooccurrence"); }),
                  "f.h5:/cooccurrence: co-occurrence matrix has shape [3, 4] but the data has 5 classes");
  EXPECT_CONTAINS(ErrorOf([] { ipm::CoarsePrior(torch::ones({12}), 4, 0, 0, "m"); }), "must be 2-D");
  EXPECT_CONTAINS(ErrorOf([] {
                    ipm::CoarsePrior(torch::tensor({{1.0, 0.0}, {2.0, 0.0}}), 2, 0, 0, "m");
                  }),
                  "column 1 of the co-occurrence matrix is all zero");
  EXPECT_CONTAINS(ErrorOf([] { ipm::CoarsePrior(torch::tensor({{1.0, -1.0}}), 2, 0, 0, "m"); }),
                  "negative");
  EXPECT_CONTAINS(ErrorOf([] {
                    ipm::CoarsePrior(torch::tensor({{1.0, std::nan("")}}), 2, 0, 0, "m");
                  }),
                  "non-finite");
}

TEST(CoarsePrior, BadCoarseMapErrors) {
  const Tensor counts = torch::tensor({{1.0, 1.0}, {0.0, 0.0}, {0.0, 3.0}}, f64());
  const ipm::CoarsePrior cp(counts, 2, 0.0, 0.0, "m");
  const std::vector<int64_t> idx = {40, 41};
  // 3x3 cells cannot tile 8x8 pixels.
  EXPECT_CONTAINS(ErrorOf([&] { cp.prior_map(torch::zeros({2, 3, 3}, torch::kInt64), 8, 8, idx, "c"); }),
                  "c: a 3x3 coarse map does not tile the 8x8 image");
  // Out of range, naming the sample.
  Tensor c = torch::zeros({2, 2, 2}, torch::kInt64);
  c[1][1][0] = 3;
  EXPECT_CONTAINS(ErrorOf([&] { cp.prior_map(c, 4, 4, idx, "c"); }),
                  "sample 41: coarse label 3 is outside 0..2");
  c[1][1][0] = -1;
  EXPECT_CONTAINS(ErrorOf([&] { cp.prior_map(c, 4, 4, idx, "c"); }), "coarse label -1");
  // Row 1 is all zero: fine unless a block uses it.
  c[1][1][0] = 2;
  EXPECT_NO_THROW(cp.prior_map(c, 4, 4, idx, "c"));
  c[0][0][1] = 1;
  EXPECT_CONTAINS(ErrorOf([&] { cp.prior_map(c, 4, 4, idx, "c"); }),
                  "sample 40: coarse class 1 has an all-zero row");
}

TEST(SegFixtures, CoarsePriorMatchesBlurThenRemapReference) {
  const auto cases = ReadSegFixtures();
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    const ipm::CoarsePrior cp(c.cooc, c.l, c.sigma, c.eps, c.name);
    const Tensor p = cp.prior_map(c.coarse, c.h, c.w).to(torch::kFloat64);
    EXPECT_LT((p - c.prior).abs().max().item<double>(), 2e-7) << c.name;  // float32 map
  }
}

}  // namespace
