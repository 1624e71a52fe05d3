// The NCCL communicator on real GPUs: run as `mpirun -np W nccl_test` on a node with at
// least W GPUs (built only with IPM_WITH_NCCL). Without a GPU every test skips, so CI (no
// GPU) still builds, links and starts it.
//  - all-reduce sum/max and broadcast on CUDA tensors give the values the rank formulas say;
//  - the comm stream waits for the compute stream: a tensor written by a long chain of
//    kernels is reduced after they finish, and compute that reads the result sees it;
//  - the global normalizer over NCCL equals the one over MPI on CPU copies (value, gradient);
//  - CPU tensors on an NCCL communicator travel over MPI.
#include <mpi.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <memory>

#include "common/error.h"
#include "dist/global_normalizer.h"
#include "dist/group_communicator.h"
#include "dist/mpi_communicator.h"

namespace ipm {
namespace {

// The world's NCCL communicator, owned by main() (destroyed before MPI_Finalize), or null
// when any rank cannot run one: skipping is decided by all ranks together, so no rank waits
// in a collective that another skipped.
Communicator* g_nccl = nullptr;
MpiCommunicator* g_mpi_world = nullptr;

Communicator* nccl() { return g_nccl; }
MpiCommunicator& mpi_world() { return *g_mpi_world; }

#define NEED_NCCL()                                 \
  if (!nccl()) GTEST_SKIP() << "no GPU / NCCL here"; \
  Communicator& c = *nccl()

TEST(NcclCommunicator, SumMaxBroadcastOnDevice) {
  NEED_NCCL();
  ASSERT_STREQ(c.backend(), "nccl");
  ASSERT_TRUE(c.device().is_cuda());
  const auto opts = torch::TensorOptions().device(c.device());
  const double r = c.rank(), w = c.size();
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64}) {
    torch::Tensor s = torch::tensor({r + 1, 2 * r}, opts.dtype(torch::kFloat64)).to(dtype);
    c.allreduce_sum(s);
    const torch::Tensor want_s =
        torch::tensor({w * (w + 1) / 2, w * (w - 1)}, torch::kFloat64).to(dtype);
    EXPECT_TRUE(torch::equal(s.cpu(), want_s)) << dtype;
    torch::Tensor m = torch::tensor({r, -r}, opts.dtype(torch::kFloat64)).to(dtype);
    c.allreduce_max(m);
    EXPECT_TRUE(torch::equal(m.cpu(), torch::tensor({w - 1, 0.0}, torch::kFloat64).to(dtype)));
    torch::Tensor b = torch::full({5}, r, opts.dtype(dtype));
    c.broadcast(b, static_cast<int>(w) - 1);
    EXPECT_TRUE(torch::equal(b.cpu(), torch::full({5}, w - 1, torch::kFloat64).to(dtype)));
  }
  const auto stats = c.take_comm_stats();
  EXPECT_EQ(stats.calls, 6);  // the all-reduces (broadcasts are not counted)
}

TEST(NcclCommunicator, CommStreamIsOrderedAfterComputeAndComputeAfterComm) {
  NEED_NCCL();
  const auto opts = torch::TensorOptions().device(c.device()).dtype(torch::kFloat32);
  for (int round = 0; round < 5; ++round) {
    // A slow producer on the compute stream: the value is only right once every matmul ran.
    torch::Tensor a = torch::eye(2048, opts);
    for (int i = 0; i < 20; ++i) a = torch::mm(a, a);
    torch::Tensor t = a.diagonal().narrow(0, 0, 256) * static_cast<float>(c.rank() + 1);
    c.allreduce_sum(t);
    const torch::Tensor consumer = t * 2;  // compute stream, after the comm
    const float want = 2.0f * c.size() * (c.size() + 1) / 2.0f;
    EXPECT_TRUE(torch::allclose(consumer.cpu(), torch::full({256}, want))) << "round " << round;
  }
}

TEST(NcclCommunicator, GlobalNormalizerEqualsTheMpiOne) {
  NEED_NCCL();
  torch::manual_seed(100 + c.rank());
  const torch::Tensor x = torch::randn({7 + c.rank(), 5}, torch::kFloat64);
  torch::Tensor xg = x.to(c.device()).requires_grad_(true);
  torch::Tensor xc = x.clone().requires_grad_(true);
  const torch::Tensor w = torch::arange(5, torch::kFloat64);
  torch::Tensor lg = global_logsumexp(xg, c);
  torch::Tensor lc = global_logsumexp(xc, mpi_world());
  (lg * w.to(c.device())).sum().backward();
  (lc * w).sum().backward();
  EXPECT_TRUE(torch::allclose(lg.detach().cpu(), lc.detach(), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(xg.grad().cpu(), xc.grad(), 1e-12, 1e-12));
}

TEST(NcclCommunicator, CpuTensorsGoOverMpi) {
  NEED_NCCL();
  torch::Tensor v = torch::tensor({int64_t{c.rank()}});
  c.allreduce_max(v);
  EXPECT_TRUE(v.device().is_cpu());
  EXPECT_EQ(v.item<int64_t>(), c.size() - 1);
}

}  // namespace
}  // namespace ipm

// Every rank gets the same answer (choose_world_backend is collective); returns null on all
// ranks when any cannot run NCCL, printing the reason once.
std::unique_ptr<ipm::Communicator> make_world_nccl(int rank) {
  ipm::GroupBackend b;
  try {
    b = ipm::choose_world_backend("nccl", MPI_COMM_WORLD);
  } catch (const ipm::Error& e) {
    if (rank == 0) std::fprintf(stderr, "nccl_test: skipping: %s\n", e.what());
    return nullptr;
  }
  MPI_Comm dup;
  MPI_Comm_dup(MPI_COMM_WORLD, &dup);
  return ipm::make_group_communicator(b, dup);
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ipm::MpiRuntime mpi(&argc, &argv);  // outlives every communicator below
  if (mpi.world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int worst = 0;
  {
    ipm::MpiCommunicator world(MPI_COMM_WORLD);
    std::unique_ptr<ipm::Communicator> nccl = make_world_nccl(mpi.world_rank());
    ipm::g_mpi_world = &world;
    ipm::g_nccl = nccl.get();
    const int rc = RUN_ALL_TESTS();
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    ipm::g_nccl = nullptr;
    ipm::g_mpi_world = nullptr;
  }  // the NCCL communicator is destroyed here, before MPI_Finalize
  return worst;
}
