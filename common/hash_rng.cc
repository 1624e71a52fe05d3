#include "common/hash_rng.h"

#include <numeric>
#include <utility>

namespace ipm {

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, uint64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  HashRng rng(seed, kStreamDataOrder, epoch);
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  }
  return order;
}

}  // namespace ipm
