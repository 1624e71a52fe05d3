// `ipm-dist report RUN_DIR`: a suite's results as the paper's tables (mean ± std over seeds).
// defines: ipm::SummaryRow, ipm::summarize, ipm::write_report
//
// Reads RUN_DIR/suite.toml (the resolved input) and each finished job's metrics.jsonl, and
// groups jobs by their swept values without train.seed (and prior.seed): one row per point
// of the sweep. Writes RUN_DIR/summary.csv (the contract's columns) and RUN_DIR/summary.md.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace ipm {

struct SummaryRow {
  std::vector<std::pair<std::string, std::string>> point;  // swept key -> value, seeds excluded
  int n = 0;                                  // finished jobs (seeds) at this point
  int missing = 0;                            // jobs of this point not finished
  double final_mean = 0, final_std = 0;       // test accuracy after the last epoch
  double peak_mean = 0, peak_std = 0;         // best test accuracy over epochs
};

// One row per sweep point, in the suite's job order. std is the sample standard deviation
// (n - 1 in the denominator; 0 for a single seed).
std::vector<SummaryRow> summarize(const std::filesystem::path& run_dir);

// Writes summary.csv and summary.md atomically, and the plots of plot.h; returns the
// Markdown table (and the plots' paths).
std::string write_report(const std::filesystem::path& run_dir);

}  // namespace ipm
