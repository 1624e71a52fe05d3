// `ipm-dist slurm SUITE.toml [overrides] [--submit]`: the suite's sbatch script, written into
// OUTPUT/slurm/, and optionally submitted.
// defines: SlurmCommand, add_slurm_command, run_slurm_command
#pragma once

#include <map>
#include <string>

#include <CLI/CLI.hpp>

struct SlurmCommand {
  std::string suite;
  std::map<std::string, std::string> overrides;  // slurm key -> value, as typed
  bool submit = false;
  CLI::App* app = nullptr;
};

// Declares the subcommand and its options on `parent`.
void add_slurm_command(CLI::App& parent, SlurmCommand& cmd);

// Validates the suite and every value, writes the script atomically, prints its path, and
// with --submit runs sbatch and prints the job id and the log. Throws ipm::Error.
int run_slurm_command(const SlurmCommand& cmd);
