// Per-epoch metrics: the metrics.jsonl lines of the output contract.
// defines: ipm::EpochMetrics, ipm::to_json_line, ipm::metrics_to_tensor,
//          ipm::metrics_from_tensor
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace ipm {

// Contract fields: epoch, loss, train_acc, test_acc (fractions), samples_per_s, param_norm.
struct EpochMetrics {
  int64_t epoch = 0;
  double loss = 0.0;           // mean training loss over the epoch's steps
  double train_acc = 0.0;      // accuracy of q on the train split (see TrainSpec::train_eval)
  double train_acc_r = 0.0;    // accuracy of r = argmax of the implied posterior, during training
  double test_acc = 0.0;       // accuracy of q on the test split
  double peak_test_acc = 0.0;  // best test_acc so far
  double samples_per_s = 0.0;  // training samples per second (all ranks), steps only
  double param_norm = 0.0;     // L2 norm of all parameters, full precision
  double step_s = 0.0;         // mean wall time of one step
  double comm_s = 0.0;         // of which in all-reduces (normalizer, gradients)
  double epoch_s = 0.0;        // wall time of the epoch, evaluation included
  // Segmentation jobs (per-pixel labels) only; written to metrics.jsonl when segmentation
  // is set. Then train_acc / test_acc are pixel accuracies of q, train_acc_r that of r.
  double segmentation = 0.0;   // 1 for a segmentation job (a double: it rides the tensor)
  double train_miou = 0.0;     // mean IoU of q on the train split (same pass as train_acc)
  double train_miou_r = 0.0;   // mean IoU of r on the train split
  double test_acc_r = 0.0;     // pixel accuracy of r on the test split (prior from /test)
  double test_miou = 0.0;      // mean IoU of q on the test split
  double test_miou_r = 0.0;    // mean IoU of r on the test split
  // The data path (trainer/batch_reader.h), rank 0's: what a step waited for its batch,
  // and the bytes read from the data file this epoch (0 when the split is preloaded). A
  // mid-epoch resume counts only the steps after it, like the timings.
  double read_wait_s = 0.0;    // mean wait of one step for its data
  double read_bytes = 0.0;     // (a double: it rides the tensor; exact below 2^53)
};

// One JSON object, no trailing newline; doubles printed so they read back exactly.
std::string to_json_line(const EpochMetrics& m);

// Metrics history as a float64 tensor [E, kMetricFields] (how checkpoints carry it), and back.
// Checkpoints from before the segmentation fields ([E, 11]) or the data-path fields
// ([E, 17]) still read (those fields 0).
constexpr int64_t kMetricFields = 19;
constexpr int64_t kMetricFieldsBeforeSegmentation = 11;
constexpr int64_t kMetricFieldsBeforeDataPath = 17;
torch::Tensor metrics_to_tensor(const std::vector<EpochMetrics>& history);
std::vector<EpochMetrics> metrics_from_tensor(const torch::Tensor& t);

}  // namespace ipm
