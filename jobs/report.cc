#include "jobs/report.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"
#include "jobs/plot.h"
#include "jobs/suite.h"

namespace ipm {
namespace {

bool is_seed_key(const std::string& k) { return k == "train.seed" || k == "prior.seed"; }

// final and peak test accuracy from a metrics.jsonl (our own one-object-per-line format).
std::pair<double, double> final_and_peak(const std::filesystem::path& metrics) {
  std::ifstream f(metrics);
  IPM_CHECK(f, metrics.string() << ": cannot read");
  double last = 0, peak = 0;
  int lines = 0;
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    last = json_number_field(line, "test_acc", metrics.string());
    peak = std::max(peak, last);
    ++lines;
  }
  IPM_CHECK(lines > 0, metrics.string() << ": no epochs");
  return {last, peak};
}

void mean_std(const std::vector<double>& v, double& mean, double& sd) {
  mean = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (const double x : v) ss += (x - mean) * (x - mean);
  sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (const char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::vector<SummaryRow> summarize(const std::filesystem::path& run_dir) {
  const std::filesystem::path resolved = run_dir / "suite.toml";
  IPM_CHECK(std::filesystem::exists(resolved),
            resolved.string() << ": no such file (is " << run_dir.string() << " a suite's output?)");
  const Suite suite = load_suite(resolved);
  std::vector<SummaryRow> rows;
  std::map<std::string, size_t> index;  // point text -> row
  std::vector<std::vector<double>> finals, peaks;
  for (const SuiteJob& job : suite.jobs) {
    SummaryRow key;
    std::string text;
    for (const auto& kv : job.swept) {
      if (is_seed_key(kv.first)) continue;
      key.point.push_back(kv);
      text += kv.first + "=" + kv.second + "\n";
    }
    auto [it, fresh] = index.emplace(text, rows.size());
    if (fresh) {
      rows.push_back(key);
      finals.emplace_back();
      peaks.emplace_back();
    }
    const std::filesystem::path dir = run_dir / "jobs" / job.spec.name;
    if (!std::filesystem::exists(dir / "DONE")) {
      ++rows[it->second].missing;
      continue;
    }
    const auto [final_acc, peak_acc] = final_and_peak(dir / "metrics.jsonl");
    finals[it->second].push_back(final_acc);
    peaks[it->second].push_back(peak_acc);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].n = static_cast<int>(finals[i].size());
    if (rows[i].n == 0) continue;
    mean_std(finals[i], rows[i].final_mean, rows[i].final_std);
    mean_std(peaks[i], rows[i].peak_mean, rows[i].peak_std);
  }
  return rows;
}

std::string write_report(const std::filesystem::path& run_dir) {
  const std::vector<SummaryRow> rows = summarize(run_dir);
  std::vector<std::string> keys;
  if (!rows.empty()) {
    for (const auto& kv : rows.front().point) keys.push_back(kv.first);
  }
  std::ostringstream csv, md;
  for (const auto& k : keys) csv << csv_field(k) << ",";
  csv << "n,final_test_acc_mean,final_test_acc_std,peak_test_acc_mean,peak_test_acc_std\n";
  md << "|";
  for (const auto& k : keys) md << " " << k << " |";
  md << " n | final test acc (%) | peak test acc (%) |\n|";
  for (size_t i = 0; i < keys.size() + 3; ++i) md << "---|";
  md << "\n";
  char buf[96];
  for (const SummaryRow& r : rows) {
    md << "|";
    for (const auto& kv : r.point) {
      csv << csv_field(kv.second) << ",";
      md << " " << kv.second << " |";
    }
    csv << r.n << ",";
    if (r.n == 0) {
      csv << ",,,\n";
      md << " 0 | – | – |\n";
      continue;
    }
    // One seed has no spread: the std is left empty (CSV) and shown as "–", never as 0.
    const bool one = r.n == 1;
    csv << json_number(r.final_mean) << "," << (one ? "" : json_number(r.final_std)) << ","
        << json_number(r.peak_mean) << "," << (one ? "" : json_number(r.peak_std)) << "\n";
    const auto cell = [&](double mean, double sd) {
      char c[48];
      if (one) {
        std::snprintf(c, sizeof c, "%.2f ± –", 100 * mean);
      } else {
        std::snprintf(c, sizeof c, "%.2f ± %.2f", 100 * mean, 100 * sd);
      }
      return std::string(c);
    };
    std::snprintf(buf, sizeof buf, " %d%s | %s | %s |\n", r.n, r.missing > 0 ? "*" : "",
                  cell(r.final_mean, r.final_std).c_str(), cell(r.peak_mean, r.peak_std).c_str());
    md << buf;
  }
  bool partial = false;
  for (const SummaryRow& r : rows) partial |= r.missing > 0;
  if (partial) md << "\n\\* some jobs of this point have not finished; n counts those that have.\n";
  write_file_atomic(run_dir / "summary.csv", csv.str());
  write_file_atomic(run_dir / "summary.md", md.str());
  for (const auto& png : write_plots(run_dir, rows)) md << "\nplot: " << png.string();
  return md.str();
}

}  // namespace ipm
