// Tests of segmentation from coarse priors (§4.3, App. E.1.2-E.1.3):
//   * the FCN of E.1.3: output [N, L, H, W] for any H, W; parameter count; receptive field:
//     the gradient of one output pixel w.r.t. the input is non-zero exactly on 11 x 11;
//   * coarse priors: p(l | c) lookup, block tiling, blur (against an independent clamped-
//     index sum), smoothing, all against hand-computed values; errors for a wrong shape, a
//     zero column, an all-zero row in use, labels out of range, a map that does not tile;
//   * image-shaped losses (CE, hard CE, NLL, QR, RQ over all pixels, normalizer over batch
//     x pixels) and the coarse prior against PyTorch float64 fixtures
//     (tests/data/seg_fixtures.txt from tools/reference/make_seg_fixtures.py), and gradients
//     against finite differences;
//   * pixel accuracy and mean IoU against hand-computed confusion matrices;
//   * the label super-resolution generator (`pack lsr`): deterministic in its options,
//     coarse labels and co-occurrence matrix consistent with the fine labels.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/test_util.h"  // ErrorOf, EXPECT_CONTAINS
#include "common/error.h"
#include "io/h5_split.h"
#include "io/pack_lsr.h"
#include "losses/implicit_losses.h"
#include "priors/coarse_prior.h"
#include "trainer/fcn.h"
#include "trainer/metrics_log.h"
#include "trainer/seg_metrics.h"
#include "trainer/small_cnn.h"

#ifndef IPM_TEST_DATA_DIR
#error "IPM_TEST_DATA_DIR must name the tests/data directory"
#endif

namespace {

using torch::Tensor;

torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

// ---------------------------------------------------------------------------------------------
// FCN

TEST(Fcn, OutputIsPerPixelLogitsForAnySize) {
  torch::manual_seed(0);
  auto m = ipm::make_model("fcn", {1, 13, 17}, 4, 8);
  const Tensor out = m.forward(torch::randn({2, 1, 13, 17}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 4, 13, 17}));
}

TEST(Fcn, ParameterCountMatchesFiveConvolutions) {
  // (9C + 1) w + 3 (9w + 1) w + (9w + 1) L with C = 3, w = 8, L = 4; and the paper's width 128.
  EXPECT_EQ(ipm::parameter_count(*ipm::Fcn(std::vector<int64_t>{3, 32, 32}, 4, 8)),
            (9 * 3 + 1) * 8 + 3 * (9 * 8 + 1) * 8 + (9 * 8 + 1) * 4);
  EXPECT_EQ(ipm::parameter_count(*ipm::Fcn(std::vector<int64_t>{4, 32, 32}, 4, 128)),
            (9 * 4 + 1) * 128 + 3 * (9 * 128 + 1) * 128 + (9 * 128 + 1) * 4);
  EXPECT_EQ(ipm::parameter_count(*ipm::make_model("fcn", {1, 8, 8}, 2).ptr()),
            (9 + 1) * 64 + 3 * (9 * 64 + 1) * 64 + (9 * 64 + 1) * 2);  // default width 64
}

TEST(Fcn, ReceptiveFieldIsExactly11x11) {
  torch::manual_seed(1);
  ipm::Fcn net(std::vector<int64_t>{2, 31, 29}, 3, 6);
  net->to(torch::kFloat64);
  for (const auto& [pu, pv] : {std::pair<int64_t, int64_t>{15, 14}, {9, 20}}) {
    Tensor x = torch::randn({1, 2, 31, 29}, f64()).requires_grad_(true);
    net->forward(x).index({0, 1, pu, pv}).backward();
    const Tensor nz = x.grad().abs().sum(1)[0] > 0;  // [H, W]
    for (int64_t u = 0; u < 31; ++u) {
      for (int64_t v = 0; v < 29; ++v) {
        const bool inside = std::abs(u - pu) <= 5 && std::abs(v - pv) <= 5;
        EXPECT_EQ(nz[u][v].item<bool>(), inside) << "pixel (" << u << ", " << v << ")";
      }
    }
    EXPECT_EQ(nz.sum().item<int64_t>(), 121);
  }
}

TEST(Fcn, SmallCnnDataIsRejectedAndUnknownArchNamesBoth) {
  EXPECT_CONTAINS(ErrorOf([] { ipm::make_model("unet", {1, 8, 8}, 2); }),
                  "expected small_cnn or fcn");
  EXPECT_CONTAINS(ErrorOf([] { ipm::make_model("fcn", {784}, 10); }), "model 'fcn'");
}

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

// ---------------------------------------------------------------------------------------------
// Fixtures: coarse prior and image-shaped losses against PyTorch float64

struct SegCase {
  std::string name;
  int64_t n, l, h, w, c, ch, cw;
  Tensor cooc, coarse, prior, logits;
  double sigma, eps;
  std::vector<std::pair<std::string, double>> values;
  std::vector<Tensor> grads;
};

std::vector<SegCase> ReadSegFixtures() {
  std::ifstream in(std::string(IPM_TEST_DATA_DIR) + "/seg_fixtures.txt");
  EXPECT_TRUE(in.good());
  std::vector<SegCase> out;
  std::string w;
  auto skip_comments = [&]() {
    while (in >> w) {
      if (w[0] != '#') return true;
      std::getline(in, w);
    }
    return false;
  };
  auto read = [&](std::vector<int64_t> shape) {
    int64_t k = 1;
    for (auto s : shape) k *= s;
    std::vector<double> v(static_cast<size_t>(k));
    for (auto& x : v) in >> x;
    return torch::tensor(v, f64()).view(shape);
  };
  while (skip_comments()) {
    EXPECT_EQ(w, "seg_case");
    SegCase c;
    in >> c.name >> c.n >> c.l >> c.h >> c.w >> c.c >> c.ch >> c.cw;
    in >> w;  // cooccurrence
    c.cooc = read({c.c, c.l});
    in >> w;  // coarse
    c.coarse = read({c.n, c.ch, c.cw}).round().to(torch::kInt64);
    in >> w >> c.sigma >> w >> c.eps;
    in >> w;
    c.prior = read({c.n, c.l, c.h, c.w});
    in >> w;
    c.logits = read({c.n, c.l, c.h, c.w});
    while (in >> w && w == "loss") {
      std::string kind;
      double v;
      in >> kind >> v;
      c.values.emplace_back(kind, v);
      c.grads.push_back(read({c.n, c.l, c.h, c.w}));
    }
    EXPECT_EQ(w, "end");
    EXPECT_EQ(c.values.size(), 6u) << c.name;  // ce hard_ce nll qr rq free_energy
    out.push_back(c);
  }
  return out;
}

// The trainer's path: logits [N, L, H, W] -> log_softmax over L -> pixels as samples ->
// loss over the batch's pixels with the local normalizer -> mean over N*H*W.
Tensor SegLoss(ipm::LossKind kind, const Tensor& logits, const Tensor& prior) {
  ipm::LocalNormalizer local;
  const Tensor log_q = ipm::flatten_classes(torch::log_softmax(logits, 1));
  return ipm::per_sample_loss(kind, log_q, ipm::flatten_classes(prior), local).mean();
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

// ---------------------------------------------------------------------------------------------
// Metrics

TEST(SegMetrics, HandComputedConfusionAccuracyAndIou) {
  const Tensor truth = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kInt64);
  const Tensor pred = torch::tensor({0, 1, 1, 1, 0, 2}, torch::kInt64);
  const Tensor conf = ipm::confusion_matrix(pred, truth, 3);
  EXPECT_TRUE(conf.equal(torch::tensor({{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}, torch::kInt64)));
  EXPECT_DOUBLE_EQ(ipm::pixel_accuracy(conf), 4.0 / 6.0);
  // IoU: class 0: 1 / (1 + 1 FP + 1 FN); class 1: 2 / (2 + 1 + 0); class 2: 1 / (1 + 0 + 1).
  EXPECT_DOUBLE_EQ(ipm::mean_iou(conf), (1.0 / 3 + 2.0 / 3 + 1.0 / 2) / 3);
}

TEST(SegMetrics, AbsentClassesAreSkippedAndShapesMatter) {
  // 4 classes, class 3 neither true nor predicted; class 2 predicted but never true (IoU 0).
  const Tensor truth = torch::tensor({{0, 1}, {1, 0}}, torch::kInt64);
  const Tensor pred = torch::tensor({{0, 1}, {2, 0}}, torch::kInt64);
  const Tensor conf = ipm::confusion_matrix(pred, truth, 4);
  EXPECT_DOUBLE_EQ(ipm::pixel_accuracy(conf), 0.75);
  EXPECT_DOUBLE_EQ(ipm::mean_iou(conf), (1.0 + 0.5 + 0.0) / 3);
  EXPECT_DOUBLE_EQ(ipm::mean_iou(torch::zeros({3, 3}, torch::kInt64)), 0.0);
  EXPECT_THROW(ipm::confusion_matrix(pred.flatten(), truth, 4), ipm::Error);
}

TEST(SegMetrics, JsonLinesCarryThemOnlyForSegmentationAndOldCheckpointsRead) {
  ipm::EpochMetrics m;
  m.epoch = 3;
  m.test_acc = 0.25;
  m.test_miou = 0.125;
  EXPECT_EQ(ipm::to_json_line(m).find("test_miou"), std::string::npos);
  m.segmentation = 1.0;
  EXPECT_CONTAINS(ipm::to_json_line(m), "\"test_acc\": 0.25");
  EXPECT_CONTAINS(ipm::to_json_line(m), "\"test_miou\": 0.125");
  const auto back = ipm::metrics_from_tensor(ipm::metrics_to_tensor({m}));
  EXPECT_EQ(back[0].test_miou, 0.125);
  EXPECT_EQ(back[0].segmentation, 1.0);
  // A checkpoint written before the segmentation fields: 11 columns, the new ones read as 0.
  const Tensor old = ipm::metrics_to_tensor({m}).slice(1, 0, ipm::kMetricFieldsBeforeSegmentation);
  const auto read = ipm::metrics_from_tensor(old.contiguous());
  EXPECT_EQ(read[0].test_acc, 0.25);
  EXPECT_EQ(read[0].test_miou, 0.0);
  EXPECT_EQ(read[0].epoch, 3);
}

// ---------------------------------------------------------------------------------------------
// The generator

const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

std::filesystem::path TmpFile(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("ipm_seg_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d / name;
}

ipm::LsrOptions SmallLsr(uint64_t seed) {
  ipm::LsrOptions o;
  o.idx_dir = kFashionDir;
  o.train = 12;
  o.test = 4;
  o.size = 24;
  o.block = 8;
  o.regions = 5;
  o.classes = {1, 8, 7};
  o.seed = seed;
  return o;
}

std::vector<int64_t> AllRows(int64_t n) {
  std::vector<int64_t> r;
  for (int64_t i = 0; i < n; ++i) r.push_back(i);
  return r;
}

TEST(PackLsr, DeterministicInItsOptions) {
  if (!std::filesystem::exists(kFashionDir)) GTEST_SKIP() << "no " << kFashionDir;
  const auto a = TmpFile("a.h5"), b = TmpFile("b.h5"), c = TmpFile("c.h5");
  ipm::pack_lsr(SmallLsr(3), a);
  ipm::pack_lsr(SmallLsr(3), b);
  ipm::pack_lsr(SmallLsr(4), c);
  for (const char* split : {"train", "test"}) {
    const ipm::H5Split sa(a, split, true), sb(b, split, true), sc(c, split, true);
    const auto rows = AllRows(sa.size());
    EXPECT_TRUE(sa.x(rows).equal(sb.x(rows)));
    EXPECT_TRUE(sa.y(rows).equal(sb.y(rows)));
    EXPECT_TRUE(sa.coarse(rows).equal(sb.coarse(rows)));
    EXPECT_FALSE(sa.y(rows).equal(sc.y(rows)));
  }
  EXPECT_TRUE(ipm::read_cooccurrence(a).equal(ipm::read_cooccurrence(b)));
}

TEST(PackLsr, CoarseLabelsAndCooccurrenceFollowTheFineLabels) {
  if (!std::filesystem::exists(kFashionDir)) GTEST_SKIP() << "no " << kFashionDir;
  const auto f = TmpFile("d.h5");
  const ipm::LsrOptions o = SmallLsr(5);
  ipm::pack_lsr(o, f);
  const int64_t L = 3, C = 3 * (L - 1), B = o.block;
  const ipm::H5Split train(f, "train", true);
  EXPECT_EQ(train.num_classes(), L);
  EXPECT_EQ(train.sample_shape(), (std::vector<int64_t>{1, o.size, o.size}));
  const auto rows = AllRows(train.size());
  const Tensor y = train.y(rows), coarse = train.coarse(rows), x = train.x(rows);
  ASSERT_EQ(coarse.sizes(), (std::vector<int64_t>{o.train, o.size / B, o.size / B}));
  Tensor counts = torch::zeros({C, L}, f64());
  int64_t textured = 0;
  for (int64_t i = 0; i < o.train; ++i) {
    for (int64_t bu = 0; bu < o.size / B; ++bu) {
      for (int64_t bv = 0; bv < o.size / B; ++bv) {
        const Tensor blk = y[i].slice(0, bu * B, (bu + 1) * B).slice(1, bv * B, (bv + 1) * B);
        const Tensor hist = torch::bincount(blk.flatten(), {}, L);
        // Dominant land class (0..L-2, first on ties), road (L-1) fraction in 3 bins.
        const int64_t d = hist.slice(0, 0, L - 1).argmax().item<int64_t>();
        const double road = hist[L - 1].item<double>() / (B * B);
        const int64_t want = 3 * d + (road == 0 ? 0 : (road < 0.2 ? 1 : 2));
        EXPECT_EQ(coarse[i][bu][bv].item<int64_t>(), want) << i << " " << bu << " " << bv;
        counts[want] += hist.to(torch::kFloat64);
      }
    }
    textured += (x[i].max().item<double>() > 0.2);
  }
  EXPECT_EQ(textured, o.train);  // real texture, not blank canvases
  const Tensor m = ipm::read_cooccurrence(f);
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{C, L}));
  for (int64_t c = 0; c < C; ++c) {
    const double n = counts[c].sum().item<double>();
    const Tensor want = n > 0 ? counts[c] / n : torch::full({L}, 1.0 / L, f64());
    EXPECT_LT((m[c] - want).abs().max().item<double>(), 1e-6) << "row " << c;
  }
  // Every class occurs (land classes and roads).
  EXPECT_GT(std::get<0>(torch::_unique(y.flatten())).size(0), 2);
}

// --color keeps the grey file's layout and labels, and makes the class visible in the
// colour: each class's mean RGB points along its own palette colour (green, tan; grey road).
TEST(PackLsr, ColorTintsEachClassAndKeepsTheLayout) {
  if (!std::filesystem::exists(kFashionDir)) GTEST_SKIP() << "no " << kFashionDir;
  const auto grey = TmpFile("grey.h5"), colour = TmpFile("colour.h5");
  ipm::LsrOptions o = SmallLsr(6);
  ipm::pack_lsr(o, grey);
  o.color = true;
  ipm::pack_lsr(o, colour);
  const ipm::H5Split g(grey, "train", true), c(colour, "train", true);
  EXPECT_EQ(c.sample_shape(), (std::vector<int64_t>{3, o.size, o.size}));
  const auto rows = AllRows(g.size());
  EXPECT_TRUE(g.y(rows).equal(c.y(rows)));
  EXPECT_TRUE(g.coarse(rows).equal(c.coarse(rows)));
  EXPECT_TRUE(ipm::read_cooccurrence(grey).equal(ipm::read_cooccurrence(colour)));
  const Tensor x = c.x(rows), y = c.y(rows);  // [N, 3, S, S] in [0, 1], [N, S, S]
  auto mean_rgb = [&](int64_t l) {
    const Tensor mask = y.eq(l).unsqueeze(1).expand_as(x).to(torch::kFloat32);
    return (x * mask).sum({0, 2, 3}) / mask.sum({0, 2, 3});
  };
  // Palette (io/pack_lsr.cc): land 0 green (0.35, 0.65, 0.30), land 1 tan (0.75, 0.70, 0.40),
  // road grey; the brightness varies with texture and illumination, the hue does not.
  const Tensor green = mean_rgb(0), tan = mean_rgb(1), road = mean_rgb(2);
  EXPECT_GT(green[1].item<double>(), 1.5 * green[0].item<double>()) << green;
  EXPECT_GT(tan[0].item<double>(), 1.5 * tan[2].item<double>()) << tan;
  EXPECT_LT((road.max() - road.min()).item<double>(), 0.05) << road;
}

TEST(PackLsr, CoarseClassRuleHandValues) {
  // counts per class, the last being roads: 3 (L - 1) coarse classes.
  EXPECT_EQ(ipm::lsr_coarse_class({10, 50, 4, 0}), 3 * 1 + 0);   // no road
  EXPECT_EQ(ipm::lsr_coarse_class({30, 20, 0, 14}), 3 * 0 + 2);  // 14 / 64 = 0.22 >= 0.2
  EXPECT_EQ(ipm::lsr_coarse_class({30, 20, 0, 12}), 3 * 0 + 1);  // 12 / 62 = 0.19
  EXPECT_EQ(ipm::lsr_coarse_class({5, 5, 40, 50}), 3 * 2 + 2);   // road most frequent: land d
  EXPECT_EQ(ipm::lsr_coarse_class({7, 7, 0, 1}), 3 * 0 + 1);     // tie: lowest class
}

TEST(PackLsr, BadOptionsErrors) {
  ipm::LsrOptions o = SmallLsr(0);
  o.block = 7;
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_lsr(o, TmpFile("e.h5")); }), "--block 7 must divide --size 24");
  o = SmallLsr(0);
  o.classes = {1, 2, 1};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_lsr(o, TmpFile("e.h5")); }), "--classes: 1 is repeated");
  o = SmallLsr(0);
  o.classes = {1, 2};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_lsr(o, TmpFile("e.h5")); }), "at least 3");
  o = SmallLsr(0);
  o.classes = {1, 2, 12};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_lsr(o, TmpFile("e.h5")); }), "12 is not a Fashion-MNIST class");
  EXPECT_FALSE(std::filesystem::exists(TmpFile("e.h5")));
}

}  // namespace
