// The suite's job counter under real MPI, with rank 0 busy outside MPI: run as
// `mpirun --mca osc pt2pt -np 3 work_counter_test`. osc pt2pt is Open MPI's window
// implementation over messages, the one a cluster without RDMA atomics gets across nodes: a
// window request is served only when the target (rank 0) runs MPI's progress engine (the
// window counter fails this test; the server thread of dist/work_counter.h passes). Rank 0
// computes for 3 s without any MPI call (a GPU job between NCCL collectives, a long data
// read) while the other ranks (other job groups) ask for work; each must get a number in
// well under a second, and every number is handed out exactly once.
//  - also: choose_world_backend is collective: a rank that cannot run NCCL stops every rank
//    with its reason (none goes on alone into a collective).
#include <mpi.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <vector>

#include "common/error.h"
#include "dist/group_communicator.h"
#include "dist/mpi_communicator.h"
#include "dist/work_counter.h"

namespace ipm {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

TEST(MpiWorkCounter, OtherGroupsGetWorkWhileRankZeroComputesOutsideMpi) {
  std::vector<int64_t> mine;
  double slowest = 0.0;
  {
    MpiWorkCounter counter(MPI_COMM_WORLD);
    if (world_rank() == 0 && world_size() > 1) {
      EXPECT_TRUE(counter.has_server_thread());
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) {
      // 3 s of arithmetic, no MPI call.
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      volatile double x = 1.0;
      while (std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 1000; ++i) x = x * 1.0000001 + 1e-9;
      }
      mine.push_back(counter.next());
    } else {
      for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        mine.push_back(counter.next());
        slowest = std::max(slowest, std::chrono::duration<double>(
                                        std::chrono::steady_clock::now() - t0).count());
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  EXPECT_LT(slowest, 1.0) << "rank " << world_rank() << " waited " << slowest
                          << " s for a job number while rank 0 was busy";
  // Every number once: the union over ranks is 0..N-1.
  const int n = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<size_t>(world_size())), offsets(counts.size());
  MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
  std::vector<int64_t> all(static_cast<size_t>(offsets.back() + counts.back()));
  MPI_Allgatherv(mine.data(), n, MPI_INT64_T, all.data(), counts.data(), offsets.data(),
                 MPI_INT64_T, MPI_COMM_WORLD);
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i));
}

TEST(ChooseWorldBackend, ARankThatCannotRunNcclStopsEveryRank) {
  BackendOffer offer;  // rank 1 has a GPU node's offer, the others a CPU build's
  std::vector<std::string> bus;
  if (world_rank() == 1) {
    offer = BackendOffer{true, true, 1};
    bus = {"0000:3b:00.0"};
  }
  std::string err;
  try {
    choose_world_backend_with("nccl", offer, bus, MPI_COMM_WORLD);
  } catch (const Error& e) {
    err = e.what();
  }
  if (world_size() == 1) {
    EXPECT_NE(err.find("CPU-only LibTorch"), std::string::npos) << err;
    return;
  }
  ASSERT_FALSE(err.empty()) << "rank " << world_rank() << " went on alone";
  if (world_rank() == 1) {
    EXPECT_NE(err.find("rank 0: run.backend = \"nccl\""), std::string::npos) << err;
  }
  // auto: each rank decides and nobody throws.
  const GroupBackend b = choose_world_backend_with("auto", offer, bus, MPI_COMM_WORLD);
  EXPECT_EQ(b.cuda_device, world_rank() == 1 ? 0 : -1);
}

}  // namespace
}  // namespace ipm
