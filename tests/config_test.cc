// Tests of jobs/suite.h and jobs/config_schema.h: suite files (TOML) -> validated JobSpecs.
//   * a minimal file loads with JobSpec's defaults; relative data.file / output resolve against
//     the suite file's directory; output defaults to runs/<name> beside the file;
//   * every contract key (and the extra job keys) is accepted and lands in the spec;
//   * errors name the file, the line of the offending key and the nearest valid key: unknown
//     keys/tables ([train], top level, [sweep], [slurm]), wrong types, ranges, enum values,
//     empty/non-list sweeps, malformed TOML, missing data.file, a missing suite file;
//   * sweeps: the Cartesian product, swept values in every job, unique directory-safe names,
//     every expanded job validated (not only the first);
//   * prior.seed follows train.seed (swept too) unless prior.seed is set;
//   * spec_to_toml round trip, field by field, floats exactly;
//   * resolved_toml parses, has absolute output and data paths, and reloads to the same jobs.
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "common/error.h"
#include "jobs/config_schema.h"
#include "losses/implicit_losses.h"
#include "losses/pair_losses.h"
#include "jobs/suite.h"
#include "trainer/job_spec.h"

namespace {

namespace fs = std::filesystem;
using ipm::JobSpec;
using ipm::Suite;

// ---------------------------------------------------------------------------------------------
// Helpers

// A fresh directory per test, removed afterwards.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ipm_config_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << "mkdtemp failed for " << tmpl;
    dir_ = fs::path(tmpl);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes `text` to dir_/rel (creating parent directories) and returns the absolute path.
  fs::path Write(const std::string& rel, const std::string& text) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << text;
    f.close();
    EXPECT_TRUE(f) << "could not write " << p;
    return p;
  }

  fs::path dir_;
};

// The path as load_suite reports it (absolute, normalized).
std::string Shown(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

// 1-based line of the first line of `text` that contains `needle` (0 if none).
int LineOf(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(needle) != std::string::npos) return n;
  }
  return 0;
}

// load_suite(file) must throw ipm::Error; returns its message ("" and a failure otherwise).
std::string LoadError(const fs::path& file) {
  try {
    const Suite s = ipm::load_suite(file);
    ADD_FAILURE() << "load_suite(" << file << ") succeeded with " << s.jobs.size()
                  << " job(s); an ipm::Error was expected";
  } catch (const ipm::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "load_suite(" << file << ") threw a non-ipm::Error: " << e.what();
  }
  return "";
}

// Message contains "<file>:<line>" with no further digit after the line number.
::testing::AssertionResult HasFileLine(const std::string& msg, const fs::path& file, int line) {
  if (line <= 0) return ::testing::AssertionFailure() << "test bug: line " << line;
  const std::string want = Shown(file) + ":" + std::to_string(line);
  for (size_t pos = msg.find(want); pos != std::string::npos; pos = msg.find(want, pos + 1)) {
    const size_t end = pos + want.size();
    if (end == msg.size() || !std::isdigit(static_cast<unsigned char>(msg[end]))) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "message does not contain '" << want << "': " << msg;
}

::testing::AssertionResult Contains(const std::string& msg, const std::string& part) {
  if (msg.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "message does not contain '" << part << "': " << msg;
}

// Every key of the table, exactly (floats by their shortest exact text, so == on doubles).
// Derived from the table: a key added there is compared here without a line of test.
void ExpectSameSpec(const JobSpec& a, const JobSpec& b, const std::string& ctx) {
  SCOPED_TRACE(ctx);
  EXPECT_EQ(a.name, b.name);
  for (const auto& k : ipm::config_keys()) {
    EXPECT_EQ(ipm::key_value_text(k, k.get(a)), ipm::key_value_text(k, k.get(b))) << k.dotted;
  }
}

// A job directory name must stay one level below OUTPUT/jobs/.
::testing::AssertionResult DirectorySafe(const std::string& name) {
  if (name.empty() || name == "." || name == "..") {
    return ::testing::AssertionFailure() << "job name '" << name << "' is not a directory name";
  }
  for (const char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == '_' || c == '=';
    if (!ok) {
      return ::testing::AssertionFailure() << "job name '" << name << "' has character '" << c
                                           << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

// A suite file with every job key set to a non-default value.
const char* kFullSuite =
    "name = \"full\"\n"
    "output = \"out/full\"\n"
    "[data]\n"
    "file = \"data/fm.h5\"\n"
    "train = \"tr\"\n"
    "test = \"te\"\n"
    "preload = \"never\"\n"
    "[model]\n"
    "arch = \"small_cnn\"\n"
    "[prior]\n"
    "kind = \"partial\"\n"
    "k = 3\n"
    "prob = 0.3\n"
    "smoothing = 0.01\n"
    "seed = 11\n"
    "[train]\n"
    "loss = \"nll\"\n"
    "pretrain_loss = \"hard_ce\"\n"
    "pretrain_epochs = 2\n"
    "optimizer = \"adamw\"\n"
    "lr = 0.001\n"
    "weight_decay = 1e-5\n"
    "batch = 128\n"
    "epochs = 7\n"
    "normalizer = \"ema\"\n"
    "ema_decay = 0.95\n"
    "ema_samples = 2.5\n"
    "ema_warmup = 30\n"
    "seed = 42\n"
    "train_eval = \"running\"\n"
    "train_subset = 1000\n"
    "precision = \"float64\"\n"
    "[run]\n"
    "ranks_per_job = 2\n"
    "threads_per_rank = 4\n"
    "backend = \"mpi\"\n"
    "[slurm]\n"
    "partition = \"gpu\"\n"
    "account = \"acc\"\n"
    "qos = \"normal\"\n"
    "nodes = 2\n"
    "ntasks_per_node = 4\n"
    "cpus_per_task = 8\n"
    "gpus_per_node = 4\n"
    "time = \"12:00:00\"\n"
    "mem = \"64G\"\n"
    "constraint = \"a100\"\n"
    "job_name = \"ipm\"\n"
    "output = \"slurm-%j.out\"\n";

// ---------------------------------------------------------------------------------------------
// Loading: defaults, paths, every key

TEST_F(ConfigTest, MinimalFileLoadsWithJobSpecDefaults) {
  const fs::path file = Write("sub/suite.toml", "name = \"mini\"\n[data]\nfile = \"data/x.h5\"\n");
  const Suite s = ipm::load_suite(file);
  EXPECT_EQ(s.name, "mini");
  EXPECT_EQ(s.file, file);
  EXPECT_TRUE(s.file.is_absolute());
  EXPECT_EQ(s.output, dir_ / "sub" / "runs" / "mini");
  EXPECT_TRUE(s.sweep_keys.empty());
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_TRUE(s.jobs[0].swept.empty());

  JobSpec want;  // JobSpec's defaults, plus what the file sets
  want.name = "mini";
  want.data.file = dir_ / "sub" / "data" / "x.h5";
  ExpectSameSpec(s.jobs[0].spec, want, "minimal");
  EXPECT_TRUE(s.jobs[0].spec.data.file.is_absolute());
}

TEST_F(ConfigTest, NameDefaultsToFileStem) {
  const fs::path file = Write("my-suite.toml", "[data]\nfile = \"x.h5\"\n");
  const Suite s = ipm::load_suite(file);
  EXPECT_EQ(s.name, "my-suite");
  EXPECT_EQ(s.output, dir_ / "runs" / "my-suite");
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.name, "my-suite");
}

TEST_F(ConfigTest, RelativePathsResolveAgainstSuiteDirNotCwd) {
  const fs::path file =
      Write("a/b/s.toml", "name = \"n\"\noutput = \"../out/x\"\n[data]\nfile = \"../d/f.h5\"\n");
  const Suite s = ipm::load_suite(file);
  EXPECT_EQ(s.output, dir_ / "a" / "out" / "x");
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.data.file, dir_ / "a" / "d" / "f.h5");
}

TEST_F(ConfigTest, AbsolutePathsAreKept) {
  const fs::path out = dir_ / "elsewhere" / "out";
  const fs::path data = dir_ / "datasets" / "f.h5";
  const fs::path file = Write("s.toml", "name = \"n\"\noutput = \"" + out.string() +
                                            "\"\n[data]\nfile = \"" + data.string() + "\"\n");
  const Suite s = ipm::load_suite(file);
  EXPECT_EQ(s.output, out);
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.data.file, data);
}

TEST_F(ConfigTest, EveryContractKeyIsAcceptedAndLandsInTheSpec) {
  const fs::path file = Write("full.toml", kFullSuite);
  const Suite s = ipm::load_suite(file);
  EXPECT_EQ(s.name, "full");
  EXPECT_EQ(s.output, dir_ / "out" / "full");
  ASSERT_EQ(s.jobs.size(), 1u);
  const JobSpec& j = s.jobs[0].spec;
  EXPECT_EQ(j.name, "full");
  EXPECT_EQ(j.data.file, dir_ / "data" / "fm.h5");
  EXPECT_EQ(j.data.train, "tr");
  EXPECT_EQ(j.data.test, "te");
  EXPECT_EQ(j.data.preload, ipm::Preload::kNever);
  EXPECT_EQ(j.arch, ipm::Arch::kSmallCnn);
  EXPECT_EQ(j.prior.kind, ipm::PriorKind::kPartial);
  EXPECT_EQ(j.prior.k, 3);
  EXPECT_EQ(j.prior.prob, 0.3);
  EXPECT_EQ(j.prior.smoothing, 0.01);
  EXPECT_EQ(j.prior.seed, 11u);
  EXPECT_EQ(j.train.loss, ipm::LossKind::kNLL);
  EXPECT_EQ(j.train.pretrain_loss, ipm::LossKind::kHardCE);
  EXPECT_EQ(j.train.pretrain_epochs, 2);
  EXPECT_EQ(j.train.optimizer, ipm::Optimizer::kAdamW);
  EXPECT_EQ(j.train.lr, 0.001);
  EXPECT_EQ(j.train.weight_decay, 1e-5);
  EXPECT_EQ(j.train.batch, 128);
  EXPECT_EQ(j.train.epochs, 7);
  EXPECT_EQ(j.train.normalizer, ipm::NormalizerKind::kEma);
  EXPECT_EQ(j.train.ema_decay, 0.95);
  EXPECT_EQ(j.train.ema_samples, 2.5);
  EXPECT_EQ(j.train.ema_warmup, 30);
  EXPECT_EQ(j.train.seed, 42u);
  EXPECT_EQ(j.train.train_eval, ipm::TrainEval::kRunning);
  EXPECT_EQ(j.train.train_subset, 1000);
  EXPECT_EQ(j.train.precision, ipm::Precision::kFloat64);
  EXPECT_EQ(j.run.ranks_per_job, 2);
  EXPECT_EQ(j.run.threads_per_rank, 4);
  EXPECT_EQ(j.run.backend, ipm::Backend::kMpi);
}

// Every value of every enum key of the table, read from a file, lands in the spec.
TEST_F(ConfigTest, EveryEnumValueIsAccepted) {
  int n = 0, checked = 0;
  for (const auto& k : ipm::config_keys()) {
    if (k.type != ipm::KeyType::kEnum) continue;
    ASSERT_GE(k.choices.size(), 2u) << k.dotted;
    const std::string table = k.dotted.substr(0, k.dotted.find('.'));
    const std::string leaf = k.dotted.substr(k.dotted.find('.') + 1);
    for (const auto& v : k.choices) {
      std::string text = "[data]\nfile = \"x.h5\"\n";
      if (table != "data") text += "[" + table + "]\n";
      text += leaf + " = \"" + v + "\"\n";
      const fs::path file = Write("enum" + std::to_string(n++) + ".toml", text);
      Suite s;
      ASSERT_NO_THROW(s = ipm::load_suite(file)) << k.dotted << " = " << v;
      ASSERT_EQ(s.jobs.size(), 1u);
      EXPECT_EQ(std::get<std::string>(k.get(s.jobs[0].spec)), v) << k.dotted;
      ++checked;
    }
  }
  // The values the issue found missing from the old hand-written list are among them.
  EXPECT_GE(checked, 30);
  for (const auto& [key, v] : std::vector<std::pair<std::string, std::string>>{
           {"train.loss", "f2"}, {"train.loss", "hard_ce"}, {"train.loss", "free_energy"},
           {"prior.kind", "ranking"}, {"prior.kind", "coarse"}, {"model.arch", "fcn"}}) {
    const ipm::ConfigKey* k = ipm::find_key(key);
    ASSERT_NE(k, nullptr) << key;
    EXPECT_NE(std::find(k->choices.begin(), k->choices.end(), v), k->choices.end()) << key << v;
  }
}

// Enum keys accept exactly the names of their enum's table (common/enum_names.h), so the
// parser, the losses and the docs cannot disagree on a name.
TEST_F(ConfigTest, EnumKeysUseTheEnumNameTables) {
  EXPECT_EQ(ipm::find_key("train.loss")->choices, ipm::enum_name_list<ipm::LossKind>());
  EXPECT_EQ(ipm::find_key("train.pretrain_loss")->choices,
            (std::vector<std::string>{"ce", "hard_ce"}));
  for (const auto& name : ipm::find_key("train.loss")->choices) {
    EXPECT_STREQ(ipm::loss_name(ipm::parse_loss(name)), name.c_str());
  }
  EXPECT_EQ(ipm::find_key("prior.pair_normalizer")->choices,
            ipm::enum_name_list<ipm::PairNormalization>());
  EXPECT_EQ(ipm::find_key("run.backend")->choices, ipm::enum_name_list<ipm::Backend>());
}

TEST_F(ConfigTest, IntegerLrIsAcceptedAsFloat) {
  const fs::path file = Write("s.toml", "[data]\nfile = \"x.h5\"\n[train]\nlr = 1\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.train.lr, 1.0);
}

TEST_F(ConfigTest, RangeBoundsThatAreValidAreAccepted) {
  const fs::path file = Write("s.toml",
                              "[data]\nfile = \"x.h5\"\n"
                              "[train]\nlr = 10\nbatch = 1\nepochs = 1\nseed = 0\n"
                              "weight_decay = 0\ntrain_subset = 0\n"
                              "[prior]\nk = 1\nprob = 1.0\nsmoothing = 0\n"
                              "[run]\nranks_per_job = 4096\nthreads_per_rank = 256\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 1u);
  const JobSpec& j = s.jobs[0].spec;
  EXPECT_EQ(j.train.lr, 10.0);
  EXPECT_EQ(j.train.batch, 1);
  EXPECT_EQ(j.train.epochs, 1);
  EXPECT_EQ(j.prior.prob, 1.0);
  EXPECT_EQ(j.run.ranks_per_job, 4096);
  EXPECT_EQ(j.run.threads_per_rank, 256);
}

// ---------------------------------------------------------------------------------------------
// Errors: unknown keys with the nearest valid key, file and line

TEST_F(ConfigTest, UnknownTrainKeyNamesFileLineAndNearestKey) {
  const std::string text =
      "name = \"x\"\n[data]\nfile = \"x.h5\"\n\n[train]\nloss = \"rq\"\nlrr = 0.1\n";
  const fs::path file = Write("file.toml", text);
  ASSERT_EQ(LineOf(text, "lrr"), 7);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 7));
  EXPECT_TRUE(Contains(msg, "lrr"));
  EXPECT_TRUE(Contains(msg, "train.lr'"));
}

TEST_F(ConfigTest, UnknownTopLevelTableSuggestsNearest) {
  const std::string text = "[data]\nfile = \"x.h5\"\n[trian]\nlr = 0.1\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, LineOf(text, "[trian]")));
  EXPECT_TRUE(Contains(msg, "'trian'"));
  EXPECT_TRUE(Contains(msg, "'train'"));
}

TEST_F(ConfigTest, UnknownTopLevelKeySuggestsNearest) {
  const std::string text = "nmae = \"x\"\n[data]\nfile = \"x.h5\"\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 1));
  EXPECT_TRUE(Contains(msg, "'nmae'"));
  EXPECT_TRUE(Contains(msg, "'name'"));
}

TEST_F(ConfigTest, UnknownKeyInEachJobTableSuggestsNearest) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"data", "fiel", "data.file"},     {"model", "arc", "model.arch"},
      {"prior", "kk", "prior.k"},        {"train", "epoch", "train.epochs"},
      {"run", "thread_per_rank", "run.threads_per_rank"},
      {"run", "ranks_per_jobs", "run.ranks_per_job"},
  };
  for (const auto& [table, key, nearest] : cases) {
    std::string text = "[data]\nfile = \"x.h5\"\n";
    if (table != "data") text += "[" + table + "]\n";
    text += key + " = 1\n";
    const fs::path file = Write(table + ".toml", text);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(HasFileLine(msg, file, LineOf(text, key + " = 1")));
    EXPECT_TRUE(Contains(msg, "'" + nearest + "'"));
  }
}

// A typo in [run] must not be answered with a key of another table ("run.threads" is nearer to
// "data.train" than to "run.threads_per_rank" by plain edit distance).
TEST_F(ConfigTest, UnknownKeySuggestionStaysInItsTable) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"run", "threads"},
                                                                  {"run", "ranks"}};
  for (const auto& [table, key] : cases) {
    const std::string text = "[data]\nfile = \"x.h5\"\n[" + table + "]\n" + key + " = 4\n";
    const fs::path file = Write(table + "_" + key + ".toml", text);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(HasFileLine(msg, file, 4));
    EXPECT_TRUE(Contains(msg, "did you mean '" + table + "."));
  }
}

TEST_F(ConfigTest, UnknownSweepKeySuggestsNearest) {
  const std::string text =
      "[data]\nfile = \"x.h5\"\n[sweep]\n\"prior.k\" = [1, 2]\n\"train.los\" = [\"ce\"]\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, LineOf(text, "train.los")));
  EXPECT_TRUE(Contains(msg, "train.los'"));
  EXPECT_TRUE(Contains(msg, "'train.loss'"));
  EXPECT_TRUE(Contains(msg, "[sweep]"));
}

TEST_F(ConfigTest, SweepOfSuiteOnlyKeyIsRejected) {
  // name/output/slurm are the suite's: a sweep over them has no meaning for a job.
  const std::string text = "[data]\nfile = \"x.h5\"\n[sweep]\n\"output\" = [\"a\", \"b\"]\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, LineOf(text, "\"output\"")));
  EXPECT_TRUE(Contains(msg, "output"));
}

TEST_F(ConfigTest, UnknownSlurmKeySuggestsNearest) {
  const std::string text = "[data]\nfile = \"x.h5\"\n[slurm]\npartiton = \"gpu\"\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 4));
  EXPECT_TRUE(Contains(msg, "partiton"));
  EXPECT_TRUE(Contains(msg, "partition"));
}

// The suggestion must be the slurm key nearest to the typo, for short keys too.
TEST_F(ConfigTest, UnknownSlurmKeySuggestsNearestForShortKeys) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tim", "time"}, {"qso", "qos"}, {"nods", "nodes"}, {"gpus_per_nod", "gpus_per_node"}};
  for (const auto& [typo, want] : cases) {
    const std::string text = "[data]\nfile = \"x.h5\"\n[slurm]\n" + typo + " = \"v\"\n";
    const fs::path file = Write("slurm_" + typo + ".toml", text);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(HasFileLine(msg, file, 4));
    EXPECT_TRUE(Contains(msg, "did you mean '" + want + "'") ||
                Contains(msg, "did you mean 'slurm." + want + "'"))
        << "typo '" << typo << "': " << msg;
  }
}

TEST_F(ConfigTest, SlurmValueOfWrongTypeIsRejected) {
  const std::string text = "[data]\nfile = \"x.h5\"\n[slurm]\nnodes = [1, 2]\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 4));
  EXPECT_TRUE(Contains(msg, "slurm.nodes"));
}

// ---------------------------------------------------------------------------------------------
// Errors: types, ranges, enum values

TEST_F(ConfigTest, WrongTypesAreRejectedWithKeyAndLine) {
  struct Case {
    std::string table, line, key, type_word;
  };
  const std::vector<Case> cases = {
      {"train", "batch = \"256\"", "train.batch", "integer"},
      {"train", "lr = \"fast\"", "train.lr", "number"},
      {"train", "batch = 256.0", "train.batch", "integer"},
      {"train", "epochs = true", "train.epochs", "integer"},
      {"train", "loss = 3", "train.loss", "string"},
      {"prior", "k = 1.5", "prior.k", "integer"},
      {"run", "threads_per_rank = \"2\"", "run.threads_per_rank", "integer"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string text =
        "name = \"t\"\n[data]\nfile = \"x.h5\"\n[" + c.table + "]\n" + c.line + "\n";
    const fs::path file = Write("type" + std::to_string(n++) + ".toml", text);
    const std::string msg = LoadError(file);
    SCOPED_TRACE(c.line);
    EXPECT_TRUE(HasFileLine(msg, file, 5));
    EXPECT_TRUE(Contains(msg, c.key));
    EXPECT_TRUE(Contains(msg, c.type_word));
  }
}

TEST_F(ConfigTest, TopLevelKeysOfWrongKindAreRejected) {
  {
    const std::string text = "name = 5\n[data]\nfile = \"x.h5\"\n";
    const fs::path file = Write("a.toml", text);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(HasFileLine(msg, file, 1));
    EXPECT_TRUE(Contains(msg, "name"));
  }
  {
    const std::string text = "name = \"x\"\ndata = \"x.h5\"\n";
    const fs::path file = Write("b.toml", text);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(HasFileLine(msg, file, 2));
    EXPECT_TRUE(Contains(msg, "[data]"));
  }
  {
    const std::string text = "name = \"\"\n[data]\nfile = \"x.h5\"\n";
    const fs::path file = Write("c.toml", text);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(HasFileLine(msg, file, 1));
  }
}

TEST_F(ConfigTest, OutOfRangeValuesAreRejected) {
  struct Case {
    std::string table, line, key;
  };
  const std::vector<Case> cases = {
      {"train", "lr = 0", "train.lr"},
      {"train", "lr = 0.0", "train.lr"},
      {"train", "lr = -0.001", "train.lr"},
      {"train", "lr = 11", "train.lr"},
      {"train", "lr = inf", "train.lr"},
      {"train", "lr = nan", "train.lr"},
      {"train", "batch = 0", "train.batch"},
      {"train", "batch = -5", "train.batch"},
      {"train", "epochs = -1", "train.epochs"},
      {"train", "epochs = 0", "train.epochs"},
      {"train", "seed = -1", "train.seed"},
      {"train", "weight_decay = -0.1", "train.weight_decay"},
      {"train", "ema_decay = 1.0", "train.ema_decay"},
      {"train", "ema_samples = 0", "train.ema_samples"},
      {"train", "ema_warmup = -1", "train.ema_warmup"},
      {"train", "pretrain_epochs = -1", "train.pretrain_epochs"},
      {"train", "train_subset = -1", "train.train_subset"},
      {"prior", "k = 0", "prior.k"},
      {"prior", "prob = 1.5", "prior.prob"},
      {"prior", "smoothing = -0.5", "prior.smoothing"},
      {"prior", "seed = -3", "prior.seed"},
      {"run", "threads_per_rank = 0", "run.threads_per_rank"},
      {"run", "threads_per_rank = 257", "run.threads_per_rank"},
      {"run", "ranks_per_job = 0", "run.ranks_per_job"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string text =
        "[data]\nfile = \"x.h5\"\n\n[" + c.table + "]\n# comment\n" + c.line + "\n";
    const fs::path file = Write("range" + std::to_string(n++) + ".toml", text);
    const std::string msg = LoadError(file);
    SCOPED_TRACE(c.line);
    EXPECT_TRUE(HasFileLine(msg, file, 6));
    EXPECT_TRUE(Contains(msg, c.key));
  }
}

TEST_F(ConfigTest, UnknownEnumValueNamesValueAndAllowedOnes) {
  struct Case {
    std::string table, line, bad, allowed, nearest;
  };
  const std::vector<Case> cases = {
      {"train", "loss = \"mse\"", "mse", "ce, nll, qr, rq", ""},
      {"train", "optimizer = \"adamm\"", "adamm", "adam, adamw", "adam"},
      {"train", "normalizer = \"globl\"", "globl", "local, global, ema", "global"},
      {"train", "train_eval = \"runing\"", "runing", "full, running", "running"},
      {"train", "precision = \"float16\"", "float16", "float32, float64", ""},
      {"prior", "kind = \"negtive\"", "negtive", "negative, partial, stored", "negative"},
      {"model", "arch = \"resnet\"", "resnet", "small_cnn, fcn", "fcn"},
      {"data", "preload = \"yes\"", "yes", "auto, always, never", ""},
      {"run", "backend = \"ncl\"", "ncl", "auto, mpi, nccl", "nccl"},
      {"train", "pretrain_loss = \"rq\"", "rq", "ce, hard_ce", ""},
  };
  int n = 0;
  for (const auto& c : cases) {
    std::string text = "name = \"e\"\n[data]\nfile = \"x.h5\"\n";
    if (c.table != "data") text += "[" + c.table + "]\n";
    text += c.line + "\n";
    const fs::path file = Write("enum" + std::to_string(n++) + ".toml", text);
    const std::string msg = LoadError(file);
    SCOPED_TRACE(c.line);
    EXPECT_TRUE(HasFileLine(msg, file, LineOf(text, c.line)));
    EXPECT_TRUE(Contains(msg, "\"" + c.bad + "\""));
    EXPECT_TRUE(Contains(msg, c.allowed));
    if (!c.nearest.empty()) {
      EXPECT_TRUE(Contains(msg, "did you mean \"" + c.nearest + "\""));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors: sweeps, syntax, missing things

TEST_F(ConfigTest, EmptySweepListIsRejected) {
  const std::string text = "[data]\nfile = \"x.h5\"\n[sweep]\n\"train.lr\" = []\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 4));
  EXPECT_TRUE(Contains(msg, "train.lr"));
  EXPECT_TRUE(Contains(msg, "empty"));
}

TEST_F(ConfigTest, SweepValueThatIsNotAListIsRejected) {
  const std::string text = "[data]\nfile = \"x.h5\"\n[sweep]\n\"train.lr\" = 0.1\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 4));
  EXPECT_TRUE(Contains(msg, "train.lr"));
  EXPECT_TRUE(Contains(msg, "list"));
}

TEST_F(ConfigTest, MalformedTomlNamesFileAndLine) {
  const std::string text = "name = \"x\"\n[data]\nfile = \"x.h5\"\n[train]\nlr = = 0.1\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 5));
}

TEST_F(ConfigTest, UnterminatedStringNamesFileAndLine) {
  const std::string text = "name = \"x\"\n[data]\nfile = \"x.h5\n[train]\nlr = 0.1\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 3));
}

TEST_F(ConfigTest, DuplicateKeyIsRejected) {
  const std::string text = "[data]\nfile = \"x.h5\"\n[train]\nlr = 0.1\nlr = 0.2\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 5));
}

TEST_F(ConfigTest, MissingDataFileIsRejected) {
  const fs::path file = Write("s.toml", "name = \"x\"\n[train]\nlr = 0.1\n");
  const std::string msg = LoadError(file);
  EXPECT_TRUE(Contains(msg, Shown(file)));
  EXPECT_TRUE(Contains(msg, "data.file"));
}

TEST_F(ConfigTest, EmptyDataFileIsRejected) {
  const fs::path file = Write("s.toml", "name = \"x\"\n[data]\nfile = \"\"\n");
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 3));
  EXPECT_TRUE(Contains(msg, "data.file"));
}

TEST_F(ConfigTest, MissingSuiteFileIsRejected) {
  const fs::path file = dir_ / "nope" / "absent.toml";
  const std::string msg = LoadError(file);
  EXPECT_TRUE(Contains(msg, file.string()));
}

// ---------------------------------------------------------------------------------------------
// Sweeps

TEST_F(ConfigTest, SweepIsTheCartesianProduct) {
  const fs::path file = Write("s.toml",
                              "name = \"sw\"\n[data]\nfile = \"x.h5\"\n"
                              "[train]\nlr = 0.01\nepochs = 5\n"
                              "[sweep]\n\"prior.k\" = [1, 2, 3]\n\"train.loss\" = [\"ce\", \"rq\"]\n");
  const Suite s = ipm::load_suite(file);
  EXPECT_EQ(s.sweep_keys, (std::vector<std::string>{"prior.k", "train.loss"}));
  ASSERT_EQ(s.jobs.size(), 6u);
  std::set<std::pair<int64_t, std::string>> points;
  std::set<std::string> names;
  for (const auto& job : s.jobs) {
    const JobSpec& j = job.spec;
    points.emplace(j.prior.k, ipm::loss_name(j.train.loss));
    names.insert(j.name);
    EXPECT_TRUE(DirectorySafe(j.name));
    // The swept pairs are in sweep order and agree with the spec.
    ASSERT_EQ(job.swept.size(), 2u);
    EXPECT_EQ(job.swept[0].first, "prior.k");
    EXPECT_EQ(job.swept[0].second, std::to_string(j.prior.k));
    EXPECT_EQ(job.swept[1].first, "train.loss");
    EXPECT_EQ(job.swept[1].second, ipm::loss_name(j.train.loss));
    // Keys not swept keep the file's values.
    EXPECT_EQ(j.train.lr, 0.01);
    EXPECT_EQ(j.train.epochs, 5);
    EXPECT_EQ(j.data.file, dir_ / "x.h5");
  }
  const std::set<std::pair<int64_t, std::string>> want = {
      {1, "ce"}, {2, "ce"}, {3, "ce"}, {1, "rq"}, {2, "rq"}, {3, "rq"}};
  EXPECT_EQ(points, want);
  EXPECT_EQ(names.size(), 6u) << "job names are not unique";
}

TEST_F(ConfigTest, ThreeAxisSweepCountsAndCoversEveryPoint) {
  const fs::path file = Write("s.toml",
                              "[data]\nfile = \"x.h5\"\n[sweep]\n"
                              "\"train.seed\" = [0, 1, 2]\n"
                              "\"train.lr\" = [0.001, 1e-4]\n"
                              "\"train.optimizer\" = [\"adam\", \"adamw\"]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 12u);
  std::set<std::tuple<uint64_t, double, std::string>> points;
  std::set<std::string> names;
  for (const auto& job : s.jobs) {
    points.emplace(job.spec.train.seed, job.spec.train.lr,
                   ipm::enum_to_name(job.spec.train.optimizer));
    names.insert(job.spec.name);
    EXPECT_TRUE(DirectorySafe(job.spec.name));
  }
  EXPECT_EQ(points.size(), 12u);
  for (const uint64_t seed : {0u, 1u, 2u}) {
    for (const double lr : {0.001, 1e-4}) {
      for (const std::string opt : {"adam", "adamw"}) {
        EXPECT_TRUE(points.count({seed, lr, opt})) << seed << " " << lr << " " << opt;
      }
    }
  }
  EXPECT_EQ(names.size(), 12u);
}

TEST_F(ConfigTest, SweptFloatsAreExactAndNamesDistinct) {
  const fs::path file = Write(
      "s.toml", "[data]\nfile = \"x.h5\"\n[sweep]\n\"train.lr\" = [0.001, 1e-4, 3e-4, 1]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 4u);
  std::vector<double> lrs;
  std::set<std::string> names;
  for (const auto& job : s.jobs) {
    lrs.push_back(job.spec.train.lr);
    names.insert(job.spec.name);
    EXPECT_TRUE(DirectorySafe(job.spec.name));
  }
  std::sort(lrs.begin(), lrs.end());
  EXPECT_EQ(lrs, (std::vector<double>{1e-4, 3e-4, 0.001, 1.0}));
  EXPECT_EQ(names.size(), 4u);
}

TEST_F(ConfigTest, SweptStringsWithPathCharactersGiveDirectorySafeNames) {
  const fs::path file = Write(
      "s.toml",
      "[data]\nfile = \"x.h5\"\n[sweep]\n\"data.test\" = [\"a/b\", \"../up\", \"c d\", \"e\"]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 4u);
  std::set<std::string> names;
  std::set<std::string> tests;
  for (const auto& job : s.jobs) {
    EXPECT_TRUE(DirectorySafe(job.spec.name));
    names.insert(job.spec.name);
    tests.insert(job.spec.data.test);
  }
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(tests, (std::set<std::string>{"a/b", "../up", "c d", "e"}));
}

// Without a sweep the job is named after the suite; that name must be a directory name too.
TEST_F(ConfigTest, UnsweptJobNameFromSuiteNameIsDirectorySafe) {
  for (const std::string name : {"a/b", "x y", "..", "."}) {
    const fs::path file = Write("n.toml", "name = \"" + name + "\"\n[data]\nfile = \"x.h5\"\n");
    Suite s;
    try {
      s = ipm::load_suite(file);
    } catch (const ipm::Error&) {
      continue;  // rejecting the name is fine too
    }
    ASSERT_EQ(s.jobs.size(), 1u);
    EXPECT_TRUE(DirectorySafe(s.jobs[0].spec.name)) << "name = \"" << name << "\"";
    // The default output stays inside runs/ beside the file.
    const fs::path runs = dir_ / "runs";
    const std::string out = s.output.lexically_normal().string();
    EXPECT_EQ(out.rfind(runs.string() + "/", 0), 0u)
        << "name = \"" << name << "\" puts output at " << out;
  }
}

TEST_F(ConfigTest, BadValueInsideSweepListIsRejectedNamingIt) {
  const std::string text =
      "[data]\nfile = \"x.h5\"\n[sweep]\n\"train.loss\" = [\"rq\", \"bogus\"]\n";
  const fs::path file = Write("s.toml", text);
  const std::string msg = LoadError(file);
  EXPECT_TRUE(HasFileLine(msg, file, 4));
  EXPECT_TRUE(Contains(msg, "\"bogus\""));
  EXPECT_TRUE(Contains(msg, "train.loss"));
}

// The bad value is only reached in a late job (a later point of the slowest axis).
TEST_F(ConfigTest, EveryExpandedJobIsValidatedNotOnlyTheFirst) {
  const std::vector<std::string> sweeps = {
      "\"prior.k\" = [1, 2]\n\"train.loss\" = [\"rq\", \"ce\", \"bogus\"]\n",
      "\"train.loss\" = [\"rq\", \"ce\", \"bogus\"]\n\"prior.k\" = [1, 2]\n",
      "\"prior.k\" = [1, 2]\n\"train.batch\" = [64, 0]\n",
      "\"train.batch\" = [64, 0]\n\"prior.k\" = [1, 2]\n",
      "\"train.lr\" = [0.1, \"fast\"]\n",
      "\"train.batch\" = [64, 128.0]\n",
      "\"run.threads_per_rank\" = [1, 2, 300]\n",
  };
  int n = 0;
  for (const auto& sw : sweeps) {
    const std::string text = "[data]\nfile = \"x.h5\"\n[sweep]\n" + sw;
    const fs::path file = Write("late" + std::to_string(n++) + ".toml", text);
    SCOPED_TRACE(sw);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(Contains(msg, Shown(file)));
  }
}

TEST_F(ConfigTest, RepeatedSweepValueIsRejected) {
  const fs::path file =
      Write("s.toml", "[data]\nfile = \"x.h5\"\n[sweep]\n\"train.seed\" = [0, 1, 0]\n");
  const std::string msg = LoadError(file);
  EXPECT_TRUE(Contains(msg, Shown(file)));
}

// ---------------------------------------------------------------------------------------------
// prior.seed follows train.seed

TEST_F(ConfigTest, PriorSeedFollowsTrainSeed) {
  const fs::path file = Write("s.toml", "[data]\nfile = \"x.h5\"\n[train]\nseed = 7\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.train.seed, 7u);
  EXPECT_EQ(s.jobs[0].spec.prior.seed, 7u);
}

TEST_F(ConfigTest, PriorSeedFollowsSweptTrainSeed) {
  const fs::path file = Write("s.toml",
                              "[data]\nfile = \"x.h5\"\n[prior]\nk = 2\n[train]\nseed = 9\n"
                              "[sweep]\n\"train.seed\" = [3, 4, 5]\n\"prior.k\" = [1, 2]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 6u);
  std::set<uint64_t> seeds;
  for (const auto& job : s.jobs) {
    EXPECT_EQ(job.spec.prior.seed, job.spec.train.seed) << job.spec.name;
    seeds.insert(job.spec.train.seed);
  }
  EXPECT_EQ(seeds, (std::set<uint64_t>{3, 4, 5}));
}

TEST_F(ConfigTest, PinnedPriorSeedDoesNotFollowTrainSeed) {
  const fs::path file = Write("s.toml",
                              "[data]\nfile = \"x.h5\"\n[prior]\nseed = 5\n[train]\nseed = 9\n"
                              "[sweep]\n\"train.seed\" = [0, 1, 2]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 3u);
  for (const auto& job : s.jobs) EXPECT_EQ(job.spec.prior.seed, 5u) << job.spec.name;
}

TEST_F(ConfigTest, PinnedPriorSeedZeroDoesNotFollowTrainSeed) {
  const fs::path file =
      Write("s.toml", "[data]\nfile = \"x.h5\"\n[prior]\nseed = 0\n[train]\nseed = 9\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.prior.seed, 0u);
  EXPECT_EQ(s.jobs[0].spec.train.seed, 9u);
}

TEST_F(ConfigTest, SweptPriorSeedIsKept) {
  const fs::path file = Write("s.toml",
                              "[data]\nfile = \"x.h5\"\n[train]\nseed = 9\n"
                              "[sweep]\n\"prior.seed\" = [3, 4]\n\"train.seed\" = [0, 1]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 4u);
  std::set<std::pair<uint64_t, uint64_t>> pairs;
  for (const auto& job : s.jobs) pairs.emplace(job.spec.prior.seed, job.spec.train.seed);
  EXPECT_EQ(pairs, (std::set<std::pair<uint64_t, uint64_t>>{{3, 0}, {3, 1}, {4, 0}, {4, 1}}));
}

// ---------------------------------------------------------------------------------------------
// spec_to_toml round trip

// Writes spec_to_toml(spec) into a fresh directory, loads it, and compares every field.
void ExpectRoundTrip(const fs::path& dir, const JobSpec& spec, const std::string& ctx) {
  SCOPED_TRACE(ctx);
  const std::string text = ipm::spec_to_toml(spec);
  fs::create_directories(dir);
  const fs::path file = dir / "config.toml";
  {
    std::ofstream f(file, std::ios::binary);
    f << text;
  }
  // The text itself is TOML.
  EXPECT_NO_THROW((void)toml::parse(text)) << text;
  Suite back;
  try {
    back = ipm::load_suite(file);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "spec_to_toml output does not load: " << e.what() << "\n" << text;
    return;
  }
  ASSERT_EQ(back.jobs.size(), 1u) << text;
  ExpectSameSpec(back.jobs[0].spec, spec, ctx + "\n" + text);
}

// Every key of the schema is written by spec_to_toml (a key added to the table but not to the
// writer would silently fall back to its default in the job's config.toml).
TEST_F(ConfigTest, SpecToTomlWritesEverySchemaKey) {
  JobSpec spec;
  spec.name = "all";
  spec.data.file = dir_ / "x.h5";
  const toml::table t = toml::parse(ipm::spec_to_toml(spec));
  for (const auto& k : ipm::config_keys()) {
    const std::string dotted = k.dotted;
    const std::string table = dotted.substr(0, dotted.find('.'));
    const std::string leaf = dotted.substr(dotted.find('.') + 1);
    const toml::node* n = t[table][leaf].node();
    ASSERT_NE(n, nullptr) << dotted << " is missing from spec_to_toml";
    switch (k.type) {
      case ipm::KeyType::kString:
      case ipm::KeyType::kPath:
      case ipm::KeyType::kEnum: EXPECT_TRUE(n->is_string()) << dotted; break;
      case ipm::KeyType::kInt: EXPECT_TRUE(n->is_integer()) << dotted; break;
      case ipm::KeyType::kFloat: EXPECT_TRUE(n->is_floating_point()) << dotted; break;
    }
  }
  EXPECT_EQ(t["name"].value<std::string>(), "all");
}

TEST_F(ConfigTest, SpecToTomlRoundTripsDefaults) {
  const fs::path file = Write("s.toml", "name = \"d\"\n[data]\nfile = \"x.h5\"\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.train.lr, 1e-4);
  ExpectRoundTrip(dir_ / "rt", s.jobs[0].spec, "defaults");
}

TEST_F(ConfigTest, SpecToTomlRoundTripsEveryFieldOfAFullFile) {
  const fs::path file = Write("full.toml", kFullSuite);
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 1u);
  EXPECT_EQ(s.jobs[0].spec.train.lr, 0.001);
  ExpectRoundTrip(dir_ / "rt", s.jobs[0].spec, "full");
}

TEST_F(ConfigTest, SpecToTomlRoundTripsEveryJobOfASweep) {
  const fs::path file = Write("s.toml",
                              "name = \"sw\"\n[data]\nfile = \"x.h5\"\n"
                              "[sweep]\n\"train.lr\" = [0.001, 1e-4, 1]\n"
                              "\"train.loss\" = [\"ce\", \"rq\"]\n\"train.seed\" = [0, 1]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 12u);
  int n = 0;
  for (const auto& job : s.jobs) {
    ExpectRoundTrip(dir_ / ("rt" + std::to_string(n++)), job.spec, job.spec.name);
  }
}

// Floats that need all 17 digits, huge/tiny exponents, odd strings in paths and names.
TEST_F(ConfigTest, SpecToTomlRoundTripsAwkwardValues) {
  JobSpec spec;
  spec.name = "k=3_lr=0.001";
  spec.data.file = dir_ / "we\"ird \\ dir" / "fm ü.h5";
  spec.data.train = "train set";
  spec.data.test = "te\tst";
  spec.prior.prob = 0.1 + 0.2;  // 0.30000000000000004
  spec.prior.smoothing = 1.0 / 3.0;
  spec.prior.seed = (uint64_t{1} << 40);
  spec.prior.k = 9;
  spec.train.lr = 1e-300;
  spec.train.weight_decay = 10.0;
  spec.train.ema_decay = 0.999999;
  spec.train.ema_samples = 1e-3;
  spec.train.ema_warmup = int64_t{1} << 40;
  spec.train.seed = (uint64_t{1} << 40) - 1;
  spec.train.batch = int64_t{1} << 40;
  spec.train.epochs = 1;
  spec.train.train_subset = 123456789;
  spec.train.precision = ipm::Precision::kFloat64;
  spec.run.ranks_per_job = 4096;
  spec.run.threads_per_rank = 256;
  ExpectRoundTrip(dir_ / "rt1", spec, "awkward");

  JobSpec small;
  small.name = "small";
  small.data.file = dir_ / "x.h5";
  small.train.lr = 2.2250738585072014e-308 * 1e10;
  small.train.weight_decay = 5e-324 * 1e300;
  small.prior.prob = 1e-17;
  ExpectRoundTrip(dir_ / "rt2", small, "small floats");
}

// ---------------------------------------------------------------------------------------------
// resolved_toml

TEST_F(ConfigTest, ResolvedTomlParsesAndHasAbsolutePaths) {
  const fs::path file = Write("sub/s.toml",
                              "name = \"r\"\noutput = \"out/r\"\n[data]\nfile = \"../d/f.h5\"\n"
                              "[train]\nlr = 0.001\nbatch = 64\n"
                              "[sweep]\n\"prior.k\" = [1, 2]\n"
                              "[slurm]\npartition = \"gpu\"\nnodes = 2\n");
  const Suite s = ipm::load_suite(file);
  toml::table t;
  try {
    t = toml::parse(s.resolved_toml);
  } catch (const toml::parse_error& e) {
    FAIL() << "resolved_toml does not parse: " << e.description() << "\n" << s.resolved_toml;
  }
  const auto output = t["output"].value<std::string>();
  ASSERT_TRUE(output.has_value()) << s.resolved_toml;
  EXPECT_TRUE(fs::path(*output).is_absolute()) << *output;
  EXPECT_EQ(fs::path(*output), s.output);
  EXPECT_EQ(fs::path(*output), dir_ / "sub" / "out" / "r");
  const auto data = t["data"]["file"].value<std::string>();
  ASSERT_TRUE(data.has_value()) << s.resolved_toml;
  EXPECT_TRUE(fs::path(*data).is_absolute()) << *data;
  EXPECT_EQ(fs::path(*data), dir_ / "d" / "f.h5");
  // The rest of the input is kept.
  EXPECT_EQ(t["name"].value<std::string>(), "r");
  EXPECT_EQ(t["train"]["lr"].value<double>(), 0.001);
  EXPECT_EQ(t["train"]["batch"].value<int64_t>(), 64);
  EXPECT_EQ(t["slurm"]["partition"].value<std::string>(), "gpu");
  EXPECT_EQ(t["slurm"]["nodes"].value<int64_t>(), 2);
  ASSERT_TRUE(t["sweep"]["prior.k"].is_array()) << s.resolved_toml;
  EXPECT_EQ(t["sweep"]["prior.k"].as_array()->size(), 2u);
}

// run_suite writes resolved_toml to OUTPUT/suite.toml: loading that copy (in another directory)
// must give the same suite.
TEST_F(ConfigTest, ResolvedTomlReloadsFromTheOutputDirectoryToTheSameJobs) {
  const fs::path file = Write("sub/s.toml",
                              "name = \"r\"\n[data]\nfile = \"d/f.h5\"\n"
                              "[prior]\nkind = \"partial\"\n[train]\nlr = 3e-4\n"
                              "[sweep]\n\"prior.k\" = [1, 2]\n\"train.seed\" = [0, 1]\n");
  const Suite s = ipm::load_suite(file);
  const fs::path copy = Write("elsewhere/deeper/suite.toml", s.resolved_toml);
  Suite again;
  ASSERT_NO_THROW(again = ipm::load_suite(copy)) << s.resolved_toml;
  EXPECT_EQ(again.name, s.name);
  EXPECT_EQ(again.output, s.output);
  EXPECT_EQ(again.sweep_keys, s.sweep_keys);
  ASSERT_EQ(again.jobs.size(), s.jobs.size());
  for (size_t i = 0; i < s.jobs.size(); ++i) {
    ExpectSameSpec(again.jobs[i].spec, s.jobs[i].spec, s.jobs[i].spec.name);
    EXPECT_EQ(again.jobs[i].swept, s.jobs[i].swept);
  }
}

// A sweep over data.file: its relative values are paths too, and must be absolute in the
// resolved input (otherwise OUTPUT/suite.toml points at files relative to OUTPUT).
TEST_F(ConfigTest, ResolvedTomlMakesSweptDataFilesAbsolute) {
  const fs::path file = Write("sub/s.toml",
                              "name = \"r\"\n[data]\nfile = \"a.h5\"\n"
                              "[sweep]\n\"data.file\" = [\"a.h5\", \"d/b.h5\"]\n");
  const Suite s = ipm::load_suite(file);
  ASSERT_EQ(s.jobs.size(), 2u);
  std::set<fs::path> files;
  for (const auto& job : s.jobs) files.insert(job.spec.data.file);
  EXPECT_EQ(files, (std::set<fs::path>{dir_ / "sub" / "a.h5", dir_ / "sub" / "d" / "b.h5"}));

  const toml::table t = toml::parse(s.resolved_toml);
  const toml::array* values = t["sweep"]["data.file"].as_array();
  ASSERT_NE(values, nullptr) << s.resolved_toml;
  for (const auto& v : *values) {
    const auto p = v.value<std::string>();
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(fs::path(*p).is_absolute()) << "sweep data.file value '" << *p
                                            << "' is relative in resolved_toml";
  }
  // And the copy in another directory loads to the same data files.
  const fs::path copy = Write("elsewhere/suite.toml", s.resolved_toml);
  const Suite again = ipm::load_suite(copy);
  ASSERT_EQ(again.jobs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again.jobs[i].spec.data.file, s.jobs[i].spec.data.file);
  }
}

// The data path's keys (docs/data-path.md): parsed into DataSpec, defaults kept, bad values
// refused naming the key and the value.
TEST_F(ConfigTest, DataPathKeysParseAndBadValuesAreRefused) {
  const Suite d = ipm::load_suite(Write("d.toml", "[data]\nfile = \"x.h5\"\n"));
  EXPECT_EQ(d.jobs[0].spec.data.order, ipm::DataOrder::kAuto);
  EXPECT_EQ(d.jobs[0].spec.data.shuffle_window, 32);
  EXPECT_EQ(d.jobs[0].spec.data.prefetch, 2);
  const Suite s = ipm::load_suite(Write(
      "s.toml",
      "[data]\nfile = \"x.h5\"\norder = \"chunked\"\nshuffle_window = 4\nprefetch = 0\n"));
  EXPECT_EQ(s.jobs[0].spec.data.order, ipm::DataOrder::kChunked);
  EXPECT_EQ(s.jobs[0].spec.data.shuffle_window, 4);
  EXPECT_EQ(s.jobs[0].spec.data.prefetch, 0);
  const std::string order =
      LoadError(Write("o.toml", "[data]\nfile = \"x.h5\"\norder = \"random\"\n"));
  EXPECT_TRUE(Contains(order, "\"random\""));
  EXPECT_TRUE(Contains(order, "exact, chunked, auto"));
  EXPECT_TRUE(Contains(LoadError(Write("w.toml", "[data]\nfile = \"x.h5\"\nshuffle_window = 0\n")),
                       "shuffle_window"));
  EXPECT_TRUE(Contains(LoadError(Write("p.toml", "[data]\nfile = \"x.h5\"\nprefetch = -1\n")),
                       "prefetch"));
}

// ---------------------------------------------------------------------------------------------
// Derived from the key table: every key and value round-trips, the writer's format is stable

// Values to try for one key, from its declared type and range: every enum name, both ends and
// the middle of a range (an excluded end is replaced by a value just inside it), an awkward
// string.
std::vector<ipm::KeyValue> ProbeValues(const ipm::ConfigKey& k, const fs::path& dir) {
  std::vector<ipm::KeyValue> out;
  switch (k.type) {
    case ipm::KeyType::kEnum:
      for (const auto& c : k.choices) out.emplace_back(c);
      break;
    case ipm::KeyType::kString: out.emplace_back(std::string("odd \"split\" \\ name")); break;
    case ipm::KeyType::kPath: out.emplace_back((dir / "d ir" / "f.h5").string()); break;
    case ipm::KeyType::kInt:
      out.emplace_back(static_cast<int64_t>(k.lo));
      out.emplace_back(static_cast<int64_t>(k.hi));
      out.emplace_back(static_cast<int64_t>((k.lo + k.hi) / 2) + 1);
      break;
    case ipm::KeyType::kFloat:
      out.emplace_back(k.lo_open ? k.lo + (k.hi - k.lo) * 1e-7 : k.lo);
      out.emplace_back(k.hi_open ? k.hi - (k.hi - k.lo) * 1e-7 : k.hi);
      out.emplace_back(k.lo + (k.hi - k.lo) / 3.0);
      break;
  }
  return out;
}

TEST_F(ConfigTest, SpecToTomlRoundTripsEveryValueOfEveryKey) {
  int n = 0;
  for (const auto& k : ipm::config_keys()) {
    for (const auto& v : ProbeValues(k, dir_)) {
      JobSpec spec;
      spec.name = "probe";
      spec.data.file = dir_ / "x.h5";
      k.set(spec, v);
      const std::string shown = ipm::key_value_text(k, v);
      EXPECT_EQ(ipm::key_value_text(k, k.get(spec)), shown) << k.dotted << " does not hold it";
      ExpectRoundTrip(dir_ / ("probe" + std::to_string(n++)), spec, k.dotted + " = " + shown);
    }
  }
  EXPECT_GT(n, 3 * static_cast<int>(ipm::config_keys().size()) / 2);
}

// Every probe value is also accepted from a suite file (the table's range and the parser's
// check are the same thing), and one step outside a range is refused.
TEST_F(ConfigTest, RangeEndsOfEveryNumericKeyAreAcceptedAndBeyondRefused) {
  int n = 0;
  for (const auto& k : ipm::config_keys()) {
    if (k.type != ipm::KeyType::kInt && k.type != ipm::KeyType::kFloat) continue;
    const std::string table = k.dotted.substr(0, k.dotted.find('.'));
    const std::string leaf = k.dotted.substr(k.dotted.find('.') + 1);
    // The key is on line 4 either way ([data] may be opened only once).
    const std::string header = table == "data" ? "\n" : "[" + table + "]\n";
    auto file_with = [&](const std::string& value) {
      return Write("range_" + std::to_string(n++) + ".toml",
                   "[data]\nfile = \"x.h5\"\n" + header + leaf + " = " + value + "\n");
    };
    for (const auto& v : ProbeValues(k, dir_)) {
      const std::string text = ipm::key_value_text(k, v);
      Suite s;
      ASSERT_NO_THROW(s = ipm::load_suite(file_with(text))) << k.dotted << " = " << text;
      EXPECT_EQ(ipm::key_value_text(k, k.get(s.jobs[0].spec)), text) << k.dotted;
    }
    const std::string below = k.type == ipm::KeyType::kInt
                                  ? std::to_string(static_cast<int64_t>(k.lo) - 1)
                                  : ipm::key_value_text(k, k.lo_open ? k.lo : k.lo - 1e-3);
    const std::string above = k.type == ipm::KeyType::kInt
                                  ? std::to_string(static_cast<int64_t>(k.hi) + 1)
                                  : ipm::key_value_text(k, k.hi_open ? k.hi : k.hi * 1.001 + 1);
    for (const auto& bad : {below, above}) {
      const fs::path file = file_with(bad);
      const std::string msg = LoadError(file);
      EXPECT_TRUE(HasFileLine(msg, file, 4)) << k.dotted << " = " << bad;
      EXPECT_TRUE(Contains(msg, k.dotted + " = ")) << bad;
      EXPECT_TRUE(Contains(msg, "is outside " + k.allowed)) << bad;
    }
  }
}

// The writer's output for the defaults, byte for byte (tests/data/config_defaults.toml): a
// job's config.toml is read by users' scripts, so its format changes only on purpose.
TEST_F(ConfigTest, SpecToTomlOfTheDefaultsMatchesTheGoldenFile) {
  JobSpec spec;
  spec.name = "golden";
  spec.data.file = "/data/fashion-mnist.h5";
  std::ifstream in(std::string(IPM_TEST_DATA_DIR) + "/config_defaults.toml", std::ios::binary);
  ASSERT_TRUE(in) << "cannot open config_defaults.toml";
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(ipm::spec_to_toml(spec), golden.str());
}

// "Did you mean": the last dotted segment, abbreviations and shared words count, not only
// edit distance (by edit distance alone, train.learning_rate is nearest to train.pretrain_loss).
TEST_F(ConfigTest, UnknownKeySuggestsByLastSegmentAndAbbreviation) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"train", "learning_rate", "train.lr"},
      {"train", "warmup", "train.ema_warmup"},
      {"train", "ema_sample", "train.ema_samples"},
      {"train", "bacth", "train.batch"},
      {"train", "decay", "train.ema_decay"},
      {"prior", "pair_norm", "prior.pair_normalizer"},
      {"run", "threads", "run.threads_per_rank"},
  };
  for (const auto& [table, key, want] : cases) {
    const std::string text = "[data]\nfile = \"x.h5\"\n[" + table + "]\n" + key + " = 1\n";
    const fs::path file = Write("near_" + key + ".toml", text);
    const std::string msg = LoadError(file);
    EXPECT_TRUE(HasFileLine(msg, file, 4));
    EXPECT_TRUE(Contains(msg, "did you mean '" + want + "'")) << key;
  }
  // In [sweep] every key is a candidate: the segment still decides.
  const fs::path file = Write("near_sweep.toml",
                              "[data]\nfile = \"x.h5\"\n[sweep]\n\"train.learning_rate\" = [1]\n");
  EXPECT_TRUE(Contains(LoadError(file), "did you mean 'train.lr'"));
}

// `ipm-dist keys` (docs/keys.md): one row per key of the table, each with its help, allowed
// values and the default of a fresh JobSpec.
TEST_F(ConfigTest, KeysMarkdownHasARowPerKeyWithHelpAndDefault) {
  const std::string md = ipm::keys_markdown();
  const JobSpec defaults;
  for (const auto& k : ipm::config_keys()) {
    SCOPED_TRACE(k.dotted);
    EXPECT_FALSE(k.help.empty());
    EXPECT_FALSE(k.allowed.empty());
    const size_t row = md.find("\n| `" + k.dotted + "` |");
    ASSERT_NE(row, std::string::npos);
    const std::string line = md.substr(row + 1, md.find('\n', row + 1) - row - 1);
    if (k.shown_default.empty()) {
      EXPECT_TRUE(Contains(line, "`" + ipm::key_value_text(k, k.get(defaults)) + "`"));
    }
  }
  EXPECT_TRUE(Contains(md, "| `train.loss` | enum | ce, nll, qr, rq, f2, hard_ce, free_energy |"));
}

}  // namespace
