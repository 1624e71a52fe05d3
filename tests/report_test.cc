// ipm-dist report: grouping over seeds, mean and sample std, the contract's CSV columns, and
// jobs that have not finished.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jobs/progress.h"
#include "jobs/report.h"
#include "jobs/suite.h"
#include "tests/test_util.h"  // ErrorOf, EXPECT_CONTAINS

namespace ipm {
namespace {

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ipm_report_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "suite.toml") << "name = \"s\"\noutput = \"" << dir_.string()
                                       << "\"\n[data]\nfile = \"x.h5\"\n[sweep]\n"
                                          "\"train.loss\" = [\"ce\", \"rq\"]\n"
                                          "\"train.seed\" = [0, 1, 2]\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A finished job whose test accuracy goes through `accs` epoch by epoch.
  void job(const std::string& name, const std::vector<double>& accs, bool done = true) {
    const auto d = dir_ / "jobs" / name;
    std::filesystem::create_directories(d);
    std::ofstream m(d / "metrics.jsonl");
    for (size_t e = 0; e < accs.size(); ++e) {
      m << "{\"epoch\": " << e + 1 << ", \"loss\": 0.1, \"train_acc\": 0.5, \"test_acc\": "
        << accs[e] << ", \"samples_per_s\": 100}\n";
    }
    if (done) std::ofstream(d / "DONE") << "{}\n";
  }

  static std::string read(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
};

TEST_F(ReportTest, MeanAndSampleStdOverSeedsPerSweepPoint) {
  job("loss=ce_seed=0", {0.5, 0.7, 0.6});
  job("loss=ce_seed=1", {0.8, 0.4});
  job("loss=ce_seed=2", {0.2, 0.5});
  job("loss=rq_seed=0", {0.9});
  job("loss=rq_seed=1", {0.7, 0.8}, /*done=*/false);  // still training: not counted
  const auto rows = summarize(dir_);
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[0].point.size(), 1u);  // the seed is not a column
  EXPECT_EQ(rows[0].point[0].first, "train.loss");
  EXPECT_EQ(rows[0].point[0].second, "ce");
  EXPECT_EQ(rows[0].n, 3);
  // finals 0.6, 0.4, 0.5: mean 0.5, sample std 0.1; peaks 0.7, 0.8, 0.5: mean 2/3.
  EXPECT_NEAR(rows[0].final_mean, 0.5, 1e-12);
  EXPECT_NEAR(rows[0].final_std, 0.1, 1e-12);
  EXPECT_NEAR(rows[0].peak_mean, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(rows[0].peak_std, std::sqrt((0.0011111111111111 + 0.0177777777777778 + 0.0277777777777778) / 2), 1e-9);
  EXPECT_EQ(rows[1].n, 1);
  EXPECT_EQ(rows[1].missing, 2);
  EXPECT_EQ(rows[1].final_std, 0.0);
  EXPECT_NEAR(rows[1].final_mean, 0.9, 1e-12);
}

TEST_F(ReportTest, WritesTheContractColumnsAndAMarkdownTable) {
  job("loss=ce_seed=0", {0.5});
  const std::string md = write_report(dir_);
  const std::string csv = read(dir_ / "summary.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "train.loss,n,final_test_acc_mean,final_test_acc_std,peak_test_acc_mean,"
            "peak_test_acc_std");
  // n = 1: no standard deviation (empty cell, "–"), not a spread of 0.
  EXPECT_CONTAINS(csv, "\nce,1,0.5,,0.5,\n");
  EXPECT_CONTAINS(csv, "\nrq,0,,,,\n");
  EXPECT_CONTAINS(md, "| ce | 1* | 50.00 ± – | 50.00 ± – |");
  EXPECT_EQ(read(dir_ / "summary.md"), md);
}

TEST_F(ReportTest, RefusesWhatIsNotARunDirectoryOrABrokenMetricsFile) {
  EXPECT_CONTAINS(ErrorOf([&] { summarize(dir_ / "nope"); }), "suite.toml: no such file");
  job("loss=ce_seed=0", {0.5});
  std::ofstream(dir_ / "jobs" / "loss=ce_seed=0" / "metrics.jsonl") << "{\"epoch\": 1}\n";
  EXPECT_CONTAINS(ErrorOf([&] { summarize(dir_); }), "no \"test_acc\"");
}

TEST_F(ReportTest, ProgressCountsDoneRunningLeftAndEstimatesTheRest) {
  job("loss=ce_seed=0", {0.5});
  job("loss=ce_seed=1", {0.5});
  std::filesystem::create_directories(dir_ / "jobs" / "loss=rq_seed=0");
  std::ofstream(dir_ / "jobs" / "loss=rq_seed=0" / "config.toml") << "\n";  // started
  const Suite suite = load_suite(dir_ / "suite.toml");
  const SuiteProgress p = read_progress(suite);
  EXPECT_EQ(p.done, 2);
  EXPECT_EQ(p.running, 1);
  EXPECT_EQ(p.left, 3);
  // 2 jobs finished in 100 s: 3 left + half of 1 running = 3.5 jobs = 175 s.
  EXPECT_EQ(progress_line(suite, p, 0, 100.0), "[s] 2 done, 1 running, 3 left; ETA 2m55s");
  EXPECT_EQ(progress_line(suite, p, 2, 100.0), "[s] 2 done, 1 running, 3 left");  // none yet
}

}  // namespace
}  // namespace ipm
