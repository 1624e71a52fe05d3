#include "io/epoch_order.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "common/error.h"
#include "common/hash_rng.h"

namespace ipm {
namespace {

// Fisher-Yates over v with its own generator.
void shuffle(std::vector<int64_t>& v, HashRng rng) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) {
    std::swap(v[static_cast<size_t>(i)], v[rng.below(static_cast<uint64_t>(i) + 1)]);
  }
}

}  // namespace

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, uint64_t epoch,
                                 const EpochOrderSpec& spec) {
  if (spec.kind == OrderKind::kExact) return shuffled_order(n, seed, epoch);
  IPM_CHECK(spec.chunk >= 1, "chunked order: chunk of " << spec.chunk << " rows (need >= 1)");
  IPM_CHECK(spec.window >= 1,
            "data.shuffle_window = " << spec.window << " chunks (need >= 1)");
  const int64_t chunks = (n + spec.chunk - 1) / spec.chunk;
  std::vector<int64_t> chunk_order(static_cast<size_t>(chunks));
  std::iota(chunk_order.begin(), chunk_order.end(), int64_t{0});
  // Index 0 of the stream permutes chunks; index 1 + w shuffles window w (a window's
  // generator does not depend on how many numbers the others drew).
  const uint64_t epoch_seed = mix64(seed ^ mix64(epoch));
  shuffle(chunk_order, HashRng(epoch_seed, kStreamChunkOrder, 0));
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(n));
  std::vector<int64_t> window;
  for (int64_t w = 0; w * spec.window < chunks; ++w) {
    window.clear();
    const int64_t last = std::min(chunks, (w + 1) * spec.window);
    for (int64_t k = w * spec.window; k < last; ++k) {
      const int64_t c = chunk_order[static_cast<size_t>(k)];
      for (int64_t r = c * spec.chunk; r < std::min(n, (c + 1) * spec.chunk); ++r) {
        window.push_back(r);
      }
    }
    shuffle(window, HashRng(epoch_seed, kStreamChunkOrder, 1 + static_cast<uint64_t>(w)));
    order.insert(order.end(), window.begin(), window.end());
  }
  return order;
}

}  // namespace ipm
