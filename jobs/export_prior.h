// Stored priors from another model (§4.4, §4.5): a trained job's q(l|x) over a split,
// written as /<split>/prior of a new data file that a later suite reads with
// prior.kind = "stored".
// defines: ipm::export_prior
//
// The output holds the job's train and test splits (x and y copied as stored: uint8 stays
// uint8) plus every split in `splits`; each split in `splits` gets /prior = softmax of the
// job's final model (checkpoint.pt) on its x. Written under a temporary name and renamed, so
// a failure leaves nothing that looks complete.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ipm {

// job_dir holds config.toml and checkpoint.pt (written by `ipm-dist run`). Throws
// ipm::Error naming the file or split that is missing or wrong.
void export_prior(const std::filesystem::path& job_dir, const std::vector<std::string>& splits,
                  const std::filesystem::path& out_file);

}  // namespace ipm
