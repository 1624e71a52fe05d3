// What a suite asks of Slurm: the [slurm] table of a suite file plus command-line overrides.
// defines: ipm::SlurmSpec, ipm::SlurmKey, ipm::slurm_key_table, ipm::slurm_keys,
//          ipm::set_slurm_value, ipm::finish_slurm_spec,
//          ipm::slurm_time_seconds, ipm::kPreemptedExitCode
//
// Every value is validated when it is set, so a bad one fails with its key (and the file
// and line, or the option) before anything is written or submitted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ipm {

// The exit status of `ipm-dist run` when it stopped on SIGUSR1/SIGTERM after checkpointing:
// "preempted, resume me". 75 is EX_TEMPFAIL of <sysexits.h> ("temporary failure, the user is
// invited to retry"); no other path of ipm-dist exits with it (errors are 1, usage 2).
constexpr int kPreemptedExitCode = 75;

struct SlurmSpec {
  // Strings are empty and numbers 0 when unset; finish_slurm_spec fills the defaults.
  std::string partition, account, qos, constraint, job_name, mem, time;
  std::string output;  // the log file; "" = OUTPUT/slurm/<name>.log
  int64_t nodes = 0, ntasks_per_node = 0, cpus_per_task = 0, gpus_per_node = 0;
  int64_t signal_seconds = 120;  // USR1 this long before the time limit
  std::string launcher = "srun";  // or "mpirun"
  int64_t array = 0;  // > 0: a job array of this many tasks, task i trains jobs j % array == i
};

// One Slurm setting, declared once: the [slurm] key, the `ipm-dist slurm` option that
// overrides it, what it does, and how a value given as text is checked and stored.
struct SlurmKey {
  const char* key;     // TOML spelling, e.g. "ntasks_per_node"
  const char* option;  // e.g. "--ntasks-per-node"; nullptr: the suite file only
  bool in_suite;       // a suite's [slurm] table may hold it (else the command line only)
  const char* help;
  // Throws ipm::Error "<label> = <value>: <what is wrong>".
  void (*set)(SlurmSpec& spec, const std::string& value, const std::string& label);
};

// Every Slurm setting, in the order `ipm-dist slurm --help` and docs/keys.md list them.
const std::vector<SlurmKey>& slurm_key_table();

// The keys a [slurm] table may hold (the table's rows with in_suite).
const std::vector<std::string>& slurm_keys();

// Sets one value given as text (a TOML integer's digits, or a string). `label` names it in
// errors: "suite.toml:12: slurm.nodes" or "--nodes". Throws ipm::Error for a key that is not
// in the table, naming the nearest.
void set_slurm_value(SlurmSpec& spec, const std::string& key, const std::string& value,
                     const std::string& label);

// Defaults for what is unset: one node, ranks_per_job tasks, threads_per_rank CPUs per task,
// one hour, the job named after the suite. Throws ipm::Error when the warning signal would
// come before the job starts (signal_seconds >= the time limit).
void finish_slurm_spec(SlurmSpec& spec, const std::string& suite_name, int64_t ranks_per_job,
                       int64_t threads_per_rank);

// Seconds of a Slurm time limit ("30", "1:30:00", "2-12", ...); -1 for UNLIMITED/INFINITE.
// Throws ipm::Error for text Slurm would not accept.
int64_t slurm_time_seconds(const std::string& t);

}  // namespace ipm
