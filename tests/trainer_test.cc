// The trainer's pieces: the paper's CNN, the data order, metrics and checkpoints, and a
// small train_job on generated data (Adam and AdamW) that must learn.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/hash_rng.h"
#include "dist/communicator.h"
#include "io/h5_writer.h"
#include "tests/test_util.h"  // ErrorOf, EXPECT_CONTAINS
#include "trainer/batch_slicer.h"
#include "trainer/checkpoint.h"
#include "trainer/metrics_log.h"
#include "trainer/small_cnn.h"
#include "trainer/train_common.h"
#include "trainer/trainer.h"

namespace ipm {
namespace {

std::filesystem::path temp_dir(const std::string& name) {
  return FreshTempDir("ipm_trainer_test_" + name);
}

TEST(SmallCnn, HasThePapersParameterCountAndShapes) {
  SmallCnn net(std::vector<int64_t>{1, 28, 28}, 10);
  EXPECT_EQ(parameter_count(*net), 33194);  // §4.1: "~33k learnable parameters for MNIST"
  EXPECT_EQ(net->forward(torch::rand({5, 1, 28, 28})).sizes(), (std::vector<int64_t>{5, 10}));
  SmallCnn cifar(std::vector<int64_t>{3, 32, 32}, 10);
  EXPECT_EQ(parameter_count(*cifar), 33194 + 2 * 32 * 9);  // "~34k for CIFAR-10"
  EXPECT_CONTAINS(ErrorOf([] { SmallCnn(std::vector<int64_t>{784}, 10); }), "needs image samples");
}

TEST(SmallCnn, ChannelsLastLayoutGivesTheSameLogits) {
  torch::manual_seed(0);
  SmallCnn net(std::vector<int64_t>{1, 28, 28}, 10);
  const torch::Tensor x = torch::rand({4, 1, 28, 28});
  const torch::Tensor cl = to_model_layout(x);
  // Explicit channels-last strides even for one channel (see to_model_layout).
  EXPECT_EQ(cl.strides(), (std::vector<int64_t>{784, 1, 28, 1}));
  EXPECT_TRUE(torch::allclose(net->forward(x), net->forward(cl), 1e-5, 1e-6));
}

TEST(DataOrder, IsAPermutationDeterminedBySeedAndEpoch) {
  const auto a = shuffled_order(1000, 3, 1);
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 1000u);
  EXPECT_EQ(*std::min_element(a.begin(), a.end()), 0);
  EXPECT_EQ(*std::max_element(a.begin(), a.end()), 999);
  EXPECT_EQ(a, shuffled_order(1000, 3, 1));
  EXPECT_NE(a, shuffled_order(1000, 3, 2));
  EXPECT_NE(a, shuffled_order(1000, 4, 1));
}

TEST(RankSlice, CoversTheBatchOnceWithSizesDifferingByAtMostOne) {
  for (int world = 1; world <= 5; ++world) {
    int64_t next = 0;
    for (int r = 0; r < world; ++r) {
      const RankSlice s = rank_slice(50, r, world);
      EXPECT_EQ(s.begin, next);
      EXPECT_LE(std::abs(s.size() - 50 / world), 1);
      next = s.end;
    }
    EXPECT_EQ(next, 50);
  }
}

TEST(Metrics, JsonHasTheContractFieldsAndTensorRoundTripIsExact) {
  EpochMetrics m;
  m.epoch = 3;
  m.loss = 0.1 + 0.2;
  m.train_acc = 0.75;
  m.test_acc = 1.0 / 3.0;
  m.samples_per_s = 1234.5;
  m.param_norm = 6.8940108637331345;
  const std::string line = to_json_line(m);
  for (const char* key : {"\"epoch\": 3", "\"loss\": 0.30000000000000004", "\"train_acc\": 0.75",
                          "\"test_acc\": 0.3333333333333333", "\"samples_per_s\": 1234.5",
                          "\"param_norm\": 6.8940108637331345"}) {
    EXPECT_CONTAINS(line, key);
  }
  const auto back = metrics_from_tensor(metrics_to_tensor({m, m}));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(to_json_line(back[1]), line);
}

TEST(Checkpoint, RoundTripsModelOptimizerAndHistory) {
  const auto dir = temp_dir("ckpt");
  torch::manual_seed(1);
  SmallCnn a(std::vector<int64_t>{1, 28, 28}, 10);
  torch::optim::Adam opt_a(a->parameters(), torch::optim::AdamOptions(1e-3));
  a->forward(torch::rand({2, 1, 28, 28})).sum().backward();
  opt_a.step();
  TrainState state;
  state.epochs_done = 1;
  state.metrics.resize(1);
  state.metrics[0].epoch = 1;
  state.metrics[0].test_acc = 0.5;
  state.ema = {torch::tensor({0.25, 0.75}, torch::kFloat64), 1234};
  save_checkpoint(dir / "c.pt", *a, opt_a, state);

  torch::manual_seed(2);
  SmallCnn b(std::vector<int64_t>{1, 28, 28}, 10);
  torch::optim::Adam opt_b(b->parameters(), torch::optim::AdamOptions(1e-3));
  const TrainState got = load_checkpoint(dir / "c.pt", *b, opt_b);
  EXPECT_EQ(got.epochs_done, 1);
  EXPECT_EQ(got.metrics[0].test_acc, 0.5);
  ASSERT_TRUE(got.ema.running_mean.defined());
  EXPECT_TRUE(torch::equal(got.ema.running_mean, state.ema.running_mean));
  EXPECT_EQ(got.ema.steps, 1234);  // the ema warm-up does not restart on resume
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(a->parameters()[i], b->parameters()[i]));
  }
  // The optimizer's moments came along: one more identical step keeps them identical.
  const torch::Tensor x = torch::rand({2, 1, 28, 28});
  opt_a.zero_grad();
  opt_b.zero_grad();
  for (auto* m : {&a, &b}) (*m)->forward(x).sum().backward();
  opt_a.step();
  opt_b.step();
  EXPECT_TRUE(torch::equal(a->parameters()[0], b->parameters()[0]));

  std::ofstream(dir / "bad.pt") << "not a checkpoint";
  EXPECT_CONTAINS(ErrorOf([&] { load_checkpoint(dir / "bad.pt", *b, opt_b); }),
                  "bad.pt: cannot resume from this checkpoint");
  std::filesystem::remove_all(dir);
}

// A mid-epoch checkpoint (a preemption stop) carries the step and every rank's partial sums
// exactly; one written before mid-epoch stops existed (no "steps_done") reads as an epoch
// boundary.
TEST(Checkpoint, MidEpochStateRoundTripsAndOldCheckpointsReadAsEpochBoundaries) {
  const auto dir = temp_dir("ckpt_mid");
  SmallCnn a(std::vector<int64_t>{1, 28, 28}, 10);
  torch::optim::Adam opt(a->parameters(), torch::optim::AdamOptions(1e-3));
  TrainState state;
  state.epochs_done = 1;
  state.metrics.resize(1);
  state.steps_done = 7;
  state.partial = torch::tensor({{0.1 + 0.2, 12.0, 9.0, 1.5}, {1.0 / 3.0, 11.0, 10.0, 1.4}},
                                torch::kFloat64);
  save_checkpoint(dir / "mid.pt", *a, opt, state);
  const TrainState got = load_checkpoint(dir / "mid.pt", *a, opt);
  EXPECT_EQ(got.steps_done, 7);
  EXPECT_TRUE(torch::equal(got.partial, state.partial));  // bit for bit

  torch::serialize::OutputArchive old, model, optim;
  a->save(model);
  opt.save(optim);
  old.write("model", model);
  old.write("optimizer", optim);
  old.write("epochs_done", c10::IValue(int64_t{1}));
  old.write("metrics", metrics_to_tensor(state.metrics));
  old.write("has_ema", c10::IValue(false));
  old.save_to((dir / "old.pt").string());
  const TrainState before = load_checkpoint(dir / "old.pt", *a, opt);
  EXPECT_EQ(before.epochs_done, 1);
  EXPECT_EQ(before.steps_done, 0);
  EXPECT_FALSE(before.partial.defined());
  std::filesystem::remove_all(dir);
}

// Two classes told apart by brightness; a third, "never", prior-ruled-out class.
void write_toy_data(const std::filesystem::path& file, int64_t n) {
  torch::manual_seed(5);
  const torch::Tensor y = torch::randint(0, 3, {n}, torch::kInt64);
  torch::Tensor x = torch::rand({n, 1, 8, 8}) * 0.3 + (y.to(torch::kFloat32) * 0.35).view({n, 1, 1, 1});
  H5Writer w(file);
  w.write_split("train", (x * 255).to(torch::kUInt8), y);
  w.write_split("test", (x * 255).to(torch::kUInt8), y);
  w.set_attributes(3, {"a", "b", "c"}, "test");
  w.commit();
}

class TrainJobTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainJobTest, LearnsFromNegativeLabelsAndWritesTheContractFiles) {
  const auto dir = temp_dir("job_" + GetParam());
  write_toy_data(dir / "toy.h5", 512);
  JobSpec spec;
  spec.name = "toy";
  spec.data.file = dir / "toy.h5";
  spec.prior.kind = ipm::PriorKind::kNegative;
  spec.prior.k = 1;
  spec.train.loss = LossKind::kRQ;
  spec.train.optimizer = *ipm::enum_from_name<ipm::Optimizer>(GetParam());
  spec.train.weight_decay = GetParam() == "adamw" ? 1e-2 : 0.0;
  spec.train.lr = 3e-3;
  spec.train.batch = 64;
  spec.train.epochs = 8;
  SingleProcessCommunicator comm;
  const JobResult r = train_job(spec, dir / "job", comm);
  EXPECT_EQ(r.epochs, 8);
  EXPECT_GE(r.final_test_acc, 0.9) << "three brightness levels, one wrong label ruled out each";
  EXPECT_GE(r.peak_test_acc, r.final_test_acc);
  EXPECT_TRUE(std::filesystem::exists(dir / "job" / "checkpoint.pt"));
  std::ifstream metrics(dir / "job" / "metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(metrics, l);) ++lines;
  EXPECT_EQ(lines, 8);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, TrainJobTest, ::testing::Values("adam", "adamw"));

// The value of "field" in line `line` (1-based) of a metrics.jsonl, as printed.
std::string metrics_field(const std::filesystem::path& file, int line, const std::string& field) {
  std::ifstream in(file);
  std::string l;
  for (int i = 0; i < line; ++i) EXPECT_TRUE(static_cast<bool>(std::getline(in, l))) << file;
  const size_t at = l.find("\"" + field + "\": ");
  EXPECT_NE(at, std::string::npos) << field << " in " << l;
  const size_t begin = at + field.size() + 4;
  return l.substr(begin, l.find_first_of(",}", begin) - begin);
}

TEST(Pretrain, EpochLossSwitchesAfterThePretrainingEpochs) {
  TrainSpec t;
  t.loss = LossKind::kRQ;
  t.epochs = 5;
  EXPECT_EQ(epoch_loss(t, 1), LossKind::kRQ);  // pretrain_epochs = 0: train.loss throughout
  t.pretrain_epochs = 2;
  t.pretrain_loss = LossKind::kHardCE;
  EXPECT_EQ(epoch_loss(t, 1), LossKind::kHardCE);
  EXPECT_EQ(epoch_loss(t, 2), LossKind::kHardCE);
  EXPECT_EQ(epoch_loss(t, 3), LossKind::kRQ);
  EXPECT_NO_THROW(check_pretrain(t));
  t.pretrain_epochs = 5;
  EXPECT_CONTAINS(ErrorOf([&] { check_pretrain(t); }), "train.pretrain_epochs = 5 must be smaller");
  t.pretrain_epochs = 1;
  t.loss = LossKind::kHardCE;  // the same loss throughout: allowed, so sweeps over losses may share it
  EXPECT_NO_THROW(check_pretrain(t));
}

// A job pretrained with CE for one epoch is, after that epoch, exactly the CE job (same loss
// and parameters to the last printed digit), and then trains differently (RQ).
TEST(Pretrain, FirstEpochsAreTheCeJobThenTheLossChanges) {
  const auto dir = temp_dir("pretrain");
  write_toy_data(dir / "toy.h5", 256);
  auto run = [&](const std::string& name, const std::string& loss, int64_t pretrain) {
    JobSpec spec;
    spec.name = name;
    spec.data.file = dir / "toy.h5";
    spec.prior.kind = ipm::PriorKind::kNegative;
    spec.train.loss = ipm::parse_loss(loss);
    spec.train.pretrain_epochs = pretrain;
    spec.train.lr = 3e-3;
    spec.train.batch = 64;
    spec.train.epochs = 2;
    SingleProcessCommunicator comm;
    train_job(spec, dir / name, comm);
    return dir / name / "metrics.jsonl";
  };
  const auto ce = run("ce", "ce", 0), pre = run("pre", "rq", 1);
  EXPECT_EQ(metrics_field(pre, 1, "param_norm"), metrics_field(ce, 1, "param_norm"));
  EXPECT_EQ(metrics_field(pre, 1, "loss"), metrics_field(ce, 1, "loss"));
  EXPECT_NE(metrics_field(pre, 2, "param_norm"), metrics_field(ce, 2, "param_norm"));
  EXPECT_NE(metrics_field(pre, 2, "loss"), metrics_field(ce, 2, "loss"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ipm
