// The one driver (trainer/trainer.h) with each task plugged in (trainer/task.h): task_kind
// picks the task from the data and the prior, and for every task a job stopped mid-epoch
// (the stop_at_step hook) and resumed in the same process ends with the metrics and
// parameters of an uninterrupted run, bit for bit, with the split preloaded and read from
// the file in the chunked order through the reader thread; the reader thread changes
// nothing; a failed read fails the job naming the file and the rows.
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
#include "trainer/train_common.h"
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
  spec.train.loss = ipm::LossKind::kQR;
  if (kind == TaskKind::kClassification) {
    spec.prior.kind = ipm::PriorKind::kNegative;
    spec.prior.k = 1;
  } else if (kind == TaskKind::kRanking) {
    spec.prior.kind = ipm::PriorKind::kRanking;
  } else {
    spec.arch = ipm::Arch::kFcn;
    spec.model_width = 4;
    spec.prior.kind = ipm::PriorKind::kStored;
  }
  return spec;
}

std::string read_lines_without_timing(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string out, line;
  while (std::getline(in, line)) {
    for (const char* key : {"samples_per_s", "step_s", "comm_s", "epoch_s", "read_wait_s", "read_bytes"}) {
      const size_t at = line.find(std::string(", \"") + key + "\": ");
      if (at != std::string::npos) line.erase(at, line.find_first_of(",}", at + 2) - at);
    }
    out += line + "\n";
  }
  return out;
}

// The data paths every task must train the same way on: the split in memory with the
// global order and no reader thread; read from the file in the chunked order (auto), with a
// reader thread two batches ahead; and the same without the thread.
struct DataPath {
  const char* preload;  // as written in a suite
  int64_t prefetch;
  Preload value() const { return *enum_from_name<Preload>(preload); }
};
constexpr DataPath kPreloaded{"always", 0}, kFromFile{"never", 2}, kFromFileNoThread{"never", 0};

class DriverTest : public ::testing::TestWithParam<TaskKind> {};

TEST_P(DriverTest, TaskKindAndMidEpochStopThenResumeEqualsAnUninterruptedRun) {
  const TaskKind kind = GetParam();
  const auto dir = FreshTempDir("ipm_driver_test_" + std::to_string(static_cast<int>(kind)));
  JobSpec spec = spec_for(kind, dir);
  EXPECT_EQ(task_kind(spec), kind);
  SingleProcessCommunicator comm;

  for (const DataPath path : {kPreloaded, kFromFile}) {
    SCOPED_TRACE(std::string("preload ") + path.preload);
    spec.data.preload = path.value();
    spec.data.prefetch = path.prefetch;
    const auto whole_dir = dir / (std::string("whole_") + path.preload);
    const auto stopped_dir = dir / (std::string("stopped_") + path.preload);
    const JobResult whole = train_job(spec, whole_dir, comm);
    ASSERT_FALSE(whole.preempted);
    ASSERT_EQ(whole.epochs, 3);

    const int64_t steps = kind == TaskKind::kRanking ? 2 : 4;
    TestHooks hooks;
    hooks.stop_at_step = steps + 1;  // step 1 of epoch 2
    const JobResult stopped = train_job(spec, stopped_dir, comm, hooks);
    EXPECT_TRUE(stopped.preempted);
    EXPECT_EQ(stopped.epochs, 1);
    clear_stop_request();
    const JobResult resumed = train_job(spec, stopped_dir, comm);
    EXPECT_FALSE(resumed.preempted);
    EXPECT_EQ(resumed.epochs, 3);
    EXPECT_EQ(resumed.final_test_acc, whole.final_test_acc);

    const std::string a = read_lines_without_timing(whole_dir / "metrics.jsonl");
    EXPECT_EQ(a, read_lines_without_timing(stopped_dir / "metrics.jsonl"));
    EXPECT_NE(a.find("\"epoch\": 3"), std::string::npos) << a;
    EXPECT_EQ(kind == TaskKind::kSegmentation, a.find("test_miou") != std::string::npos);
    // Preloaded, a step reads nothing from the file; from the file, the first epoch reads
    // (this split fits HDF5's chunk cache, so later epochs may read nothing).
    std::ifstream in(whole_dir / "metrics.jsonl");
    std::string line;
    for (int epoch = 1; std::getline(in, line); ++epoch) {
      const bool zero = line.find("\"read_bytes\": 0}") != std::string::npos ||
                        line.find("\"read_bytes\": 0,") != std::string::npos;
      if (std::string(path.preload) == "always") {
        EXPECT_TRUE(zero) << line;
      } else if (epoch == 1) {
        EXPECT_FALSE(zero) << line;
      }
    }
  }
  std::filesystem::remove_all(dir);
}

// The reader thread changes when a batch is read, not what: the same job with and without
// it ends with the same metrics, bit for bit.
TEST_P(DriverTest, ReaderThreadTrainsExactlyAsReadingInTheTrainingThread) {
  const TaskKind kind = GetParam();
  const auto dir = FreshTempDir("ipm_driver_reader_" + std::to_string(static_cast<int>(kind)));
  JobSpec spec = spec_for(kind, dir);
  SingleProcessCommunicator comm;
  std::string lines[2];
  int i = 0;
  for (const DataPath path : {kFromFile, kFromFileNoThread}) {
    spec.data.preload = path.value();
    spec.data.prefetch = path.prefetch;
    train_job(spec, dir / std::to_string(i), comm);
    lines[i] = read_lines_without_timing(dir / std::to_string(i) / "metrics.jsonl");
    ++i;
  }
  EXPECT_EQ(lines[0], lines[1]);
  std::filesystem::remove_all(dir);
}

// A read that fails mid-epoch fails the job with the file, the step and the rows named.
TEST_P(DriverTest, AFailedReadFailsTheJobNamingFileAndRows) {
  const TaskKind kind = GetParam();
  const auto dir = FreshTempDir("ipm_driver_fail_" + std::to_string(static_cast<int>(kind)));
  JobSpec spec = spec_for(kind, dir);
  SingleProcessCommunicator comm;
  for (const DataPath path : {kFromFile, kFromFileNoThread}) {
    spec.data.preload = path.value();
    spec.data.prefetch = path.prefetch;
    TestHooks hooks;
    hooks.fail_read_at_step = 1;
    const std::string e = ErrorOf([&] { train_job(spec, dir / "job", comm, hooks); });
    EXPECT_CONTAINS(e, "data.h5:/train/x: read failed");
    EXPECT_CONTAINS(e, kind == TaskKind::kRanking ? "step 1: pairs " : "step 1: rows ");
    std::filesystem::remove_all(dir / "job");
  }
  std::filesystem::remove_all(dir);
}

// data.order = auto: chunked when the training split is read from the file and the units
// are its rows, exact when preloaded or for pairs; the window is cut to keep two windows of
// chunks in HDF5's chunk cache.
TEST(TrainingOrder, AutoPicksByPreloadAndUnitsAndTheWindowFitsTheCache) {
  const auto dir = FreshTempDir("ipm_training_order");
  write_data(dir / "data.h5", false);
  DataSpec d;
  d.file = dir / "data.h5";
  const H5Split from_file(d.file, "train", false), in_memory(d.file, "train", true);
  EXPECT_EQ(training_order(d, from_file, true).kind, OrderKind::kChunked);
  EXPECT_EQ(training_order(d, in_memory, true).kind, OrderKind::kExact);
  EXPECT_EQ(training_order(d, from_file, false).kind, OrderKind::kExact);
  EXPECT_EQ(training_order(d, from_file, true).chunk, 64);  // 64 rows of 64 bytes: one chunk
  EXPECT_EQ(training_order(d, from_file, true).window, 32);
  d.order = DataOrder::kExact;
  EXPECT_EQ(training_order(d, from_file, true).kind, OrderKind::kExact);
  d.order = DataOrder::kChunked;
  EXPECT_EQ(training_order(d, in_memory, true).kind, OrderKind::kChunked);

  // Rows of 1 MiB: one row per chunk, and two windows of 32 fill the 64 MiB cache.
  {
    H5Writer w(dir / "big.h5");
    w.write_split("train", torch::zeros({4, 1, 1024, 1024}, torch::kUInt8),
                  torch::zeros({4}, torch::kInt64));
    w.set_attributes(2, {"a", "b"}, "big rows");
    w.commit();
  }
  const H5Split big(dir / "big.h5", "train", false);
  d.shuffle_window = 100;
  EXPECT_EQ(training_order(d, big, true).chunk, 1);
  EXPECT_EQ(training_order(d, big, true).window, 32);
  d.shuffle_window = 0;
  EXPECT_CONTAINS(ErrorOf([&] { training_order(d, big, true); }), "data.shuffle_window = 0");
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Tasks, DriverTest,
                         ::testing::Values(TaskKind::kClassification, TaskKind::kRanking,
                                           TaskKind::kSegmentation));

}  // namespace
}  // namespace ipm
