// A suite file: defaults for every job, a [sweep] over dotted keys, and where output goes.
// defines: ipm::Suite, ipm::SuiteJob, ipm::load_suite
//
// Everything is validated before anything runs: TOML syntax, unknown keys (with the nearest
// valid one), types and ranges, and every expanded job, not only the first.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "slurm/slurm_spec.h"
#include "trainer/job_spec.h"

namespace ipm {

struct SuiteJob {
  JobSpec spec;     // spec.name is the job's directory name under OUTPUT/jobs/
  std::vector<std::pair<std::string, std::string>> swept;  // ("prior.k", "1"), ... in sweep order
};

struct Suite {
  std::string name;
  std::filesystem::path file;      // the suite file, absolute
  std::filesystem::path output;    // absolute; default runs/<name> beside the file
  std::string resolved_toml;       // the input as parsed, with paths made absolute
  std::vector<std::string> sweep_keys;
  std::vector<SuiteJob> jobs;      // the Cartesian product of the sweep, in order
  SlurmSpec slurm;                 // the [slurm] table, validated (defaults not filled in)
};

// Throws ipm::Error "<file>:<line>: <what>" for anything wrong in the file.
Suite load_suite(const std::filesystem::path& file);

}  // namespace ipm
