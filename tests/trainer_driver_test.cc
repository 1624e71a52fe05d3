// The one driver (trainer/trainer.h) with each task plugged in (trainer/task.h): task_kind
// picks the task from the data and the prior, and for every task a job stopped mid-epoch
// (the stop_at_step hook) and resumed in the same process ends with the metrics and
// parameters of an uninterrupted run, bit for bit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "dist/communicator.h"
#include "io/h5_writer.h"
#include "tests/test_util.h"  // FreshTempDir
#include "trainer/stop_request.h"
#include "trainer/task.h"
#include "trainer/test_hooks.h"
#include "trainer/trainer.h"

namespace ipm {
namespace {

// 64 images of 8 x 8 whose brightness tells 3 classes apart: per image (3 levels), or per
// pixel (each pixel's own level) with a stored per-pixel prior that favours the true class.
void write_data(const std::filesystem::path& file, bool per_pixel) {
  torch::manual_seed(11);
  const int64_t n = 64;
  const torch::Tensor x = torch::rand({n, 1, 8, 8});
  H5Writer w(file);
  const torch::Tensor x8 = (x * 255).to(torch::kUInt8);
  if (per_pixel) {
    const torch::Tensor y = (x.squeeze(1) * 3).floor().clamp_max(2).to(torch::kInt64);  // [N, 8, 8]
    const torch::Tensor prior =
        (torch::one_hot(y, 3).permute({0, 3, 1, 2}).to(torch::kFloat32) * 0.4 + 0.2).contiguous();
    w.write_split("train", x8, y, prior);
    w.write_split("test", x8, y, prior);
  } else {
    const torch::Tensor y = torch::randint(0, 3, {n}, torch::kInt64);
    const torch::Tensor xi = x * 0.3 + (y.to(torch::kFloat32) * 0.35).view({n, 1, 1, 1});
    w.write_split("train", (xi * 255).to(torch::kUInt8), y);
    w.write_split("test", (xi * 255).to(torch::kUInt8), y);
  }
  w.set_attributes(3, {"a", "b", "c"}, "driver test");
  w.commit();
}

JobSpec spec_for(TaskKind kind, const std::filesystem::path& dir) {
  JobSpec spec;
  spec.name = "job";
  spec.data.file = dir / "data.h5";
  write_data(spec.data.file, kind == TaskKind::kSegmentation);
  spec.train.lr = 3e-3;
  spec.train.batch = 16;  // 4 steps an epoch (2 for pairs: 32 pairs)
  spec.train.epochs = 3;
  spec.train.loss = "qr";
  if (kind == TaskKind::kClassification) {
    spec.prior.kind = "negative";
    spec.prior.k = 1;
  } else if (kind == TaskKind::kRanking) {
    spec.prior.kind = "ranking";
  } else {
    spec.arch = "fcn";
    spec.model_width = 4;
    spec.prior.kind = "stored";
  }
  return spec;
}

std::string read_lines_without_timing(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string out, line;
  while (std::getline(in, line)) {
    for (const char* key : {"samples_per_s", "step_s", "comm_s", "epoch_s"}) {
      const size_t at = line.find(std::string(", \"") + key + "\": ");
      if (at != std::string::npos) line.erase(at, line.find_first_of(",}", at + 2) - at);
    }
    out += line + "\n";
  }
  return out;
}

class DriverTest : public ::testing::TestWithParam<TaskKind> {};

TEST_P(DriverTest, TaskKindAndMidEpochStopThenResumeEqualsAnUninterruptedRun) {
  const TaskKind kind = GetParam();
  const auto dir = FreshTempDir("ipm_driver_test_" + std::to_string(static_cast<int>(kind)));
  const JobSpec spec = spec_for(kind, dir);
  EXPECT_EQ(task_kind(spec), kind);
  SingleProcessCommunicator comm;

  const JobResult whole = train_job(spec, dir / "whole", comm);
  ASSERT_FALSE(whole.preempted);
  ASSERT_EQ(whole.epochs, 3);

  const int64_t steps = kind == TaskKind::kRanking ? 2 : 4;
  TestHooks hooks;
  hooks.stop_at_step = steps + 1;  // step 1 of epoch 2
  const JobResult stopped = train_job(spec, dir / "stopped", comm, hooks);
  EXPECT_TRUE(stopped.preempted);
  EXPECT_EQ(stopped.epochs, 1);
  clear_stop_request();
  const JobResult resumed = train_job(spec, dir / "stopped", comm);
  EXPECT_FALSE(resumed.preempted);
  EXPECT_EQ(resumed.epochs, 3);
  EXPECT_EQ(resumed.final_test_acc, whole.final_test_acc);

  const std::string a = read_lines_without_timing(dir / "whole" / "metrics.jsonl");
  EXPECT_EQ(a, read_lines_without_timing(dir / "stopped" / "metrics.jsonl"));
  EXPECT_NE(a.find("\"epoch\": 3"), std::string::npos) << a;
  EXPECT_EQ(kind == TaskKind::kSegmentation, a.find("test_miou") != std::string::npos);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Tasks, DriverTest,
                         ::testing::Values(TaskKind::kClassification, TaskKind::kRanking,
                                           TaskKind::kSegmentation));

}  // namespace
}  // namespace ipm
