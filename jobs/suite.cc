#include "jobs/suite.h"

#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "common/error.h"
#include "common/text.h"
#include "jobs/config_schema.h"
#include "slurm/slurm_spec.h"

namespace ipm {
namespace {

const std::vector<std::string>& suite_tables() {
  static const std::vector<std::string> t = {"data", "model", "prior", "train", "run"};
  return t;
}

std::string at(const std::filesystem::path& file, const toml::node& n) {
  return file.string() + ":" + std::to_string(n.source().begin.line);
}

std::vector<std::string> all_dotted_keys() {
  std::vector<std::string> v;
  for (const auto& k : config_keys()) v.push_back(k.dotted);
  return v;
}

std::string unknown_key(const std::string& where, const std::string& key,
                        const std::vector<std::string>& valid) {
  return where + ": unknown key '" + key + "' (did you mean '" + nearest(key, valid) + "'?)";
}

// The keys of one table ("train." ...), so a typo is matched within its table first.
std::vector<std::string> keys_of_table(const std::string& table) {
  std::vector<std::string> v;
  for (const auto& k : all_dotted_keys()) {
    if (k.rfind(table + ".", 0) == 0) v.push_back(k);
  }
  return v.empty() ? all_dotted_keys() : v;
}

std::vector<std::string> with_prefix(const std::string& prefix, const std::vector<std::string>& v) {
  std::vector<std::string> out;
  for (const auto& k : v) out.push_back(prefix + k);
  return out;
}

// The text of a value for a job name: 1e-3 -> "0.001", "rq" -> "rq".
std::string value_text(const toml::node& v) {
  if (v.is_string()) return *v.value<std::string>();
  if (v.is_integer()) return std::to_string(*v.value<int64_t>());
  if (v.is_floating_point()) return json_number(*v.value<double>());
  if (v.is_boolean()) return *v.value<bool>() ? "true" : "false";
  return "?";
}

// Directory-safe: letters, digits and ._-= kept, anything else becomes '_'.
std::string safe_name(const std::string& s) {
  std::string out;
  for (const char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == '_' || c == '=';
    out += ok ? c : '_';
  }
  // "", "." and ".." would name the directory itself or its parent.
  if (out.find_first_not_of('.') == std::string::npos) return "job";
  return out;
}

struct SweepAxis {
  std::string key;
  const ConfigKey* schema;
  const toml::array* values;
};

}  // namespace

Suite load_suite(const std::filesystem::path& path) {
  Suite suite;
  IPM_CHECK(std::filesystem::exists(path), path.string() << ": no such suite file");
  suite.file = std::filesystem::absolute(path).lexically_normal();
  const std::filesystem::path base = suite.file.parent_path();
  toml::table root;
  try {
    root = toml::parse_file(suite.file.string());
  } catch (const toml::parse_error& e) {
    throw Error(suite.file.string() + ":" + std::to_string(e.source().begin.line) + ":" +
                std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }

  // Pass 1: every key known, of the right kind (tables where tables belong).
  std::vector<std::string> top = {"name", "output", "sweep", "slurm"};
  for (const auto& t : suite_tables()) top.push_back(t);
  JobSpec base_spec;
  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    const std::string where = at(suite.file, v);
    IPM_CHECK(std::find(top.begin(), top.end(), key) != top.end(), unknown_key(where, key, top));
    if (key == "name" || key == "output") {
      IPM_CHECK(v.is_string() && !v.value<std::string>()->empty(),
                where << ": " << key << " must be a non-empty string");
      continue;
    }
    IPM_CHECK(v.is_table(), where << ": '" << key << "' must be a table ([" << key << "])");
    for (auto&& [sk, sv] : *v.as_table()) {
      const std::string sub(sk.str());
      const std::string swhere = at(suite.file, sv);
      if (key == "slurm") {
        IPM_CHECK(std::find(slurm_keys().begin(), slurm_keys().end(), sub) != slurm_keys().end(),
                  unknown_key(swhere, "slurm." + sub, with_prefix("slurm.", slurm_keys())));
        IPM_CHECK(sv.is_string() || sv.is_integer(),
                  swhere << ": slurm." << sub << " must be a string or an integer");
        // Values too, so a bad one fails now rather than at submission time.
        set_slurm_value(suite.slurm, sub, value_text(sv), swhere + ": slurm." + sub);
        continue;
      }
      if (key == "sweep") {
        const ConfigKey* schema = find_key(sub);
        IPM_CHECK(schema, unknown_key(swhere, sub, all_dotted_keys()) << " in [sweep]");
        IPM_CHECK(sv.is_array(), swhere << ": sweep \"" << sub << "\" must be a list of values");
        IPM_CHECK(!sv.as_array()->empty(), swhere << ": sweep \"" << sub << "\" is an empty list");
        continue;
      }
      const std::string dotted = key + "." + sub;
      const ConfigKey* schema = find_key(dotted);
      IPM_CHECK(schema, unknown_key(swhere, dotted, keys_of_table(key)));
      apply_key(base_spec, *schema, sv, swhere, base);
    }
  }
  suite.name = root["name"].value_or(suite.file.stem().string());
  const std::filesystem::path out = root["output"].value_or("runs/" + safe_name(suite.name));
  suite.output = out.is_absolute() ? out : (base / out).lexically_normal();
  IPM_CHECK(!base_spec.data.file.empty(), suite.file.string() << ": missing key 'data.file'");
  const bool prior_seed_set = static_cast<bool>(root["prior"]["seed"]);

  // Pass 2: the Cartesian product of the sweep, each job validated on its own.
  std::vector<SweepAxis> axes;
  if (const toml::table* sweep = root["sweep"].as_table()) {
    for (auto&& [k, v] : *sweep) {
      axes.push_back({std::string(k.str()), find_key(std::string(k.str())), v.as_array()});
      suite.sweep_keys.push_back(axes.back().key);
    }
  }
  std::vector<size_t> idx(axes.size(), 0);
  std::set<std::string> names;
  while (true) {
    SuiteJob job;
    job.spec = base_spec;
    std::string name;
    bool sweeps_prior_seed = false;
    for (size_t a = 0; a < axes.size(); ++a) {
      const toml::node& v = *axes[a].values->get(idx[a]);
      apply_key(job.spec, *axes[a].schema, v, at(suite.file, v) + " (sweep)", base);
      const std::string text = value_text(v);
      job.swept.emplace_back(axes[a].key, text);
      const std::string leaf = axes[a].key.substr(axes[a].key.find('.') + 1);
      name += (name.empty() ? "" : "_") + leaf + "=" + text;
      sweeps_prior_seed |= axes[a].key == "prior.seed";
    }
    // The negative labels follow the run's seed unless the file pins them (§4.1 averages
    // over "choices of partial label sets and random initializations").
    if (!prior_seed_set && !sweeps_prior_seed) job.spec.prior.seed = job.spec.train.seed;
    job.spec.name = axes.empty() ? safe_name(suite.name) : safe_name(name);
    IPM_CHECK(names.insert(job.spec.name).second,
              suite.file.string() << ": two jobs would share the name '" << job.spec.name
                                  << "' (repeated sweep values?)");
    suite.jobs.push_back(std::move(job));
    size_t a = 0;
    for (; a < axes.size(); ++a) {
      if (++idx[a] < axes[a].values->size()) break;
      idx[a] = 0;
    }
    if (a == axes.size()) break;
  }

  // The resolved input, paths made absolute, for OUTPUT/suite.toml.
  toml::table resolved = root;
  resolved.insert_or_assign("output", suite.output.string());
  if (toml::table* data = resolved["data"].as_table()) {
    data->insert_or_assign("file", base_spec.data.file.string());
  }
  if (toml::array* files = resolved["sweep"]["data.file"].as_array()) {
    for (size_t i = 0; i < files->size(); ++i) {
      const std::filesystem::path p = files->get(i)->value_or(std::string());
      if (!p.empty() && p.is_relative()) {
        files->replace(files->cbegin() + static_cast<std::ptrdiff_t>(i),
                       (base / p).lexically_normal().string());
      }
    }
  }
  std::ostringstream os;
  os << resolved << "\n";
  suite.resolved_toml = os.str();
  return suite;
}

}  // namespace ipm
