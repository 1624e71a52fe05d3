// Whether every rank of a group holds the same values: the check behind "all ranks read the
// same suite", "all ranks resume from the same checkpoint" and "all ranks chose the same
// backend", which would otherwise train different things under one name or hang.
// defines: ipm::same_on_all_ranks
#pragma once

#include <cstdint>
#include <vector>

#include "dist/communicator.h"

namespace ipm {

// True on every rank when all ranks of comm passed equal `values` (same length on all; each
// value above INT64_MIN, whose negation overflows). A
// collective: one all-reduce (max) of 2 * values.size() int64s, of v and -v, so the max of
// -v is minus the min of v and the two agree only when min = max.
bool same_on_all_ranks(const std::vector<int64_t>& values, Communicator& comm);

}  // namespace ipm
