#include "trainer/seg_metrics.h"

#include "common/error.h"

namespace ipm {

torch::Tensor confusion_matrix(const torch::Tensor& pred, const torch::Tensor& truth,
                               int64_t num_classes) {
  IPM_CHECK(pred.sizes() == truth.sizes(),
            "confusion_matrix: prediction " << pred.sizes() << " vs truth " << truth.sizes());
  const torch::Tensor idx = (truth.to(torch::kInt64) * num_classes + pred.to(torch::kInt64)).flatten();
  return torch::bincount(idx, {}, num_classes * num_classes).view({num_classes, num_classes});
}

double pixel_accuracy(const torch::Tensor& conf) {
  const double total = conf.sum().item<double>();
  return total > 0 ? conf.diagonal().sum().item<double>() / total : 0.0;
}

double mean_iou(const torch::Tensor& conf) {
  const torch::Tensor c = conf.to(torch::kFloat64);
  const torch::Tensor tp = c.diagonal();
  const torch::Tensor uni = c.sum(0) + c.sum(1) - tp;  // TP + FP + FN
  const torch::Tensor present = uni > 0;
  const int64_t n = present.sum().item<int64_t>();
  if (n == 0) return 0.0;
  return (tp.masked_select(present) / uni.masked_select(present)).sum().item<double>() /
         static_cast<double>(n);
}

}  // namespace ipm
