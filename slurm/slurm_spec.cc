#include "slurm/slurm_spec.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "common/text.h"
#include "slurm/shell_quote.h"

namespace ipm {
namespace {

// A value as an error message shows it: shell-quoted, and on one line ($'a\nb' for control
// characters, as bash writes them).
std::string shown(const std::string& v) {
  bool control = false;
  for (const char c : v) control |= static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  if (!control) return shell_quote(v);
  static const char* hex = "0123456789abcdef";
  std::string out = "$'";
  for (const char c : v) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\'' || c == '\\') out += std::string("\\") + c;
    else if (u < 0x20 || u == 0x7f) out += std::string("\\x") + hex[u >> 4] + hex[u & 15];
    else out += c;
  }
  return out + "'";
}

constexpr int64_t kMaxCount = 1000000;  // far beyond any cluster; keeps arithmetic safe

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t positive_int(const std::string& v, const std::string& label) {
  IPM_CHECK(all_digits(v) && std::stoll(v) > 0 && std::stoll(v) <= kMaxCount,
            label << " = " << shown(v) << ": must be an integer from 1 to " << kMaxCount);
  return std::stoll(v);
}

// Partition, account and QOS names: Slurm's own names are letters, digits, '_', '-' and
// '.'; a partition may be a comma-separated list of them.
void check_name(const std::string& v, const std::string& label, bool list) {
  bool ok = !v.empty() && v.size() <= 256 && v.front() != ',' && v.back() != ',';
  for (const char c : v) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                c == '.' || (list && c == ','));
  }
  IPM_CHECK(ok, label << " = " << shown(v) << ": not a Slurm name (letters, digits, '_', "
                      << "'-', '.'" << (list ? ", several separated by ','" : "") << ")");
}

// Feature expressions: names joined by & | , with [ ] ( ) * and counts (":2").
void check_constraint(const std::string& v, const std::string& label) {
  bool ok = !v.empty() && v.size() <= 1024;
  for (const char c : v) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) ||
                std::string("_-.&|,[]()*:!").find(c) != std::string::npos);
  }
  IPM_CHECK(ok, label << " = " << shown(v) << ": not a Slurm feature expression "
                      << "(names joined by & | , with [ ] ( ) * :)");
}

void check_printable(const std::string& v, const std::string& label, size_t max_len) {
  bool ok = !v.empty() && v.size() <= max_len;
  for (const char c : v) ok = ok && !(static_cast<unsigned char>(c) < 0x20 || c == 0x7f);
  IPM_CHECK(ok, label << " = " << shown(v) << ": must be 1 to " << max_len
                      << " characters without control characters (no newlines or tabs)");
}

// Memory per node: an integer with an optional unit K, M, G or T (Slurm's default unit is M).
void check_mem(const std::string& v, const std::string& label) {
  std::string digits = v;
  if (!digits.empty() && std::string("KMGTkmgt").find(digits.back()) != std::string::npos) {
    digits.pop_back();
  }
  IPM_CHECK(all_digits(digits) && std::stoll(digits) > 0,
            label << " = " << shown(v) << ": must be a positive integer with an optional "
                  << "unit K, M, G or T (e.g. 16G)");
}

// Seconds of a Slurm time limit; errors name the value as `label` (the key or option).
int64_t time_seconds(const std::string& t, const std::string& label);

}  // namespace

const std::vector<std::string>& slurm_keys() {
  static const std::vector<std::string> k = {
      "partition", "account", "qos", "nodes", "ntasks_per_node", "cpus_per_task",
      "gpus_per_node", "time", "mem", "constraint", "job_name", "output"};
  return k;
}

int64_t slurm_time_seconds(const std::string& t) { return time_seconds(t, "time"); }

namespace {

int64_t time_seconds(const std::string& t, const std::string& label) {
  if (t == "UNLIMITED" || t == "INFINITE" || t == "unlimited" || t == "infinite") return -1;
  const std::string bad = label + " = " + shown(t) + ": not a Slurm time (minutes, MM:SS, "
                          "HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)";
  std::string rest = t;
  int64_t days = -1;
  const size_t dash = rest.find('-');
  if (dash != std::string::npos) {
    IPM_CHECK(all_digits(rest.substr(0, dash)), bad);
    days = std::stoll(rest.substr(0, dash));
    rest = rest.substr(dash + 1);
  }
  std::vector<int64_t> parts;
  size_t start = 0;
  while (true) {
    const size_t colon = rest.find(':', start);
    const std::string p = rest.substr(start, colon == std::string::npos ? std::string::npos
                                                                        : colon - start);
    IPM_CHECK(all_digits(p), bad);
    parts.push_back(std::stoll(p));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  IPM_CHECK(parts.size() <= 3, bad);
  int64_t s = 0;
  if (days >= 0) {  // D-HH[:MM[:SS]]
    IPM_CHECK(parts[0] < 24 && (parts.size() < 2 || parts[1] < 60) &&
                  (parts.size() < 3 || parts[2] < 60), bad << " (hours < 24, minutes and "
                                                              "seconds < 60)");
    s = days * 86400 + parts[0] * 3600 + (parts.size() > 1 ? parts[1] * 60 : 0) +
        (parts.size() > 2 ? parts[2] : 0);
  } else if (parts.size() == 1) {  // minutes
    s = parts[0] * 60;
  } else if (parts.size() == 2) {  // MM:SS
    IPM_CHECK(parts[1] < 60, bad << " (seconds < 60)");
    s = parts[0] * 60 + parts[1];
  } else {  // HH:MM:SS
    IPM_CHECK(parts[1] < 60 && parts[2] < 60, bad << " (minutes and seconds < 60)");
    s = parts[0] * 3600 + parts[1] * 60 + parts[2];
  }
  IPM_CHECK(s > 0, bad << " (it is zero)");
  return s;
}

}  // namespace

void set_slurm_value(SlurmSpec& spec, const std::string& key, const std::string& v,
                     const std::string& label) {
  if (key == "nodes") {
    spec.nodes = positive_int(v, label);
  } else if (key == "ntasks_per_node") {
    spec.ntasks_per_node = positive_int(v, label);
  } else if (key == "cpus_per_task") {
    spec.cpus_per_task = positive_int(v, label);
  } else if (key == "gpus_per_node") {
    spec.gpus_per_node = positive_int(v, label);
  } else if (key == "signal_seconds") {
    spec.signal_seconds = positive_int(v, label);
    IPM_CHECK(spec.signal_seconds <= 65535,
              label << " = " << v << ": Slurm sends the signal at most 65535 s early");
  } else if (key == "array") {
    spec.array = positive_int(v, label);
    IPM_CHECK(spec.array <= 1000,
              label << " = " << v << ": at most 1000 array tasks (Slurm's default MaxArraySize)");
  } else if (key == "partition") {
    check_name(v, label, /*list=*/true);
    spec.partition = v;
  } else if (key == "account") {
    check_name(v, label, false);
    spec.account = v;
  } else if (key == "qos") {
    check_name(v, label, false);
    spec.qos = v;
  } else if (key == "constraint") {
    check_constraint(v, label);
    spec.constraint = v;
  } else if (key == "mem") {
    check_mem(v, label);
    spec.mem = v;
  } else if (key == "time") {
    time_seconds(v, label);
    spec.time = v;
  } else if (key == "job_name") {
    check_printable(v, label, 200);
    spec.job_name = v;
  } else if (key == "output") {
    check_printable(v, label, 4096);
    spec.output = v;
  } else if (key == "launcher") {
    IPM_CHECK(v == "srun" || v == "mpirun",
              label << " = " << shown(v) << ": must be srun or mpirun");
    spec.launcher = v;
  } else {
    std::vector<std::string> valid = slurm_keys();
    throw Error(label + ": unknown Slurm setting '" + key + "' (did you mean '" +
                nearest(key, valid) + "'?)");
  }
}

void finish_slurm_spec(SlurmSpec& spec, const std::string& suite_name, int64_t ranks_per_job,
                       int64_t threads_per_rank) {
  if (spec.nodes == 0) spec.nodes = 1;
  if (spec.ntasks_per_node == 0) spec.ntasks_per_node = std::max<int64_t>(1, ranks_per_job);
  if (spec.cpus_per_task == 0) spec.cpus_per_task = std::max<int64_t>(1, threads_per_rank);
  if (spec.time.empty()) spec.time = "01:00:00";
  if (spec.job_name.empty()) {
    // The suite's name, control characters (which an #SBATCH line cannot hold) made '_'.
    for (const char c : suite_name.substr(0, 200)) {
      spec.job_name += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '_' : c;
    }
    if (spec.job_name.empty()) spec.job_name = "ipm-dist";
  }
  const int64_t limit = slurm_time_seconds(spec.time);
  IPM_CHECK(limit < 0 || spec.signal_seconds < limit,
            "the warning signal " << spec.signal_seconds << " s before the end would come "
            "before the job starts: time = " << spec.time << " (" << limit << " s); lower "
            "--signal-seconds or raise the time limit");
}

}  // namespace ipm
