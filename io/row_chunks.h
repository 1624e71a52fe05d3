// Rows of a split taken in chunks: evaluation, whole-split checks and exports read a split
// this way so no chunk holds more than a bounded number of rows in memory.
// defines: ipm::for_each_row_chunk
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ipm {

// Calls f(rows) for rows [begin, end) in consecutive chunks of at most `chunk` row indices.
template <class F>
void for_each_row_chunk(int64_t begin, int64_t end, int64_t chunk, F&& f) {
  std::vector<int64_t> rows;
  for (int64_t s = begin; s < end; s += chunk) {
    rows.clear();
    for (int64_t i = s; i < std::min(s + chunk, end); ++i) rows.push_back(i);
    f(static_cast<const std::vector<int64_t>&>(rows));
  }
}

}  // namespace ipm
