#include "io/split_check.h"

#include <algorithm>
#include <vector>

#include "common/error.h"

namespace ipm {
namespace {

// The first row (of `rows`) where `bad` [B, ...] holds a true value, or -1.
int64_t first_bad_row(const torch::Tensor& bad, const std::vector<int64_t>& rows) {
  const torch::Tensor per_row = bad.reshape({bad.size(0), -1}).any(1);
  if (!per_row.any().item<bool>()) return -1;
  return rows[static_cast<size_t>(per_row.nonzero()[0][0].item<int64_t>())];
}

}  // namespace

void check_split_values(const H5Split& split) {
  constexpr int64_t kChunk = 4096;
  const int64_t L = split.num_classes();
  std::vector<int64_t> rows;
  for (int64_t s = 0; s < split.size(); s += kChunk) {
    rows.clear();
    for (int64_t i = s; i < std::min(s + kChunk, split.size()); ++i) rows.push_back(i);
    // H5Split::y checks the range of a batch; here every row, naming the first bad one.
    const torch::Tensor y = split.y_unchecked(rows);
    const int64_t yr = first_bad_row(y.lt(0).logical_or(y.ge(L)), rows);
    if (yr >= 0) {
      const torch::Tensor row = y[yr - s].flatten();
      const int64_t bad = row.masked_select(row.lt(0).logical_or(row.ge(L)))[0].item<int64_t>();
      throw Error(split.where() + "/y: row " + std::to_string(yr) + " has label " +
                  std::to_string(bad) + ", outside 0.." + std::to_string(L - 1) +
                  " (num_classes = " + std::to_string(L) + ")");
    }
    if (split.x_is_uint8()) continue;
    const int64_t xr = first_bad_row(split.x(rows).isfinite().logical_not(), rows);
    IPM_CHECK(xr < 0, split.where() << "/x: row " << xr << " holds NaN or Inf (float images "
                                       "must be finite: training on them gives a NaN loss)");
  }
}

}  // namespace ipm
