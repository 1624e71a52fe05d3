// Tests of slurm/: quoting, validation of every [slurm] value, and the sbatch script.
//   * shell_quote round-trips hostile strings (quotes, $, `, ;, #, newlines, every byte 1..255,
//     random strings) through a real bash, and nothing in them is executed;
//   * sbatch_quote's escapes for sbatch's #SBATCH parser, and control characters refused
//     (tests/e2e/slurm_submit_test.sh reads a hostile job name back from a real Slurm);
//   * every key: valid values accepted, bad ones rejected with the key and the value named;
//     Slurm's time formats; defaults; a warning signal longer than the time limit refused;
//   * golden scripts for a CPU cluster and for 2 nodes x 4 GPUs, byte for byte
//     (regenerate: IPM_UPDATE_GOLDEN=1 ./slurm_test, then review the diff);
//   * srun gets --cpus-per-task; the GPU request follows run.backend, inconsistent tables
//     are refused; the script checks that every node starts the binary before the launch;
//   * --array: one slice of the suite per array task, one log per task;
//   * the rendered script run by bash with fake srun/scontrol: hostile paths arrive as exactly
//     one argument each, exit 75 leads to `scontrol requeue $SLURM_JOB_ID`, other codes pass;
//     USR1 to the batch shell reaches srun and requeues, TERM (scancel) checkpoints only.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "slurm/sbatch_script.h"
#include "slurm/slurm_gpus.h"
#include "slurm/shell_quote.h"
#include "slurm/slurm_spec.h"
#include "test_util.h"

namespace fs = std::filesystem;
using ipm::SlurmSpec;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text, bool executable = false) {
  std::ofstream(p, std::ios::binary) << text;
  if (executable) fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
}

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ipm_slurm_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `script` with bash in dir_ (PATH prefixed with dir_/bin); returns the exit status.
  int run_bash(const std::string& script, const std::string& env = "") {
    write_file(dir_ / "script.sh", script);
    const std::string cmd = "cd '" + dir_.string() + "' && env PATH='" + (dir_ / "bin").string() +
                            ":/usr/bin:/bin' " + env + " bash script.sh > stdout.txt 2> stderr.txt";
    const int st = std::system(cmd.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  fs::path dir_;
};

// Strings a suite name, a path or a partition could hold, chosen to break naive quoting.
std::vector<std::string> hostile_strings() {
  std::vector<std::string> v = {
      "plain", "a b", "it's", "'", "''", "\"", "$HOME", "${HOME}", "`touch pwned`",
      "$(touch pwned)", "a;touch pwned", "a && touch pwned", "a|touch pwned", "#comment",
      "a\nb", "\n", "trailing\\", "\\'", "*", "?", "[a]", "~", "!", "!!", "a\tb", "%j",
      "-n", "--help", "caf\xc3\xa9", "'$(touch pwned)'\"$(touch pwned)\"", " ", "x=1 y"};
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  v.push_back(all);
  std::mt19937 rng(12345);
  for (int i = 0; i < 40; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 12) + 1;
    for (int j = 0; j < len; ++j) s += static_cast<char>(rng() % 255 + 1);
    v.push_back(s);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Quoting

TEST_F(SlurmTest, ShellQuoteRoundTripsHostileStringsThroughBash) {
  const std::vector<std::string> strings = hostile_strings();
  std::string script;
  for (const auto& s : strings) script += "printf '%s\\0' " + ipm::shell_quote(s) + "\n";
  ASSERT_EQ(run_bash(script), 0) << read_file(dir_ / "stderr.txt");
  const std::string out = read_file(dir_ / "stdout.txt");
  std::vector<std::string> got;
  size_t start = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\0') {
      got.push_back(out.substr(start, i - start));
      start = i + 1;
    }
  }
  ASSERT_EQ(got.size(), strings.size());
  for (size_t i = 0; i < strings.size(); ++i) EXPECT_EQ(got[i], strings[i]) << "string " << i;
  EXPECT_FALSE(fs::exists(dir_ / "pwned")) << "a quoted string was executed";
}

TEST_F(SlurmTest, ShellQuoteLeavesPlainWordsReadable) {
  EXPECT_EQ(ipm::shell_quote("/opt/ipm-dist/bin/ipm-dist"), "/opt/ipm-dist/bin/ipm-dist");
  EXPECT_EQ(ipm::shell_quote("a b"), "'a b'");
  EXPECT_EQ(ipm::shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(ipm::shell_quote(""), "''");
}

TEST_F(SlurmTest, SbatchQuoteEscapesWhatSbatchParses) {
  EXPECT_EQ(ipm::sbatch_quote("gpu"), "gpu");
  EXPECT_EQ(ipm::sbatch_quote("12:00:00"), "12:00:00");
  EXPECT_EQ(ipm::sbatch_quote("my job"), "\"my job\"");
  EXPECT_EQ(ipm::sbatch_quote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(ipm::sbatch_quote("a#b"), "\"a\\#b\"");  // '#' would start a comment
  EXPECT_EQ(ipm::sbatch_quote("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(ipm::sbatch_quote("$x;y"), "\"$x;y\"");  // no shell reads it: nothing to expand
  EXPECT_CONTAINS(ErrorOf([] { ipm::sbatch_quote("a\nb"); }), "control character");
  EXPECT_CONTAINS(ErrorOf([] { ipm::sbatch_quote("a\rb"); }), "control character");
}

// ---------------------------------------------------------------------------------------------
// Validation

std::string set_error(const std::string& key, const std::string& value) {
  SlurmSpec s;
  return ErrorOf([&] { ipm::set_slurm_value(s, key, value, "f.toml:3: slurm." + key); });
}

TEST_F(SlurmTest, CountsMustBePositiveIntegers) {
  for (const std::string key : {"nodes", "ntasks_per_node", "cpus_per_task", "gpus_per_node"}) {
    for (const std::string bad : {"0", "-1", "1.5", "two", "", " 2", "2 ", "1e3",
                                  "99999999999999999999", "2;rm"}) {
      const std::string msg = set_error(key, bad);
      EXPECT_CONTAINS(msg, "f.toml:3: slurm." + key + " = ");
      EXPECT_CONTAINS(msg, "must be an integer");
    }
    SlurmSpec s;
    ipm::set_slurm_value(s, key, "4", key);
    EXPECT_EQ(key == "nodes" ? s.nodes : key == "ntasks_per_node" ? s.ntasks_per_node
              : key == "cpus_per_task" ? s.cpus_per_task : s.gpus_per_node, 4);
  }
}

TEST_F(SlurmTest, TimeAcceptsSlurmFormatsOnly) {
  const std::vector<std::pair<std::string, int64_t>> good = {
      {"30", 1800}, {"90:30", 5430}, {"1:00:00", 3600}, {"12:00:00", 43200},
      {"2-12", 2 * 86400 + 12 * 3600}, {"1-02:03", 86400 + 7200 + 180},
      {"1-02:03:04", 86400 + 7200 + 184}, {"UNLIMITED", -1}, {"infinite", -1}};
  for (const auto& [t, sec] : good) {
    EXPECT_EQ(ipm::slurm_time_seconds(t), sec) << t;
    SlurmSpec s;
    ipm::set_slurm_value(s, "time", t, "--time");
    EXPECT_EQ(s.time, t);
  }
  for (const std::string bad : {"", "0", "1:60", "1:60:00", "1:00:60", "2-24", "1:2:3:4",
                                "1h", "-1", "1-", "a-1", "1:00:00;reboot", "12:00:00\n"}) {
    const std::string msg = set_error("time", bad);
    EXPECT_CONTAINS(msg, "f.toml:3: slurm.time = ");
    EXPECT_CONTAINS(msg, "not a Slurm time");
  }
}

TEST_F(SlurmTest, NamesMemAndConstraintAreChecked) {
  SlurmSpec s;
  ipm::set_slurm_value(s, "partition", "gpu,gpu-long", "p");
  ipm::set_slurm_value(s, "account", "proj_123", "a");
  ipm::set_slurm_value(s, "qos", "high.prio", "q");
  ipm::set_slurm_value(s, "mem", "16G", "m");
  ipm::set_slurm_value(s, "mem", "4000", "m");
  ipm::set_slurm_value(s, "constraint", "a100&(ib|eth)", "c");
  for (const std::string bad : {"gpu; rm -rf ~", "my part", "a'b", "$P", "a\nb", "", ",gpu"}) {
    const std::string msg = set_error("partition", bad);
    EXPECT_CONTAINS(msg, "slurm.partition = ");
    EXPECT_CONTAINS(msg, ": not a Slurm name");
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "an error is one line";
  }
  EXPECT_CONTAINS(set_error("partition", "gpu; rm -rf ~"), "slurm.partition = 'gpu; rm -rf ~': ");
  EXPECT_CONTAINS(set_error("partition", "a\nb"), "slurm.partition = $'a\\nb': ");
  EXPECT_CONTAINS(set_error("account", "a,b"), "not a Slurm name");
  EXPECT_CONTAINS(set_error("qos", "high prio"), "slurm.qos = 'high prio': not a Slurm name");
  for (const std::string bad : {"16GB", "G", "-1G", "1.5G", "0"}) {
    EXPECT_CONTAINS(set_error("mem", bad), "slurm.mem = ");
  }
  EXPECT_CONTAINS(set_error("constraint", "a100 && $(x)"), "not a Slurm feature expression");
  EXPECT_CONTAINS(set_error("job_name", "a\nb"), "control characters");
  EXPECT_CONTAINS(set_error("output", ""), "slurm.output = ''");
  EXPECT_CONTAINS(set_error("launcher", "ssh"), "must be srun or mpirun");
  EXPECT_CONTAINS(set_error("signal_seconds", "70000"), "at most 65535");
  EXPECT_CONTAINS(set_error("partiton", "gpu"), "did you mean 'partition'");
}

// The key table is the only description of a Slurm setting: options are the keys spelled
// as options, every row refuses an empty value naming its label, and the keys a suite may
// hold are exactly its in_suite rows.
TEST_F(SlurmTest, EveryKeyOfTheTableIsCheckedAndNamed) {
  std::vector<std::string> in_suite;
  std::set<std::string> options;
  for (const ipm::SlurmKey& k : ipm::slurm_key_table()) {
    SCOPED_TRACE(k.key);
    if (k.in_suite) in_suite.push_back(k.key);
    if (k.option) {
      std::string expected = std::string("--") + k.key;
      std::replace(expected.begin(), expected.end(), '_', '-');
      EXPECT_EQ(k.option, expected);
      EXPECT_TRUE(options.insert(k.option).second) << "option twice";
    }
    EXPECT_TRUE(k.in_suite || k.option) << "a setting nobody can set";
    EXPECT_GT(std::string(k.help).size(), 3u);
    EXPECT_CONTAINS(set_error(k.key, ""), std::string("f.toml:3: slurm.") + k.key + " = ");
  }
  EXPECT_EQ(ipm::slurm_keys(), in_suite);
}

TEST_F(SlurmTest, DefaultsComeFromTheSuite) {
  SlurmSpec s;
  ipm::finish_slurm_spec(s, "sweep\nname", /*ranks_per_job=*/2, /*threads_per_rank=*/3);
  EXPECT_EQ(s.nodes, 1);
  EXPECT_EQ(s.ntasks_per_node, 2);
  EXPECT_EQ(s.cpus_per_task, 3);
  EXPECT_EQ(s.time, "01:00:00");
  EXPECT_EQ(s.job_name, "sweep_name");  // an #SBATCH line cannot hold the newline
  SlurmSpec t;
  ipm::set_slurm_value(t, "time", "2", "--time");
  ipm::set_slurm_value(t, "signal_seconds", "120", "--signal-seconds");
  EXPECT_CONTAINS(ErrorOf([&] { ipm::finish_slurm_spec(t, "x", 1, 1); }),
                  "would come before the job starts: time = 2 (120 s)");
}

// ---------------------------------------------------------------------------------------------
// The script

SlurmSpec cpu_cluster() {
  SlurmSpec s;
  ipm::set_slurm_value(s, "partition", "cpu", "");
  ipm::set_slurm_value(s, "account", "proj42", "");
  ipm::set_slurm_value(s, "ntasks_per_node", "8", "");
  ipm::set_slurm_value(s, "cpus_per_task", "4", "");
  ipm::set_slurm_value(s, "time", "12:00:00", "");
  ipm::set_slurm_value(s, "mem", "64G", "");
  ipm::finish_slurm_spec(s, "negative-labels", 2, 4);
  return s;
}

SlurmSpec gpu_2x4() {
  SlurmSpec s;
  ipm::set_slurm_value(s, "partition", "gpu", "");
  ipm::set_slurm_value(s, "qos", "normal", "");
  ipm::set_slurm_value(s, "nodes", "2", "");
  ipm::set_slurm_value(s, "ntasks_per_node", "4", "");
  ipm::set_slurm_value(s, "cpus_per_task", "8", "");
  ipm::set_slurm_value(s, "gpus_per_node", "4", "");
  ipm::set_slurm_value(s, "time", "1-00:00:00", "");
  ipm::set_slurm_value(s, "constraint", "a100", "");
  ipm::set_slurm_value(s, "signal_seconds", "300", "");
  ipm::finish_slurm_spec(s, "rq-vs-ce", 4, 8);
  return s;
}

ipm::SbatchPaths golden_paths(const std::string& name) {
  return {"/opt/ipm-dist/bin/ipm-dist", "/home/user/suites/" + name + ".toml",
          "/home/user/runs/" + name + "/slurm/" + name + ".log"};
}

void expect_golden(const std::string& file, const std::string& text) {
  const fs::path p = fs::path(IPM_TEST_DATA_DIR) / "slurm" / file;
  if (std::getenv("IPM_UPDATE_GOLDEN")) {
    write_file(p, text);
    return;
  }
  EXPECT_EQ(text, read_file(p)) << "differs from " << p << " (IPM_UPDATE_GOLDEN=1 rewrites it)";
}

TEST_F(SlurmTest, GoldenCpuCluster) {
  expect_golden("cpu_cluster.sbatch", ipm::render_sbatch(cpu_cluster(), golden_paths("negative-labels")));
}

TEST_F(SlurmTest, GoldenTwoNodesFourGpus) {
  expect_golden("gpu_2x4.sbatch", ipm::render_sbatch(gpu_2x4(), golden_paths("rq-vs-ce")));
}

// An nccl suite with no GPU keys in its [slurm] table: one GPU per task, asked for.
TEST_F(SlurmTest, GoldenNcclSuiteAsksOneGpuPerTask) {
  SlurmSpec s;
  ipm::set_slurm_value(s, "partition", "gpu", "");
  ipm::set_slurm_value(s, "nodes", "2", "");
  EXPECT_EQ(ipm::finish_slurm_gpus(s, "nccl", /*ranks_per_job=*/4, "nccl.toml: [slurm]"), "");
  ipm::finish_slurm_spec(s, "nccl-sweep", 4, 6);
  expect_golden("nccl_derived.sbatch", ipm::render_sbatch(s, golden_paths("nccl-sweep")));
}

TEST_F(SlurmTest, MpirunLauncherUsesTheAllocationsTasks) {
  SlurmSpec s = cpu_cluster();
  ipm::set_slurm_value(s, "launcher", "mpirun", "--launcher");
  const std::string text = ipm::render_sbatch(s, golden_paths("x"));
  EXPECT_CONTAINS(text, "\nmpirun -np \"$SLURM_NTASKS\" \"$ipm\" run \"$suite\" &\n");
  EXPECT_EQ(text.find("srun"), std::string::npos);
}

// srun does not inherit sbatch's --cpus-per-task (Slurm >= 22.05): the script passes it.
TEST_F(SlurmTest, SrunGetsTheCpusPerTaskOfTheAllocation) {
  const std::string text = ipm::render_sbatch(cpu_cluster(), golden_paths("x"));
  EXPECT_CONTAINS(text, "#SBATCH --cpus-per-task=4\n");
  EXPECT_CONTAINS(text, "\nsrun --mpi=pmix --cpus-per-task=4 \"$ipm\" run \"$suite\" &\n");
}

// run.backend decides the GPU request: one rank per GPU for nccl (and auto with GPUs).
TEST_F(SlurmTest, GpusFollowTheBackend) {
  SlurmSpec nccl;  // neither count given: ranks_per_job of each
  EXPECT_EQ(ipm::finish_slurm_gpus(nccl, "nccl", 4, "s.toml: [slurm]"), "");
  ipm::finish_slurm_spec(nccl, "n", 4, 2);
  EXPECT_EQ(nccl.ntasks_per_node, 4);
  EXPECT_EQ(nccl.gpus_per_node, 4);
  EXPECT_CONTAINS(ipm::render_sbatch(nccl, golden_paths("n")), "#SBATCH --gpus-per-node=4\n");
  SlurmSpec from_gpus;  // gpus_per_node given: as many tasks
  ipm::set_slurm_value(from_gpus, "gpus_per_node", "8", "");
  ipm::finish_slurm_gpus(from_gpus, "nccl", 2, "s.toml: [slurm]");
  EXPECT_EQ(from_gpus.ntasks_per_node, 8);
  SlurmSpec from_tasks;  // ntasks_per_node given: as many GPUs
  ipm::set_slurm_value(from_tasks, "ntasks_per_node", "2", "");
  ipm::finish_slurm_gpus(from_tasks, "auto", 2, "s.toml: [slurm]");
  EXPECT_EQ(from_tasks.gpus_per_node, 0);  // auto without GPUs: none asked for...
  EXPECT_CONTAINS(ipm::finish_slurm_gpus(from_tasks, "auto", 2, "s.toml: [slurm]"),
                  "asks for no GPU, so the ranks train on the CPU");  // ...and said so
  ipm::finish_slurm_gpus(from_tasks, "nccl", 2, "s.toml: [slurm]");
  EXPECT_EQ(from_tasks.gpus_per_node, 2);
  SlurmSpec cpu_part;
  ipm::set_slurm_value(cpu_part, "partition", "cpu", "");
  EXPECT_CONTAINS(ipm::finish_slurm_gpus(cpu_part, "auto", 1, "w"), "on partition cpu");
}

TEST_F(SlurmTest, InconsistentGpuTablesAreRefused) {
  SlurmSpec two_per_gpu;
  ipm::set_slurm_value(two_per_gpu, "gpus_per_node", "1", "");
  ipm::set_slurm_value(two_per_gpu, "ntasks_per_node", "2", "");
  for (const char* b : {"nccl", "auto"}) {
    SlurmSpec s = two_per_gpu;
    EXPECT_CONTAINS(ErrorOf([&] { ipm::finish_slurm_gpus(s, b, 2, "s.toml: [slurm]"); }),
                    "s.toml: [slurm]: gpus_per_node = 1 but ntasks_per_node = 2: run.backend = \"" +
                        std::string(b) + "\" runs one rank per GPU");
  }
  SlurmSpec mpi_gpus;
  ipm::set_slurm_value(mpi_gpus, "gpus_per_node", "4", "");
  EXPECT_CONTAINS(ErrorOf([&] { ipm::finish_slurm_gpus(mpi_gpus, "mpi", 1, "s.toml: [slurm]"); }),
                  "s.toml: [slurm]: gpus_per_node = 4 with run.backend = \"mpi\"");
}

TEST_F(SlurmTest, ArrayTasksTakeSlicesOfTheSuite) {
  SlurmSpec s = cpu_cluster();
  ipm::set_slurm_value(s, "array", "3", "--array");
  ipm::SbatchPaths p = golden_paths("x");
  p.log = "/home/user/runs/x/slurm/x_%a.log";
  const std::string text = ipm::render_sbatch(s, p);
  EXPECT_CONTAINS(text, "#SBATCH --array=0-2\n");
  EXPECT_CONTAINS(text, "#SBATCH --output=/home/user/runs/x/slurm/x_%a.log\n");
  EXPECT_CONTAINS(text, "\"$ipm\" run \"$suite\" --slice \"$SLURM_ARRAY_TASK_ID/3\" &\n");
  EXPECT_CONTAINS(set_error("array", "0"), "must be an integer");
  EXPECT_CONTAINS(set_error("array", "1001"), "at most 1000 array tasks");
}

// The fake launchers' answer to the script's start-up check (`srun ... ipm-dist --version`
// on every node): recorded in version_check, then success.
const std::string kVersionCheck =
    "if [ \"${@: -1}\" = --version ]; then printf '%s\\0' \"$@\" > version_check; exit 0; fi\n";

// The script itself under bash, with srun and scontrol replaced by recorders.
class ScriptRun : public SlurmTest {
 protected:
  // Renders for hostile paths, runs with a fake srun exiting `srun_rc`; returns bash's status.
  int run_script(int srun_rc) {
    fs::create_directories(dir_ / "bin");
    write_file(dir_ / "bin" / "srun",
               "#!/bin/bash\n" + kVersionCheck +
                   "printf '%s\\0' \"$@\" > srun_args\nexit " + std::to_string(srun_rc) +
                   "\n", true);
    write_file(dir_ / "bin" / "scontrol", "#!/bin/bash\necho \"$@\" > scontrol_args\n", true);
    write_file(dir_ / "bin" / "date", "#!/bin/bash\necho DATE\n", true);
    paths_ = {"/opt/my ipm's $(touch pwned)/ipm-dist", "/home/u/a;touch pwned/\"s\" #1\n.toml",
              "/home/u/log `touch pwned`.log"};
    SlurmSpec s = cpu_cluster();
    ipm::set_slurm_value(s, "job_name", "it's a \"$job\"; #1", "");
    write_file(dir_ / "job.sbatch", ipm::render_sbatch(s, paths_));
    return run_bash("exec bash ./job.sbatch", "SLURM_JOB_ID=4242");
  }
  ipm::SbatchPaths paths_;
};

TEST_F(ScriptRun, HostilePathsReachTheLauncherIntact) {
  EXPECT_EQ(run_script(0), 0) << read_file(dir_ / "stderr.txt");
  const std::string args = read_file(dir_ / "srun_args");
  EXPECT_EQ(args, std::string("--mpi=pmix\0--cpus-per-task=4\0", 29) + paths_.ipm_dist + '\0' +
                      "run" + '\0' + paths_.suite + '\0');
  // Before the launch: one task per node starts the binary (it and its libraries are there).
  EXPECT_EQ(read_file(dir_ / "version_check"),
            std::string("--nodes=1\0--ntasks=1\0--ntasks-per-node=1\0--mpi=none\0", 52) +
                paths_.ipm_dist + '\0' +
                "--version" + '\0');
  EXPECT_FALSE(fs::exists(dir_ / "pwned")) << "a path was executed";
  EXPECT_FALSE(fs::exists(dir_ / "scontrol_args")) << "requeued a job that finished";
  // The #SBATCH lines carry the hostile values on one line each, quoted for sbatch.
  const std::string text = read_file(dir_ / "job.sbatch");
  EXPECT_CONTAINS(text, "#SBATCH --job-name=\"it's a \\\"$job\\\"; \\#1\"\n");
  EXPECT_CONTAINS(text, "#SBATCH --output=\"/home/u/log `touch pwned`.log\"\n");
}

TEST_F(ScriptRun, PreemptedExitRequeuesTheJob) {
  EXPECT_EQ(run_script(ipm::kPreemptedExitCode), 0) << read_file(dir_ / "stderr.txt");
  EXPECT_EQ(read_file(dir_ / "scontrol_args"), "requeue 4242\n");
  EXPECT_CONTAINS(read_file(dir_ / "stdout.txt"), "requeueing job 4242");
}

// Signals to the batch shell, as Slurm sends them: USR1 (the warning, or `scancel --signal=USR1
// --batch`) reaches srun as USR1 and requeues; TERM (a plain scancel) checkpoints, no requeue.
class SignalRun : public ScriptRun {
 protected:
  int signal_script(const std::string& sig) {
    run_script(0);  // writes job.sbatch and the recorders
    fs::remove(dir_ / "srun_args");
    // A launcher that runs until USR1, then exits as ipm-dist does after its checkpoint.
    write_file(dir_ / "bin" / "srun",
               "#!/bin/bash\n" + kVersionCheck +
                   "trap 'echo USR1 > srun_got; kill $s; exit 75' USR1\n"
               "sleep 20 & s=$!\ntouch srun_ready\nwait\n", true);
    return run_bash("bash ./job.sbatch > job.out 2>&1 & p=$!\n"
                    "for i in $(seq 200); do [ -e srun_ready ] && break; sleep 0.05; done\n"
                    "kill -" + sig + " $p\nwait $p\n",
                    "SLURM_JOB_ID=4242");
  }
};

TEST_F(SignalRun, Usr1IsForwardedAndRequeues) {
  EXPECT_EQ(signal_script("USR1"), 0) << read_file(dir_ / "job.out");
  EXPECT_EQ(read_file(dir_ / "srun_got"), "USR1\n");
  EXPECT_EQ(read_file(dir_ / "scontrol_args"), "requeue 4242\n");
}

TEST_F(SignalRun, TermCheckpointsWithoutRequeue) {
  EXPECT_EQ(signal_script("TERM"), ipm::kPreemptedExitCode) << read_file(dir_ / "job.out");
  EXPECT_EQ(read_file(dir_ / "srun_got"), "USR1\n");
  EXPECT_FALSE(fs::exists(dir_ / "scontrol_args")) << "a scancel'ed job came back";
  EXPECT_CONTAINS(read_file(dir_ / "job.out"), "not requeued");
}

TEST_F(ScriptRun, ABinaryMissingOnANodeStopsBeforeTheLaunch) {
  run_script(0);
  write_file(dir_ / "bin" / "srun",
             "#!/bin/bash\n[ \"${@: -1}\" = --version ] && exit 127\ntouch launched\n", true);
  EXPECT_EQ(run_bash("exec bash ./job.sbatch", "SLURM_JOB_ID=1 SLURM_JOB_NODELIST='n[1-2]'"), 1);
  EXPECT_FALSE(fs::exists(dir_ / "launched"));
  EXPECT_CONTAINS(read_file(dir_ / "stderr.txt"), "does not start on every node of n[1-2]");
}

TEST_F(ScriptRun, OtherFailuresPassThroughWithoutRequeue) {
  EXPECT_EQ(run_script(3), 3);
  EXPECT_FALSE(fs::exists(dir_ / "scontrol_args"));
}

}  // namespace
