#include "jobs/plot.h"

#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace ipm {
namespace {

bool is_number(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string gp_quote(const std::string& s) {  // a gnuplot single-quoted string
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::vector<std::filesystem::path> write_plots(const std::filesystem::path& run_dir,
                                               const std::vector<SummaryRow>& rows) {
  std::vector<std::filesystem::path> made;
  if (rows.empty() || rows.front().point.empty()) return made;
  const bool have_gnuplot = std::system("command -v gnuplot >/dev/null 2>&1") == 0;
  const size_t keys = rows.front().point.size();
  bool wrote_scripts = false;
  for (size_t x = 0; x < keys; ++x) {
    const std::string key = rows.front().point[x].first;
    std::map<double, int> xs;
    bool numeric = true;
    for (const SummaryRow& r : rows) {
      numeric = numeric && is_number(r.point[x].second);
      if (numeric) xs[std::stod(r.point[x].second)] = 1;
    }
    if (!numeric || xs.size() < 2) continue;
    // One series per combination of the other keys, points sorted by x.
    std::map<std::string, std::map<double, const SummaryRow*>> series;
    for (const SummaryRow& r : rows) {
      if (r.n == 0) continue;
      std::string label;
      for (size_t k = 0; k < keys; ++k) {
        if (k == x) continue;
        label += (label.empty() ? "" : ", ") + r.point[k].first + "=" + r.point[k].second;
      }
      series[label.empty() ? "all" : label][std::stod(r.point[x].second)] = &r;
    }
    if (series.empty()) continue;  // nothing finished yet: nothing to draw
    std::ostringstream dat, gp;
    const std::string stem = "plot_" + key;
    gp << "# Redraw with: gnuplot " << stem << ".gp\n"
       << "set terminal pngcairo size 900,560 noenhanced\n"
       << "if (!exists(\"out\")) out = " << gp_quote(stem + ".png") << "\nset output out\n"
       << "set xlabel " << gp_quote(key) << "\nset ylabel 'test accuracy (%)'\n"
       << "set key outside right\nset grid\nset title "
       << gp_quote("final (solid) and peak (dashed) test accuracy, mean ± std over seeds")
       << "\nplot ";
    int index = 0;
    for (const auto& [label, points] : series) {
      dat << "# " << label << "\n# x final_mean final_std peak_mean peak_std\n";
      for (const auto& [xv, r] : points) {
        dat << xv << " " << 100 * r->final_mean << " " << 100 * r->final_std << " "
            << 100 * r->peak_mean << " " << 100 * r->peak_std << "\n";
      }
      dat << "\n\n";
      gp << (index ? ", \\\n     " : "") << gp_quote(stem + ".dat") << " index " << index
         << " using 1:2:3 with yerrorlines lc " << index + 1 << " dt 1 title "
         << gp_quote(label) << ", \\\n     " << gp_quote(stem + ".dat") << " index " << index
         << " using 1:4:5 with yerrorlines lc " << index + 1 << " dt 2 notitle";
      ++index;
    }
    gp << "\n";
    write_file_atomic(run_dir / (stem + ".dat"), dat.str());
    write_file_atomic(run_dir / (stem + ".gp"), gp.str());
    wrote_scripts = true;
    if (!have_gnuplot) continue;
    // gnuplot writes the PNG itself: render to a temporary name, then rename into place.
    AtomicPath png(run_dir / (stem + ".png"));
    const std::string cmd = "cd " + shell_quote(run_dir.string()) + " && gnuplot -e " +
                            shell_quote("out=" + gp_quote(png.tmp().filename().string())) +
                            " " + shell_quote(stem + ".gp") + " 2>/dev/null";
    IPM_CHECK(std::system(cmd.c_str()) == 0,
              (run_dir / (stem + ".gp")).string() << ": gnuplot failed");
    png.commit();
    made.push_back(run_dir / (stem + ".png"));
  }
  if (!have_gnuplot && wrote_scripts) {
    std::cerr << "ipm-dist: gnuplot not found: wrote the plot scripts and data only\n";
  }
  return made;
}

}  // namespace ipm
