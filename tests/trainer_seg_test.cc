// Segmentation pieces of the trainer (App. E.1.3): the FCN (output [N, L, H, W] for any H, W;
// parameter count; receptive field: the gradient of one output pixel w.r.t. the input is
// non-zero exactly on 11 x 11), pixel accuracy and mean IoU against hand-computed confusion
// matrices, and the segmentation fields of metrics.jsonl.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/seg_fixtures.h"  // f64
#include "tests/test_util.h"     // ErrorOf, EXPECT_CONTAINS
#include "common/error.h"
#include "trainer/fcn.h"
#include "trainer/metrics_log.h"
#include "trainer/seg_metrics.h"
#include "trainer/small_cnn.h"

namespace {

using torch::Tensor;

// ---------------------------------------------------------------------------------------------
// FCN

TEST(Fcn, OutputIsPerPixelLogitsForAnySize) {
  torch::manual_seed(0);
  auto m = ipm::make_model(ipm::Arch::kFcn, {1, 13, 17}, 4, 8);
  const Tensor out = m.forward(torch::randn({2, 1, 13, 17}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 4, 13, 17}));
}

TEST(Fcn, ParameterCountMatchesFiveConvolutions) {
  // (9C + 1) w + 3 (9w + 1) w + (9w + 1) L with C = 3, w = 8, L = 4; and the paper's width 128.
  EXPECT_EQ(ipm::parameter_count(*ipm::Fcn(std::vector<int64_t>{3, 32, 32}, 4, 8)),
            (9 * 3 + 1) * 8 + 3 * (9 * 8 + 1) * 8 + (9 * 8 + 1) * 4);
  EXPECT_EQ(ipm::parameter_count(*ipm::Fcn(std::vector<int64_t>{4, 32, 32}, 4, 128)),
            (9 * 4 + 1) * 128 + 3 * (9 * 128 + 1) * 128 + (9 * 128 + 1) * 4);
  EXPECT_EQ(ipm::parameter_count(*ipm::make_model(ipm::Arch::kFcn, {1, 8, 8}, 2).ptr()),
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

TEST(Fcn, SmallCnnDataIsRejected) {
  EXPECT_CONTAINS(ErrorOf([] { ipm::make_model(ipm::Arch::kFcn, {784}, 10); }), "model 'fcn'");
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

}  // namespace
