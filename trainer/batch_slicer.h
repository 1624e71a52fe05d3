// Which rows of a global batch belong to which rank.
// defines: ipm::RankSlice, ipm::rank_slice
#pragma once

#include <cstdint>

namespace ipm {

// Rows [begin, end) of a batch of `batch` rows for `rank` of `world`: contiguous, sizes
// differing by at most one, so any batch size works on any number of ranks.
struct RankSlice {
  int64_t begin, end;
  int64_t size() const { return end - begin; }
};

inline RankSlice rank_slice(int64_t batch, int rank, int world) {
  return {batch * rank / world, batch * (rank + 1) / world};
}

}  // namespace ipm
