// ipm-dist: the command line. Subcommands: pack, run (the default for a .toml argument).
// Errors print one line "ipm-dist: error: ..." and exit 1; usage errors exit 2.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "common/process_tuning.h"
#include "dist/communicator.h"
#include "io/pack_idx.h"
#include "jobs/run_suite.h"
#include "jobs/suite.h"

#ifndef IPM_VERSION
#define IPM_VERSION "0.0.0"
#endif

namespace {

int run_command(const std::string& file, bool dry_run) {
  const ipm::Suite suite = ipm::load_suite(file);
  ipm::validate_suite(suite);  // every job, before any trains
  ipm::SingleProcessCommunicator comm;
  const ipm::SuiteOutcome out = ipm::run_suite(suite, comm, dry_run);
  if (dry_run) return 0;
  std::cout << "[" << suite.name << "] " << suite.jobs.size() << " jobs: " << out.trained
            << " trained, " << out.done_before << " already done, " << out.failures.size()
            << " failed; results in " << suite.output.string() << "\n";
  for (const auto& f : out.failures) std::cerr << "ipm-dist: failed job " << f << "\n";
  return out.failures.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ipm::tune_process_for_training();
  // `ipm-dist FILE.toml` means `ipm-dist run FILE.toml`.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0].size() > 5 && args[0].substr(args[0].size() - 5) == ".toml") {
    args.insert(args.begin(), "run");
  }
  CLI::App app{"ipm-dist: train classifiers from prior beliefs with implicit posterior models "
               "(Rolf et al., UAI 2022), at cluster scale."};
  app.name("ipm-dist");
  app.set_version_flag("--version", std::string("ipm-dist ") + IPM_VERSION);
  app.require_subcommand(1);

  std::string suite_file;
  bool dry_run = false;
  CLI::App* run = app.add_subcommand("run", "Run a suite (or single job) described in TOML");
  run->add_option("SUITE", suite_file, "Suite file (.toml)")->required();
  run->add_flag("--dry-run", dry_run, "List the jobs and their state; train nothing");

  CLI::App* pack = app.add_subcommand("pack", "Build an ipm-dist HDF5 data file");
  pack->require_subcommand(1);
  CLI::App* idx = pack->add_subcommand("idx", "From MNIST-format IDX files (.gz or plain)");
  std::string idx_dir, out_file;
  int64_t num_classes = 10;
  std::vector<std::string> class_names;
  idx->add_option("IDX_DIR", idx_dir, "Directory with train-/t10k- images and labels")
      ->required();
  idx->add_option("-o,--output", out_file, "HDF5 file to write")->required();
  idx->add_option("--num-classes", num_classes, "Number of classes")->capture_default_str();
  idx->add_option("--class-names", class_names, "Class names, in label order");

  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*run) return run_command(suite_file, dry_run);
    if (*idx) {
      ipm::pack_idx(idx_dir, out_file, num_classes, class_names);
      std::cout << "wrote " << out_file << "\n";
      return 0;
    }
  } catch (const ipm::Error& e) {
    std::cerr << "ipm-dist: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "ipm-dist: error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
