// Ranking pairs stored in a data file (prior.pair_source = "file", §4.2): /<split>/pairs.
// defines: ipm::read_pair_table
//
// Layout: int64 (or int32) [P, 3]; row j = (first row index, second row index, observation)
// with observation 1 = the first member's class is greater, -1 = smaller, 0 = equal. Row
// indices refer to the rows of /<split>/x. Checking them against the rows a job trains on is
// the caller's (priors/pair_prior.h: pairs_from_table).
#pragma once

#include <filesystem>
#include <string>

#include <torch/torch.h>

namespace ipm {

// int64 [P, 3], read whole. Throws ipm::Error naming the file and dataset when it is absent
// or not an integer [P, 3] table.
torch::Tensor read_pair_table(const std::filesystem::path& file, const std::string& split);

}  // namespace ipm
