// Plots of a suite's summary in the form of the paper's Fig. 3: test accuracy (mean ± std
// over seeds; final solid, peak dashed) against a swept numeric key, one series per value of
// the other swept keys (e.g. per loss).
// defines: ipm::write_plots
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "jobs/report.h"

namespace ipm {

// For each numeric swept key with at least 2 values, writes RUN_DIR/plot_<key>.png with
// gnuplot (plus the .gp script and .dat data it reads, so it can be redrawn or restyled).
// Returns the PNG files made; when gnuplot is not installed, writes the scripts and data
// only and says so on stderr.
std::vector<std::filesystem::path> write_plots(const std::filesystem::path& run_dir,
                                               const std::vector<SummaryRow>& rows);

}  // namespace ipm
