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

// (option, slurm key, help): every override is validated like the [slurm] key it replaces.
struct Override {
  const char* option;
  const char* key;
  const char* help;
};
const Override kOverrides[] = {
    {"--nodes", "nodes", "Nodes (default 1)"},
    {"--ntasks-per-node", "ntasks_per_node", "Ranks per node (default run.ranks_per_job)"},
    {"--cpus-per-task", "cpus_per_task", "CPUs per rank (default run.threads_per_rank)"},
    {"--gpus-per-node", "gpus_per_node",
     "GPUs per node (default: ntasks_per_node for run.backend = \"nccl\", else none)"},
    {"--time", "time", "Time limit: minutes, HH:MM:SS, D-HH:MM:SS ... (default 01:00:00)"},
    {"--partition", "partition", "Partition"},
    {"--account", "account", "Account"},
    {"--qos", "qos", "Quality of service"},
    {"--mem", "mem", "Memory per node, e.g. 16G"},
    {"--constraint", "constraint", "Node features"},
    {"--job-name", "job_name", "Job name (default: the suite's name)"},
    {"--signal-seconds", "signal_seconds",
     "Seconds before the time limit at which USR1 asks for a checkpoint (default 120)"},
    {"--launcher", "launcher", "srun (default) or mpirun, inside the allocation"},
    {"--array", "array",
     "N: a job array of N tasks; task i trains the suite's jobs j with j % N == i"},
};

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
  for (const Override& o : kOverrides) {
    cmd.app->add_option(o.option, cmd.overrides[o.key], o.help);
  }
  cmd.app->add_flag("--submit", cmd.submit, "Submit the script with sbatch; print the job id");
}

int run_slurm_command(const SlurmCommand& cmd) {
  const ipm::Suite suite = ipm::load_suite(cmd.suite);  // [slurm] values are checked here
  ipm::validate_suite(suite);                            // and every job, before queueing
  ipm::SlurmSpec spec = suite.slurm;
  for (const Override& o : kOverrides) {
    if (cmd.app->count(o.option) > 0) {
      ipm::set_slurm_value(spec, o.key, cmd.overrides.at(o.key), o.option);
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
