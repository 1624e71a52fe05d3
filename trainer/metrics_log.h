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
};

// One JSON object, no trailing newline; doubles printed so they read back exactly.
std::string to_json_line(const EpochMetrics& m);

// Metrics history as a float64 tensor [E, kMetricFields] (how checkpoints carry it), and back.
constexpr int64_t kMetricFields = 11;
torch::Tensor metrics_to_tensor(const std::vector<EpochMetrics>& history);
std::vector<EpochMetrics> metrics_from_tensor(const torch::Tensor& t);

}  // namespace ipm
