// Submitting a script: `sbatch --parsable SCRIPT`, started directly (no shell in between).
// defines: ipm::submit_sbatch
#pragma once

#include <string>

namespace ipm {

// Runs sbatch from PATH and returns the job id it prints. Throws ipm::Error when sbatch is
// not on PATH, when it exits non-zero (its stderr is in the message), or prints no job id.
std::string submit_sbatch(const std::string& script);

}  // namespace ipm
