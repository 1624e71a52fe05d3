#include "tools/slurm_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "jobs/run_suite.h"
#include "jobs/suite.h"
#include "slurm/sbatch_script.h"
#include "slurm/sbatch_submit.h"
#include "slurm/slurm_gpus.h"
#include "slurm/slurm_spec.h"

namespace {

// A file name from the suite's name: letters, digits and ._- kept, anything else '_'.
std::string file_stem(const std::string& name) {
  std::string out;
  for (const char c : name) {
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')
               ? c : '_';
  }
  if (out.find_first_not_of('.') == std::string::npos) return "suite";
  return out;
}

}  // namespace

void add_slurm_command(CLI::App& parent, SlurmCommand& cmd) {
  cmd.app = parent.add_subcommand(
      "slurm", "Write the suite's sbatch script to OUTPUT/slurm/NAME.sbatch ([slurm] table plus "
               "these overrides); --submit also runs sbatch");
  cmd.app->add_option("SUITE", cmd.suite, "Suite file (.toml)")->required();
  // Every override is validated like the [slurm] key it replaces (slurm/slurm_spec.h).
  for (const ipm::SlurmKey& k : ipm::slurm_key_table()) {
    if (k.option) cmd.app->add_option(k.option, cmd.overrides[k.key], k.help);
  }
  cmd.app->add_flag("--submit", cmd.submit, "Submit the script with sbatch; print the job id");
}

int run_slurm_command(const SlurmCommand& cmd) {
  const ipm::Suite suite = ipm::load_suite(cmd.suite);  // [slurm] values are checked here
  ipm::validate_suite(suite);                            // and every job, before queueing
  ipm::SlurmSpec spec = suite.slurm;
  for (const ipm::SlurmKey& k : ipm::slurm_key_table()) {
    if (k.option && cmd.app->count(k.option) > 0) {
      ipm::set_slurm_value(spec, k.key, cmd.overrides.at(k.key), k.option);
    }
  }
  const int64_t per_job = suite.jobs.front().spec.run.ranks_per_job;
  int64_t threads = 1;
  for (const auto& j : suite.jobs) threads = std::max(threads, j.spec.run.threads_per_rank);
  // The GPU request follows run.backend (one for the whole run, as `ipm-dist run` checks).
  const ipm::Backend backend = suite.jobs.front().spec.run.backend;
  for (const auto& j : suite.jobs) {
    IPM_CHECK(j.spec.run.backend == backend,
              suite.file.string() << ": run.backend must be the same for every job");
  }
  const std::string gpu_note =
      ipm::finish_slurm_gpus(spec, ipm::enum_to_name(backend), per_job, suite.file.string() + ": [slurm]");
  ipm::finish_slurm_spec(spec, suite.name, per_job, threads);
  const int64_t tasks = spec.nodes * spec.ntasks_per_node;
  IPM_CHECK(tasks % per_job == 0,
            "nodes × ntasks_per_node = " << tasks << " ranks, not a multiple of "
            "run.ranks_per_job = " << per_job << " of " << suite.file.string());

  const std::filesystem::path dir = suite.output / "slurm";
  const std::string stem = file_stem(suite.name);
  const std::filesystem::path script = dir / (stem + ".sbatch");
  IPM_CHECK(spec.array <= static_cast<int64_t>(suite.jobs.size()),
            "--array = " << spec.array << ": more array tasks than the suite's "
                         << suite.jobs.size() << " jobs");
  // sbatch expands %j, %a, ... in the log path: our own part must not hold any '%'.
  IPM_CHECK(!spec.output.empty() || dir.string().find('%') == std::string::npos,
            "the output directory " << dir.string() << " holds '%', which sbatch would expand "
            "in the log path; set [slurm] output");
  std::filesystem::path log = dir / (stem + (spec.array > 0 ? "_%a.log" : ".log"));
  if (!spec.output.empty()) {  // relative to the suite file, like the suite's other paths
    log = std::filesystem::path(spec.output).is_relative()
              ? (suite.file.parent_path() / spec.output).lexically_normal()
              : std::filesystem::path(spec.output);
  }
  ipm::SbatchPaths paths;
  paths.ipm_dist = std::filesystem::read_symlink("/proc/self/exe").string();
  paths.suite = suite.file.string();
  paths.log = log.string();
  const std::string text = ipm::render_sbatch(spec, paths);  // throws before anything is written
  std::filesystem::create_directories(dir);
  ipm::write_file_atomic(script, text);
  std::cout << "wrote " << script.string() << "\n";
  if (!gpu_note.empty()) std::cerr << "ipm-dist: note: " << gpu_note << "\n";
  if (cmd.submit) {
    const std::string id = ipm::submit_sbatch(script.string());
    std::cout << "submitted batch job " << id << "\nlog: " << log.string()
              << (spec.array > 0 ? "  (%a: the array task)" : "") << "\n";
  }
  return 0;
}
