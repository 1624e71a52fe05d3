#include "dist/rank_agreement.h"

#include <torch/torch.h>

namespace ipm {

bool same_on_all_ranks(const std::vector<int64_t>& values, Communicator& comm) {
  const int64_t k = static_cast<int64_t>(values.size());
  torch::Tensor both = torch::empty({2 * k}, torch::kInt64);
  for (int64_t i = 0; i < k; ++i) {
    both[i] = values[static_cast<size_t>(i)];
    both[k + i] = -values[static_cast<size_t>(i)];
  }
  comm.allreduce_max(both);
  for (int64_t i = 0; i < k; ++i) {
    if (both[i].item<int64_t>() != -both[k + i].item<int64_t>()) return false;
  }
  return true;
}

}  // namespace ipm
