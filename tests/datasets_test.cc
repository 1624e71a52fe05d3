// The synthetic data generators (datasets/): the label super-resolution benchmark of
// `pack lsr` is deterministic in its options, its coarse labels and co-occurrence matrix
// follow the fine labels, --color tints each class and keeps the layout, and bad options
// fail with one clear message.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/seg_fixtures.h"  // f64
#include "tests/test_util.h"     // ErrorOf, EXPECT_CONTAINS, FreshTempDir
#include "common/error.h"
#include "datasets/lsr_benchmark.h"
#include "io/h5_split.h"

namespace {

using torch::Tensor;

// ---------------------------------------------------------------------------------------------
// The generator

const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

std::filesystem::path TmpFile(const std::string& name) {
  static const std::filesystem::path d = FreshTempDir("ipm_datasets_test");
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
  ipm::write_lsr_benchmark(SmallLsr(3), a);
  ipm::write_lsr_benchmark(SmallLsr(3), b);
  ipm::write_lsr_benchmark(SmallLsr(4), c);
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
  ipm::write_lsr_benchmark(o, f);
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
  ipm::write_lsr_benchmark(o, grey);
  o.color = true;
  ipm::write_lsr_benchmark(o, colour);
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
  // Palette (datasets/lsr_benchmark.cc): land 0 green (0.35, 0.65, 0.30), land 1 tan (0.75, 0.70, 0.40),
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
  EXPECT_CONTAINS(ErrorOf([&] { ipm::write_lsr_benchmark(o, TmpFile("e.h5")); }), "--block 7 must divide --size 24");
  o = SmallLsr(0);
  o.classes = {1, 2, 1};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::write_lsr_benchmark(o, TmpFile("e.h5")); }), "--classes: 1 is repeated");
  o = SmallLsr(0);
  o.classes = {1, 2};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::write_lsr_benchmark(o, TmpFile("e.h5")); }), "at least 3");
  o = SmallLsr(0);
  o.classes = {1, 2, 12};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::write_lsr_benchmark(o, TmpFile("e.h5")); }), "12 is not a Fashion-MNIST class");
  EXPECT_FALSE(std::filesystem::exists(TmpFile("e.h5")));
}

}  // namespace
