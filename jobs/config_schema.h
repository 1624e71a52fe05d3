// The keys a suite file may set, their types and ranges, and how each lands in a JobSpec.
// defines: ipm::ConfigKey, ipm::config_keys, ipm::find_key, ipm::apply_key, ipm::spec_to_toml
//
// One table describes every key: validation, sweeps ("train.lr" = [...]) and the resolved
// config.toml all read it, so a key added here works everywhere.
#pragma once

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "trainer/job_spec.h"

namespace ipm {

enum class KeyType { kString, kInt, kFloat };

struct ConfigKey {
  const char* dotted;  // "train.lr"
  KeyType type;
  const char* help;    // allowed values or range, for messages
};

// Job keys (name/output/sweep/slurm are the suite's, handled in suite.cc).
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_key(const std::string& dotted);  // nullptr if unknown

// Sets spec's field for `key` from a TOML value; throws ipm::Error "<where>: <key> ..." for a
// wrong type or a value out of range. `base_dir` resolves a relative data.file.
void apply_key(JobSpec& spec, const ConfigKey& key, const toml::node& value,
               const std::string& where, const std::filesystem::path& base_dir);

// The resolved job as TOML text (every key, defaults included): the job's config.toml.
std::string spec_to_toml(const JobSpec& spec);

}  // namespace ipm
