// The order in which an epoch visits a split's units (rows, or pairs for ranking jobs).
// defines: ipm::OrderKind, ipm::EpochOrderSpec, ipm::epoch_order
//
// exact    the global permutation: every unit anywhere in the split may follow any
//          other, so a split read from the file (preload = "never") pulls a whole HDF5
//          chunk into the chunk cache for nearly every row once the split outgrows it.
// chunked  chunk-aware ("quasi-random", as FFCV's order and WebDataset's shuffle buffer):
//          the chunks of `chunk` consecutive units are permuted, then the units of each
//          window of `window` consecutive chunks of that permutation are shuffled together.
//          Each global batch then touches at most two windows, so a rank reads each chunk
//          about once per epoch as long as a window fits the chunk cache.
// Both are pure functions of (seed, epoch, n, chunk, window): every rank, rank count and
// resumed run computes the same order, so the data-parallel invariants keep holding.
#pragma once

#include <cstdint>
#include <vector>

namespace ipm {

enum class OrderKind { kExact, kChunked };

struct EpochOrderSpec {
  OrderKind kind = OrderKind::kExact;
  int64_t chunk = 1;   // units per chunk (the split's HDF5 chunk rows); chunked only
  int64_t window = 1;  // chunks shuffled together; chunked only
};

// A permutation of [0, n) for epoch `epoch` (1-based). exact is shuffled_order(n, seed,
// epoch) (common/hash_rng.h), unchanged. Throws ipm::Error for chunk or window < 1.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, uint64_t epoch,
                                 const EpochOrderSpec& spec);

}  // namespace ipm
