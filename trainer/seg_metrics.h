// Segmentation metrics from a confusion matrix: pixel accuracy and mean IoU.
// defines: ipm::confusion_matrix, ipm::pixel_accuracy, ipm::mean_iou
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace ipm {

// pred, truth: int64 of any equal shape, values in 0..L-1 -> int64 [L, L] counts,
// conf[t][p] = number of pixels of true class t predicted as p.
torch::Tensor confusion_matrix(const torch::Tensor& pred, const torch::Tensor& truth,
                               int64_t num_classes);

// trace / total (0 for an empty matrix).
double pixel_accuracy(const torch::Tensor& conf);

// Mean over classes l of IoU_l = TP_l / (TP_l + FP_l + FN_l), over the classes whose union
// TP + FP + FN is non-zero (a class absent from both truth and prediction is skipped, as in
// torchmetrics' JaccardIndex with absent classes ignored).
double mean_iou(const torch::Tensor& conf);

}  // namespace ipm
