// The distributed pieces under real MPI: run as `mpirun -np W dist_test` (W = 1..4).
// Every rank runs every test; a failure on any rank fails the run.
//  - the global normalizer's value and gradient equal the single-process computation over
//    the whole global batch (each rank can compute that reference itself);
//  - its gradient matches central finite differences of the global loss sum_r L_r;
//  - GradReducer sums gradients; collectives on channels-last tensors.
#include <mpi.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist/global_normalizer.h"
#include "dist/grad_reducer.h"
#include "dist/mpi_communicator.h"
#include "dist/rank_agreement.h"
#include "losses/implicit_losses.h"
#include "trainer/batch_slicer.h"

namespace ipm {
namespace {

MpiCommunicator& world() {
  static MpiCommunicator comm(MPI_COMM_WORLD);
  return comm;
}

// The global batch, identical on every rank: log_q [M, L] and a prior with zeros.
struct GlobalBatch {
  torch::Tensor log_q, prior;
};

GlobalBatch make_batch(int64_t m, int64_t l, uint64_t seed) {
  torch::manual_seed(seed);
  GlobalBatch b;
  b.log_q = torch::log_softmax(3.0 * torch::randn({m, l}, torch::kFloat64), 1);
  torch::Tensor p = torch::rand({m, l}, torch::kFloat64);
  p.masked_fill_(torch::rand({m, l}, torch::kFloat64) < 0.3, 0.0);
  p.select(1, 0).add_(0.05);  // no all-zero rows
  b.prior = p / p.sum(1, true);
  return b;
}

// This rank's loss: sum over its rows / M (the trainer's scaling).
torch::Tensor local_loss(LossKind kind, const torch::Tensor& log_q_slice,
                         const torch::Tensor& prior_slice, int64_t m) {
  GlobalNormalizer norm(world());
  return per_sample_loss(kind, log_q_slice, prior_slice, norm).sum() / static_cast<double>(m);
}

class GlobalNormalizerTest : public ::testing::TestWithParam<LossKind> {};

TEST_P(GlobalNormalizerTest, ValueAndGradientEqualTheWholeBatchComputation) {
  const int64_t m = 13, l = 6;  // 13 rows: uneven slices on 2..4 ranks
  const GlobalBatch b = make_batch(m, l, 7);
  const RankSlice s = rank_slice(m, world().rank(), world().size());

  torch::Tensor mine = b.log_q.narrow(0, s.begin, s.size()).clone().requires_grad_(true);
  torch::Tensor loss = local_loss(GetParam(), mine, b.prior.narrow(0, s.begin, s.size()), m);
  loss.backward();
  torch::Tensor total = loss.detach().clone().reshape({1});
  world().allreduce_sum(total);

  torch::Tensor all = b.log_q.clone().requires_grad_(true);
  LocalNormalizer local;
  torch::Tensor ref = per_sample_loss(GetParam(), all, b.prior, local).mean();
  ref.backward();
  EXPECT_NEAR(total.item<double>(), ref.item<double>(), 1e-12);
  const torch::Tensor ref_grad = all.grad().narrow(0, s.begin, s.size());
  EXPECT_TRUE(torch::allclose(mine.grad(), ref_grad, 1e-10, 1e-13))
      << "rank " << world().rank() << " max diff " << (mine.grad() - ref_grad).abs().max();
}

TEST_P(GlobalNormalizerTest, GradientMatchesFiniteDifferencesOfTheGlobalLoss) {
  const int64_t m = 11, l = 5;
  const GlobalBatch b = make_batch(m, l, 11);
  const RankSlice s = rank_slice(m, world().rank(), world().size());
  const torch::Tensor prior = b.prior.narrow(0, s.begin, s.size());
  auto global_loss = [&](const torch::Tensor& slice) {
    torch::NoGradGuard g;
    torch::Tensor v = local_loss(GetParam(), slice, prior, m).reshape({1}).clone();
    world().allreduce_sum(v);
    return v.item<double>();
  };
  torch::Tensor mine = b.log_q.narrow(0, s.begin, s.size()).clone().requires_grad_(true);
  local_loss(GetParam(), mine, prior, m).backward();
  const torch::Tensor grad = mine.grad();

  // Perturb each global entry in turn: the rank that owns it moves, all ranks evaluate.
  const double eps = 1e-6;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < l; ++j) {
      const bool owner = i >= s.begin && i < s.end;
      double fd = 0.0;
      for (const double sign : {1.0, -1.0}) {
        torch::Tensor x = mine.detach().clone();
        if (owner) x[i - s.begin][j] += sign * eps;
        fd += sign * global_loss(x);
      }
      fd /= 2 * eps;
      if (owner) {
        EXPECT_NEAR(grad[i - s.begin][j].item<double>(), fd, 1e-7 + 1e-5 * std::abs(fd))
            << "entry (" << i << ", " << j << ") on rank " << world().rank();
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Losses, GlobalNormalizerTest,
                         ::testing::Values(LossKind::kQR, LossKind::kRQ),
                         [](const auto& info) { return std::string(loss_name(info.param)); });

TEST(GlobalEmaNormalizer, FirstBatchEqualsGlobalMeanOfQ) {
  const int64_t m = 10, l = 4;
  const GlobalBatch b = make_batch(m, l, 3);
  const RankSlice s = rank_slice(m, world().rank(), world().size());
  GlobalEmaNormalizer ema(EmaOptions{}, world());
  const torch::Tensor log_z = ema.log_z(b.log_q.narrow(0, s.begin, s.size()));
  const torch::Tensor expect = b.log_q.exp().mean(0).log();
  EXPECT_TRUE(torch::allclose(log_z, expect, 1e-12, 1e-12));
}

TEST(GradReducer, SumsGradientsOverRanksWhateverTheirLayout) {
  torch::Tensor w = torch::zeros({3, 2, 2, 2}).contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor bias = torch::zeros({3});
  w.mutable_grad() = torch::arange(24, torch::kFloat32).reshape({3, 2, 2, 2}) * (world().rank() + 1);
  bias.mutable_grad() = torch::full({3}, 1.0f + world().rank());
  w.mutable_grad() = w.grad().contiguous(torch::MemoryFormat::ChannelsLast);
  GradReducer reducer({w, bias}, world());
  reducer.sum_gradients();
  const int n = world().size();
  const double ranks_sum = n * (n + 1) / 2.0;  // sum of (rank + 1)
  EXPECT_TRUE(torch::allclose(w.grad(), torch::arange(24, torch::kFloat32).reshape({3, 2, 2, 2}) *
                                            ranks_sum));
  EXPECT_TRUE(torch::allclose(bias.grad(), torch::full({3}, ranks_sum)));
}

TEST(MpiCommunicator, CollectivesAndTheirAccounting) {
  torch::Tensor v = torch::tensor({double(world().rank()), -double(world().rank())});
  world().take_comm_stats();
  world().allreduce_max(v);
  EXPECT_EQ(v[0].item<double>(), world().size() - 1);
  EXPECT_EQ(v[1].item<double>(), 0.0);
  torch::Tensor b = torch::full({4}, static_cast<int64_t>(world().rank() + 5));
  world().broadcast(b, 0);
  EXPECT_TRUE(torch::equal(b, torch::full({4}, int64_t{5})));
  const auto stats = world().take_comm_stats();
  EXPECT_EQ(stats.calls, world().size() > 1 ? 1 : 0);  // broadcasts are not all-reduces
}

TEST(RankAgreement, EqualValuesAgreeAndOneRankThatDiffersIsSeenByAll) {
  const int64_t big = int64_t{1} << 62;
  EXPECT_TRUE(same_on_all_ranks({3, -7, 0, big}, world()));
  // The last rank differs in one value, by one: every rank must say so (or, alone, agree).
  const bool last = world().rank() == world().size() - 1;
  EXPECT_EQ(same_on_all_ranks({3, last ? big + 1 : big}, world()), world().size() == 1);
  EXPECT_EQ(same_on_all_ranks({last ? -1 : 0}, world()), world().size() == 1);
}

}  // namespace
}  // namespace ipm
