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

namespace {

using Text = const std::string&;

// Checks of one kind of value; each throws "<label> = <value>: <what is wrong>".
void check_time(Text v, Text label) { time_seconds(v, label); }
void check_partition(Text v, Text label) { check_name(v, label, /*list=*/true); }
void check_single_name(Text v, Text label) { check_name(v, label, /*list=*/false); }
void check_job_name(Text v, Text label) { check_printable(v, label, 200); }
void check_path(Text v, Text label) { check_printable(v, label, 4096); }
void check_launcher(Text v, Text label) {
  IPM_CHECK(v == "srun" || v == "mpirun", label << " = " << shown(v) << ": must be srun or mpirun");
}

// The setters of the table: a checked string, or a count (1 to kMaxCount, or less).
template <std::string SlurmSpec::*Field, void (*Check)(Text, Text)>
void set_text(SlurmSpec& s, Text v, Text label) {
  Check(v, label);
  s.*Field = v;
}

template <int64_t SlurmSpec::*Field>
void set_count(SlurmSpec& s, Text v, Text label) {
  s.*Field = positive_int(v, label);
}

void set_signal_seconds(SlurmSpec& s, Text v, Text label) {
  set_count<&SlurmSpec::signal_seconds>(s, v, label);
  IPM_CHECK(s.signal_seconds <= 65535,
            label << " = " << v << ": Slurm sends the signal at most 65535 s early");
}

void set_array(SlurmSpec& s, Text v, Text label) {
  set_count<&SlurmSpec::array>(s, v, label);
  IPM_CHECK(s.array <= 1000,
            label << " = " << v << ": at most 1000 array tasks (Slurm's default MaxArraySize)");
}

}  // namespace

const std::vector<SlurmKey>& slurm_key_table() {
  using S = SlurmSpec;
  static const std::vector<SlurmKey> table = {
      {"nodes", "--nodes", true, "Nodes (default 1)", set_count<&S::nodes>},
      {"ntasks_per_node", "--ntasks-per-node", true, "Ranks per node (default run.ranks_per_job)",
       set_count<&S::ntasks_per_node>},
      {"cpus_per_task", "--cpus-per-task", true, "CPUs per rank (default run.threads_per_rank)",
       set_count<&S::cpus_per_task>},
      {"gpus_per_node", "--gpus-per-node", true,
       "GPUs per node (default: ntasks_per_node for run.backend = \"nccl\", else none)",
       set_count<&S::gpus_per_node>},
      {"time", "--time", true, "Time limit: minutes, HH:MM:SS, D-HH:MM:SS ... (default 01:00:00)",
       set_text<&S::time, check_time>},
      {"partition", "--partition", true, "Partition (several separated by ',')",
       set_text<&S::partition, check_partition>},
      {"account", "--account", true, "Account", set_text<&S::account, check_single_name>},
      {"qos", "--qos", true, "Quality of service", set_text<&S::qos, check_single_name>},
      {"mem", "--mem", true, "Memory per node, e.g. 16G", set_text<&S::mem, check_mem>},
      {"constraint", "--constraint", true, "Node features",
       set_text<&S::constraint, check_constraint>},
      {"job_name", "--job-name", true, "Job name (default: the suite's name)",
       set_text<&S::job_name, check_job_name>},
      {"output", nullptr, true, "The job's log file (default OUTPUT/slurm/NAME.log)",
       set_text<&S::output, check_path>},
      {"signal_seconds", "--signal-seconds", false,
       "Seconds before the time limit at which USR1 asks for a checkpoint (default 120)",
       set_signal_seconds},
      {"launcher", "--launcher", false, "srun (default) or mpirun, inside the allocation",
       set_text<&S::launcher, check_launcher>},
      {"array", "--array", false,
       "N: a job array of N tasks; task i trains the suite's jobs j with j % N == i", set_array},
  };
  return table;
}

const std::vector<std::string>& slurm_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const SlurmKey& row : slurm_key_table()) {
      if (row.in_suite) k.push_back(row.key);
    }
    return k;
  }();
  return keys;
}

void set_slurm_value(SlurmSpec& spec, const std::string& key, const std::string& v,
                     const std::string& label) {
  for (const SlurmKey& row : slurm_key_table()) {
    if (key == row.key) return row.set(spec, v, label);
  }
  std::vector<std::string> valid = slurm_keys();
  throw Error(label + ": unknown Slurm setting '" + key + "' (did you mean '" +
              nearest(key, valid) + "'?)");
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
