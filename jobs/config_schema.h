// The keys a suite file may set: one table (config_schema.cc, config_keys) declares each key
// once — name, type, allowed values or range, help, where it lands in a JobSpec — and
// everything else is derived from it: parsing and its messages, sweeps ("train.lr" = [...]),
// the job's resolved config.toml, `ipm-dist keys` (docs/keys.md) and the tests. Adding a key
// is one line in that table plus its use.
// defines: ipm::KeyType, ipm::KeyValue, ipm::ConfigKey, ipm::config_keys, ipm::find_key,
//          ipm::apply_key, ipm::key_value_text, ipm::spec_to_toml, ipm::keys_markdown
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <toml++/toml.h>

#include "trainer/job_spec.h"

namespace ipm {

enum class KeyType {
  kString,  // any string
  kPath,    // a file; relative paths resolve against the suite file's directory
  kEnum,    // one of `choices`
  kInt,     // an integer in [lo, hi]
  kFloat,   // a finite number in [lo, hi], an end excluded where lo_open / hi_open
};

// A key's value in TOML terms: string (kString, kPath, kEnum), integer or float.
using KeyValue = std::variant<std::string, int64_t, double>;

struct ConfigKey {
  std::string dotted;  // "train.lr"
  KeyType type;
  std::vector<std::string> choices;  // kEnum: the allowed names, in the enum's order
  double lo = 0, hi = 0;             // kInt, kFloat
  bool lo_open = false, hi_open = false;
  std::string allowed;        // "(0, 10]", "ce, nll, ...": for messages and docs
  std::string help;           // what the key does, one sentence or two
  std::string shown_default;  // in docs instead of JobSpec's default ("train.seed"), or empty
  // Reads and writes the JobSpec field; set receives a value already validated.
  std::function<KeyValue(const JobSpec&)> get;
  std::function<void(JobSpec&, const KeyValue&)> set;
};

// Job keys in file order (name/output/sweep/slurm are the suite's, handled in suite.cc).
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_key(const std::string& dotted);  // nullptr if unknown

// Sets spec's field for `key` from a TOML value; throws ipm::Error "<where>: <key> ..." for a
// wrong type, a value out of range or not among the choices (with the nearest one).
// `base_dir` resolves a relative path.
void apply_key(JobSpec& spec, const ConfigKey& key, const toml::node& value,
               const std::string& where, const std::filesystem::path& base_dir);

// The value as TOML text: "rq" (quoted, escaped), 256, 0.0001 (floats keep a '.' or exponent
// and read back to the same double).
std::string key_value_text(const ConfigKey& key, const KeyValue& value);

// The resolved job as TOML text (every key, defaults included): the job's config.toml.
std::string spec_to_toml(const JobSpec& spec);

// The table as Markdown (one section per TOML table: key, type, allowed, default, help): the
// output of `ipm-dist keys` and the content of docs/keys.md.
std::string keys_markdown();

}  // namespace ipm
