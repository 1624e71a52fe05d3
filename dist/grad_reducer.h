// Sums parameter gradients over the ranks of a job in one fused all-reduce.
// defines: ipm::GradReducer
//
// The model is small (33k parameters, 130 KB): one flat buffer, one all-reduce per step is
// cheaper than per-tensor calls or overlapping buckets with backward (the latency of a
// single message dominates; see bench/README.md).
#pragma once

#include <vector>

#include "dist/communicator.h"

namespace ipm {

class GradReducer {
 public:
  GradReducer(std::vector<torch::Tensor> params, Communicator& comm);
  // After backward, before the optimizer step: grad <- sum over ranks of grad.
  void sum_gradients();

 private:
  std::vector<torch::Tensor> params_;
  Communicator& comm_;
  torch::Tensor flat_;  // [total], the parameters' type
};

}  // namespace ipm
