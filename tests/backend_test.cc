// The launch logic that runs without a GPU or a cluster: which backend and device a rank
// gets, the order of stream operations around an NCCL collective (against a recording
// fake), and whether the MPI world matches the srun step that started it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "dist/backend_choice.h"
#include "dist/deadline_wait.h"
#include "dist/gpu_assignment.h"
#include "dist/job_start_barrier.h"
#include "dist/launch_check.h"
#include "dist/ordered_collective.h"

namespace {

using ipm::BackendOffer;
using ipm::resolve_backend;

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ipm::Error& e) {
    return e.what();
  }
  return "";
}

const BackendOffer kCpuLibTorch{false, false, 0};
const BackendOffer kCudaNoNccl{false, true, 2};
const BackendOffer kNcclNoGpu{true, true, 0};
const BackendOffer kGpuNode{true, true, 4};

TEST(ResolveBackend, MpiIsAlwaysMpiOnTheCpu) {
  for (const BackendOffer& o : {kCpuLibTorch, kCudaNoNccl, kNcclNoGpu, kGpuNode}) {
    const auto c = resolve_backend("mpi", o);
    EXPECT_EQ(c.backend, "mpi");
    EXPECT_FALSE(c.cuda);
    EXPECT_EQ(c.note, "");
  }
}

TEST(ResolveBackend, NcclOnAGpuNodeIsNcclOnCuda) {
  const auto c = resolve_backend("nccl", kGpuNode);
  EXPECT_EQ(c.backend, "nccl");
  EXPECT_TRUE(c.cuda);
  EXPECT_EQ(c.note, "");
}

TEST(ResolveBackend, NcclThatCannotRunFailsNamingKeyAndReason) {
  const std::map<std::string, BackendOffer> reasons = {
      {"CPU-only LibTorch", kCpuLibTorch},
      {"built without NCCL", kCudaNoNccl},
      {"no CUDA device is visible", kNcclNoGpu},
  };
  for (const auto& [reason, offer] : reasons) {
    const std::string msg = ErrorOf([&] { resolve_backend("nccl", offer); });
    EXPECT_NE(msg.find("run.backend = \"nccl\""), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << msg;
    EXPECT_NE(msg.find("run.backend = \"mpi\""), std::string::npos) << "suggests mpi: " << msg;
  }
}

TEST(ResolveBackend, AutoPicksNcclWhenItCanAndSaysNothing) {
  const auto c = resolve_backend("auto", kGpuNode);
  EXPECT_EQ(c.backend, "nccl");
  EXPECT_TRUE(c.cuda);
  EXPECT_EQ(c.note, "");
}

TEST(ResolveBackend, AutoFallsBackToMpiWithANoteSayingWhy) {
  for (const BackendOffer& o : {kCpuLibTorch, kCudaNoNccl, kNcclNoGpu}) {
    const auto c = resolve_backend("auto", o);
    EXPECT_EQ(c.backend, "mpi");
    EXPECT_FALSE(c.cuda);
    EXPECT_EQ(c.note.rfind("run.backend = \"auto\": using MPI on the CPU: ", 0), 0u) << c.note;
    // The same reason the explicit request would fail with.
    const std::string err = ErrorOf([&] { resolve_backend("nccl", o); });
    const std::string why = c.note.substr(c.note.rfind(": ") + 2);
    EXPECT_NE(err.find(why), std::string::npos) << err << " | " << why;
  }
}

TEST(ResolveBackend, UnknownValueIsRefused) {
  EXPECT_NE(ErrorOf([] { resolve_backend("gloo", kGpuNode); }).find("\"gloo\" is unknown"),
            std::string::npos);
}

TEST(ChooseCudaDevice, OneRankPerGpu) {
  // mpirun on a 4-GPU node: local rank r gets GPU r.
  for (int r = 0; r < 4; ++r) EXPECT_EQ(ipm::choose_cuda_device(r, 4), r);
  // srun --gpus-per-task=1: each rank sees only its own GPU, whatever its local rank.
  for (int r = 0; r < 8; ++r) EXPECT_EQ(ipm::choose_cuda_device(r, 1), 0);
}

TEST(ChooseCudaDevice, MoreRanksThanGpusOrNoneFail) {
  const std::string msg = ErrorOf([] { ipm::choose_cuda_device(4, 4); });
  EXPECT_NE(msg.find("local rank 4 has no GPU of its own"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4 CUDA devices"), std::string::npos) << msg;
  EXPECT_NE(ErrorOf([] { ipm::choose_cuda_device(0, 0); }).find("no CUDA device"),
            std::string::npos);
}

// Records the calls an ordered collective makes; comm_done() turns true after `polls_to_done`
// polls (never when negative), async_error() after `polls_to_error`.
class RecordingStreams final : public ipm::CollectiveStreams {
 public:
  std::vector<std::string> calls;
  int polls_to_done = 0, polls_to_error = -1, polls = 0;
  void comm_waits_for_compute() override { calls.push_back("comm waits for compute"); }
  void compute_waits_for_comm() override { calls.push_back("compute waits for comm"); }
  bool comm_done() override {
    calls.push_back("query");
    return polls_to_done >= 0 && polls >= polls_to_done;
  }
  std::string async_error() override {
    calls.push_back("async error?");
    return polls_to_error >= 0 && polls >= polls_to_error ? "remote process exited" : "";
  }
  void abort() override { calls.push_back("abort"); }
};

void RunCollective(RecordingStreams& s,
                   std::chrono::milliseconds timeout = std::chrono::hours(1)) {
  ipm::run_ordered_collective(
      s, [&] { s.calls.push_back("launch on comm"); }, timeout, "all-reduce of 3 float",
      [&] {
        ++s.polls;
        s.calls.push_back("poll");
      });
}

TEST(OrderedCollective, CommWaitsForComputeThenLaunchThenComputeWaitsForComm) {
  RecordingStreams s;
  s.polls_to_done = 2;
  RunCollective(s);
  const std::vector<std::string> want = {
      "comm waits for compute", "launch on comm", "compute waits for comm",
      "query", "async error?", "poll", "query", "async error?", "poll", "query"};
  EXPECT_EQ(s.calls, want);
}

TEST(OrderedCollective, AsyncErrorAbortsBeforeThrowing) {
  RecordingStreams s;
  s.polls_to_done = -1;
  s.polls_to_error = 1;
  const std::string msg = ErrorOf([&] { RunCollective(s); });
  EXPECT_EQ(msg, "NCCL all-reduce of 3 float failed: remote process exited");
  ASSERT_GE(s.calls.size(), 2u);
  EXPECT_EQ(s.calls.back(), "abort");
  EXPECT_EQ(s.calls[s.calls.size() - 2], "async error?");
  EXPECT_EQ(s.polls, 1);
}

TEST(OrderedCollective, DeadlineAbortsAHungCollective) {
  RecordingStreams s;
  s.polls_to_done = -1;  // a peer never joins: the kernel never completes, no error either
  const std::string msg = ErrorOf([&] { RunCollective(s, std::chrono::milliseconds(20)); });
  EXPECT_NE(msg.find("did not complete within 20 ms"), std::string::npos) << msg;
  EXPECT_NE(msg.find("IPM_NCCL_TIMEOUT_S"), std::string::npos) << msg;
  EXPECT_EQ(s.calls.back(), "abort");
  EXPECT_EQ(std::count(s.calls.begin(), s.calls.end(), "abort"), 1);
}

TEST(OrderedCollective, AFailedLaunchNeverOrdersComputeAfterIt) {
  RecordingStreams s;
  EXPECT_THROW(ipm::run_ordered_collective(
                   s, [] { throw ipm::Error("ncclAllReduce failed"); },
                   std::chrono::seconds(1), "x", [] {}),
               ipm::Error);
  EXPECT_EQ(s.calls, std::vector<std::string>{"comm waits for compute"});
}

// Issue 14.5: a CPU build on a CPU node is the expected case: the note is kept (for logs
// that want it) but is not news; it is where a GPU is left idle.
TEST(ResolveBackend, AutoOnACpuBuildWithoutAGpuIsNotNews) {
  EXPECT_FALSE(resolve_backend("auto", kCpuLibTorch).note_is_news);
  EXPECT_FALSE(resolve_backend("auto", kNcclNoGpu).note_is_news);  // a CUDA build, no GPU
  BackendOffer cpu_build_gpu_node = kCpuLibTorch;
  cpu_build_gpu_node.driver_devices = 2;  // the driver shows 2 GPUs this build cannot use
  EXPECT_TRUE(resolve_backend("auto", cpu_build_gpu_node).note_is_news);
  EXPECT_TRUE(resolve_backend("auto", kCudaNoNccl).note_is_news);  // LibTorch sees 2 GPUs
}

// Item 10: an old driver is named as the reason, not "no GPU", and it is news.
TEST(ResolveBackend, ADriverOlderThanTheBuildsCudaIsNamed) {
  BackendOffer old_driver = kNcclNoGpu;  // LibTorch sees nothing: its runtime needs 13.x
  old_driver.driver_devices = 4;
  old_driver.driver_cuda = 12040;
  old_driver.build_cuda = 13020;
  const auto c = resolve_backend("auto", old_driver);
  EXPECT_EQ(c.backend, "mpi");
  EXPECT_TRUE(c.note_is_news);
  EXPECT_NE(c.note.find("the NVIDIA driver supports CUDA 12.4, older than this build's CUDA "
                        "13.2"), std::string::npos) << c.note;
  EXPECT_EQ(c.note.find("no CUDA device"), std::string::npos) << c.note;
  EXPECT_NE(ErrorOf([&] { resolve_backend("nccl", old_driver); }).find("CUDA 12.4"),
            std::string::npos);
  BackendOffer minor_newer = old_driver;  // 13.0 runs 13.2 (minor version compatibility)
  minor_newer.driver_cuda = 13000;
  EXPECT_NE(resolve_backend("auto", minor_newer).note.find("no CUDA device"), std::string::npos);
}

// Item 2: the GPU of each rank from every rank's node and visible devices (fake layouts).
using ipm::RankGpus;
const std::vector<std::string> kFourGpus = {"0000:1b:00.0", "0000:3b:00.0", "0000:5b:00.0",
                                            "0000:7b:00.0"};

TEST(AssignGpus, MpirunRanksSharingAllGpusTakeOneEach) {
  std::vector<RankGpus> r;
  for (int i = 0; i < 8; ++i) r.push_back({i, i < 4 ? "n1" : "n2", kFourGpus});
  EXPECT_EQ(ipm::assign_gpus(r), (std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3}));
}

TEST(AssignGpus, GpusPerTaskOneEachSeesItsOwn) {
  std::vector<RankGpus> r;
  for (int i = 0; i < 4; ++i) r.push_back({i, "n1", {kFourGpus[static_cast<size_t>(i)]}});
  EXPECT_EQ(ipm::assign_gpus(r), (std::vector<int>{0, 0, 0, 0}));
}

TEST(AssignGpus, GpusPerTaskTwoNeverExceedsTheVisibleCount) {
  // --gpus-per-task=2: ranks 0,1 see GPUs 0,1 and ranks 2,3 see 2,3 (local ranks 2, 3 would
  // have been out of range under "device = local rank").
  std::vector<RankGpus> r = {{0, "n1", {kFourGpus[0], kFourGpus[1]}},
                             {1, "n1", {kFourGpus[0], kFourGpus[1]}},
                             {2, "n1", {kFourGpus[2], kFourGpus[3]}},
                             {3, "n1", {kFourGpus[2], kFourGpus[3]}}};
  EXPECT_EQ(ipm::assign_gpus(r), (std::vector<int>{0, 1, 0, 1}));
}

TEST(AssignGpus, TwoRanksOnOneGpuAreRefusedNamingRanksAndOptions) {
  // --gpus-per-node=1 --ntasks-per-node=2: both see the one GPU.
  std::vector<RankGpus> r = {{0, "n1", {kFourGpus[0]}}, {1, "n1", {kFourGpus[0]}}};
  const std::string msg = ErrorOf([&] { ipm::assign_gpus(r); });
  EXPECT_NE(msg.find("ranks 0 and 1 on node n1 see the same 1 GPU (0000:1b:00.0)"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("--gpus-per-task=1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--ntasks-per-node equal to --gpus-per-node"), std::string::npos) << msg;
  // The same bus ids on two nodes are two GPUs.
  r[1].node = "n2";
  EXPECT_EQ(ipm::assign_gpus(r), (std::vector<int>{0, 0}));
}

TEST(AssignGpus, OverlappingVisibleSetsThatWouldShareAGpuAreRefused) {
  // A --gpu-bind map that shows rank 1 the GPU rank 0 takes.
  std::vector<RankGpus> r = {{0, "n1", {kFourGpus[0], kFourGpus[1]}},
                             {1, "n1", {kFourGpus[0]}}};
  const std::string msg = ErrorOf([&] { ipm::assign_gpus(r); });
  EXPECT_NE(msg.find("ranks 0 and 1 on node n1 would both use GPU 0000:1b:00.0"),
            std::string::npos) << msg;
  std::vector<RankGpus> cpu = {{0, "n1", {}}, {1, "n1", {}}};  // no GPU wanted: nothing
  EXPECT_EQ(ipm::assign_gpus(cpu), (std::vector<int>{-1, -1}));
}

// Item 5: NCCL's non-blocking set-up waited for under the deadline (a scripted state source).
TEST(WaitWithDeadline, PendingThenDoneReturns) {
  int polls = 0, aborts = 0;
  ipm::wait_with_deadline([&] { return ipm::AsyncState{polls < 3, ""}; }, [&] { ++aborts; },
                          std::chrono::hours(1), "ncclCommInitRank", "hint", [&] { ++polls; });
  EXPECT_EQ(polls, 3);
  EXPECT_EQ(aborts, 0);
}

TEST(WaitWithDeadline, APeerThatNeverConnectsIsAbortedAtTheDeadline) {
  int aborts = 0;
  const std::string msg = ErrorOf([&] {
    ipm::wait_with_deadline([] { return ipm::AsyncState{true, ""}; }, [&] { ++aborts; },
                            std::chrono::milliseconds(30), "ncclCommInitRank on rank 1 of 2",
                            "set NCCL_SOCKET_IFNAME", [] {
                              std::this_thread::sleep_for(std::chrono::milliseconds(1));
                            });
  });
  EXPECT_EQ(aborts, 1);
  EXPECT_NE(msg.find("ncclCommInitRank on rank 1 of 2 did not finish within 0.03 s "
                     "(IPM_NCCL_TIMEOUT_S); set NCCL_SOCKET_IFNAME"), std::string::npos) << msg;
}

TEST(WaitWithDeadline, AnAsyncErrorAbortsAtOnce) {
  int aborts = 0, polls = 0;
  const std::string msg = ErrorOf([&] {
    ipm::wait_with_deadline(
        [&] { return polls < 2 ? ipm::AsyncState{true, ""} : ipm::AsyncState{false, "remote"}; },
        [&] { ++aborts; }, std::chrono::hours(1), "init", "", [&] { ++polls; });
  });
  EXPECT_EQ(msg, "init failed: remote");
  EXPECT_EQ(aborts, 1);
}

// Item 6: the first device collective after a host collective meets at a barrier.
TEST(JobStartBarrier, FirstDeviceCollectiveOfEachPhaseMeetsTheGroup) {
  std::vector<std::string> log;
  ipm::JobStartBarrier gate([&] { log.push_back("barrier"); });
  const auto device = [&] {
    gate.before_device_collective();
    log.push_back("nccl");
  };
  const auto host = [&] {
    log.push_back("mpi");
    gate.after_host_collective();
  };
  device();  // the first job's first all-reduce (before any host collective)
  device();
  host();    // the next job's hand-out (a CPU broadcast): the ranks then read data
  device();
  device();
  EXPECT_EQ(log, (std::vector<std::string>{"barrier", "nccl", "nccl", "mpi", "barrier", "nccl",
                                           "nccl"}));
}

}  // namespace

// srun without an MPI plugin: 4 tasks, each a world of 1 -> refused, naming the fix.
TEST(SrunWorld, TasksThatAreEachTheirOwnWorldAreRefused) {
  const std::string why = ipm::srun_world_problem("4", "2", false, 1, 0);
  EXPECT_NE(why.find("srun started 4 tasks"), std::string::npos) << why;
  EXPECT_NE(why.find("--mpi=pmix"), std::string::npos) << why;
}

TEST(SrunWorld, AMatchingWorldAndRankPass) {
  EXPECT_EQ(ipm::srun_world_problem("4", "2", false, 4, 2), "");
  EXPECT_EQ(ipm::srun_world_problem("1", "0", false, 1, 0), "");  // sbatch's batch step
}

TEST(SrunWorld, ARankThatIsNotTheTaskIdIsRefused) {
  EXPECT_NE(ipm::srun_world_problem("2", "1", false, 2, 0).find("SLURM_PROCID"),
            std::string::npos);
}

TEST(SrunWorld, NothingToCheckOutsideAStepOrUnderMpirun) {
  EXPECT_EQ(ipm::srun_world_problem(nullptr, nullptr, false, 1, 0), "");  // no srun
  // mpirun inside an allocation: its daemons' step has one task per node, not per rank.
  EXPECT_EQ(ipm::srun_world_problem("2", "0", true, 8, 5), "");
}
