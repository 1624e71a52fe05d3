// A job whose loss turns NaN or diverges fails at that step, leaving the last good epoch's
// checkpoint as it was; data with NaN images or labels out of range is refused up front.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "dist/communicator.h"
#include "io/h5_split.h"
#include "io/h5_writer.h"
#include "io/split_check.h"
#include "tests/test_util.h"  // ErrorOf, EXPECT_CONTAINS
#include "trainer/finite_guard.h"
#include "trainer/lagged_loss.h"
#include "trainer/trainer.h"

namespace ipm {
namespace {

std::filesystem::path temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() /
                 ("ipm_guard_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::string bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Three classes told apart by brightness, as float32 images; `poison` sets every training
// image to NaN (a file that was not validated), `label` puts label 3 in row 7.
void write_data(const std::filesystem::path& file, bool poison, bool label = false) {
  const int64_t n = 256;
  torch::manual_seed(5);
  torch::Tensor y = torch::randint(0, 3, {n}, torch::kInt64);
  torch::Tensor x = torch::rand({n, 1, 8, 8}) * 0.3 + (y.to(torch::kFloat32) * 0.35).view({n, 1, 1, 1});
  const torch::Tensor test_x = x.clone(), test_y = y.clone();
  if (poison) x.fill_(std::numeric_limits<float>::quiet_NaN());
  if (label) y[7] = 3;
  H5Writer w(file);
  w.write_split("train", x, y);
  w.write_split("test", test_x, test_y);
  w.set_attributes(3, {"a", "b", "c"}, "test");
  w.commit();
}

TEST(FiniteGuard, PassesFiniteLossesAndForwardsTheStopFlag) {
  SingleProcessCommunicator comm;
  FiniteGuard g(10, "train.lr = 0.001");
  EXPECT_NEAR(g.bound(), 1000 * std::log(10.0), 1e-9);
  g.note_step(2.3, 1, 1, 1);
  g.note_step(0.01, 4, 1, 2);
  EXPECT_FALSE(g.agree(comm, false));
  EXPECT_TRUE(g.agree(comm, true));
  g.note_epoch(0.5, 12.0);
  EXPECT_FALSE(g.agree(comm, false));
}

TEST(FiniteGuard, NamesEpochStepRankAndCauseOfANonFiniteLoss) {
  SingleProcessCommunicator comm;
  FiniteGuard g(10, "train.lr = 0.5");
  g.note_step(1.0, 1, 3, 4);
  g.note_step(std::numeric_limits<double>::quiet_NaN(), 1, 3, 5);
  // The driver notes losses one step late, so the next step may be noted before the group
  // agrees: the first bad step is still the one named.
  g.note_step(std::numeric_limits<double>::quiet_NaN(), 1, 3, 6);
  try {
    g.agree(comm, false);
    FAIL() << "no JobFailed";
  } catch (const JobFailed& e) {
    const std::string m = e.what();
    EXPECT_CONTAINS(m, "non-finite loss");
    EXPECT_CONTAINS(m, "epoch 3, step 5 on rank 0");
    EXPECT_CONTAINS(m, "train.lr = 0.5");
  }
}

// The driver's one-step-late read of a step's loss (the GPU path, a pinned copy and an
// event, needs a GPU: on the CPU the value is held as is).
TEST(LaggedLoss, GivesBackTheValueAndStepPutLastOnce) {
  ipm::LaggedLoss l;
  EXPECT_TRUE(l.empty());
  l.put(torch::tensor(2.5, torch::kFloat64), 7);
  EXPECT_FALSE(l.empty());
  EXPECT_EQ(l.step(), 7);
  EXPECT_EQ(l.take(), 2.5);
  EXPECT_TRUE(l.empty());
  l.put(torch::tensor(std::numeric_limits<float>::infinity()), 8);
  EXPECT_TRUE(std::isinf(l.take()));
}

TEST(FiniteGuard, ADivergedLossOrNonFiniteParametersFail) {
  SingleProcessCommunicator comm;
  FiniteGuard g(10, "train.lr = 10");
  g.note_step(600.0, 4, 1, 2);  // this rank's mean 2400 > 1000 log 10 = 2302.6
  EXPECT_CONTAINS(ErrorOf([&] { g.agree(comm, false); }), "diverged: loss 2400 above 2302");
  FiniteGuard p(10, "train.lr = 10");
  p.note_step(1.0, 1, 2, 9);
  p.note_epoch(1.0, std::numeric_limits<double>::infinity());
  EXPECT_CONTAINS(ErrorOf([&] { p.agree(comm, false); }), "non-finite parameters at epoch 2");
}

JobSpec job(const std::filesystem::path& data, int64_t epochs) {
  JobSpec spec;
  spec.name = "toy";
  spec.data.file = data;
  spec.prior.kind = PriorKind::kNegative;
  spec.train.loss = LossKind::kRQ;
  spec.train.lr = 3e-3;
  spec.train.batch = 64;
  spec.train.epochs = epochs;
  return spec;
}

// One good epoch, then the data turns NaN (a file that bypassed validation): the job throws
// JobFailed at the first step of epoch 2, and epoch 1's checkpoint and metrics stay as they
// were (no NaN is ever written).
TEST(FiniteGuard, TrainJobStopsAtTheBadStepAndKeepsTheLastGoodCheckpoint) {
  const auto dir = temp_dir("job");
  write_data(dir / "good.h5", false);
  write_data(dir / "nan.h5", true);
  SingleProcessCommunicator comm;
  train_job(job(dir / "good.h5", 1), dir / "job", comm);
  const std::string ckpt = bytes(dir / "job" / "checkpoint.pt");
  const std::string metrics = bytes(dir / "job" / "metrics.jsonl");
  try {
    train_job(job(dir / "nan.h5", 2), dir / "job", comm);
    FAIL() << "trained on NaN images";
  } catch (const JobFailed& e) {
    EXPECT_CONTAINS(e.what(), "non-finite loss (NaN or Inf) at epoch 2, step 1 on rank 0");
  }
  EXPECT_EQ(bytes(dir / "job" / "checkpoint.pt"), ckpt);
  EXPECT_EQ(bytes(dir / "job" / "metrics.jsonl"), metrics);
  EXPECT_EQ(metrics.find("null"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(SplitCheck, NamesTheFirstNaNImageRowAndTheFirstBadLabelRow) {
  const auto dir = temp_dir("scan");
  write_data(dir / "good.h5", false);
  write_data(dir / "label.h5", false, /*label=*/true);
  EXPECT_NO_THROW(check_split_values(H5Split(dir / "good.h5", "train", false)));
  EXPECT_CONTAINS(ErrorOf([&] { check_split_values(H5Split(dir / "label.h5", "train", false)); }),
                  "label.h5:/train/y: row 7 has label 3, outside 0..2");
  {
    torch::Tensor x = torch::zeros({10, 4});
    x[6][2] = std::numeric_limits<float>::infinity();
    H5Writer w(dir / "inf.h5");
    w.write_split("train", x, torch::zeros({10}, torch::kInt64));
    w.set_attributes(2, {"a", "b"}, "test");
    w.commit();
  }
  EXPECT_CONTAINS(ErrorOf([&] { check_split_values(H5Split(dir / "inf.h5", "train", false)); }),
                  "inf.h5:/train/x: row 6 holds NaN or Inf");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ipm
