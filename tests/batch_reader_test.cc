// trainer/batch_reader.h: with and without a reader thread, batches arrive in step order from
// the start step on; a failing read reaches next() for that step (after the batches before
// it) naming the step, the rows and the original error; destroying a reader whose queue is
// full, or one blocked on a slow read, returns promptly (no hang); the wait is counted and
// the bytes of a real file read are counted on the thread that read them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "tests/test_util.h"  // ErrorOf, EXPECT_CONTAINS
#include "trainer/batch_reader.h"

namespace ipm {
namespace {

std::vector<int64_t> units_of(int64_t s) { return {10 * s, 10 * s + 1}; }

Batch make_batch(int64_t s, const std::vector<int64_t>& units) {
  return {units, {torch::full({2}, static_cast<double>(s))}};
}

class BatchReaderTest : public ::testing::TestWithParam<int64_t> {};  // prefetch

TEST_P(BatchReaderTest, BatchesInStepOrderFromTheStart) {
  BatchReader r(units_of, make_batch, 3, 9, GetParam(), "rows");
  for (int64_t s = 3; s < 9; ++s) {
    const Batch b = r.next();
    EXPECT_EQ(b.units, units_of(s));
    EXPECT_EQ(b.t[0][0].item<double>(), static_cast<double>(s));
  }
  EXPECT_GE(r.wait_s(), 0.0);
}

TEST_P(BatchReaderTest, AReadErrorReachesNextForItsStepNamingStepAndRows) {
  auto load = [](int64_t s, const std::vector<int64_t>& u) {
    IPM_CHECK(s != 4, "data.h5:/train/x: read failed (corrupt or truncated file?)");
    return make_batch(s, u);
  };
  BatchReader r(units_of, load, 2, 8, GetParam(), "rows");
  EXPECT_EQ(r.next().units, units_of(2));
  EXPECT_EQ(r.next().units, units_of(3));
  const std::string e = ErrorOf([&] { r.next(); });
  EXPECT_CONTAINS(e, "data.h5:/train/x: read failed");
  EXPECT_CONTAINS(e, "step 4: rows 40, 41 (2 in all)");
}

TEST_P(BatchReaderTest, StopsPromptlyWithAFullQueueOrASlowRead) {
  std::atomic<int64_t> loaded{0};
  auto slow = [&](int64_t s, const std::vector<int64_t>& u) {
    ++loaded;
    std::this_thread::sleep_for(std::chrono::milliseconds(s == 1 ? 200 : 0));
    return make_batch(s, u);
  };
  const auto t0 = std::chrono::steady_clock::now();
  {
    BatchReader r(units_of, slow, 0, 1000, GetParam(), "rows");
    r.next();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // queue full, or mid-read
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 2.0) << "the reader did not stop";
  EXPECT_LE(loaded.load(), 2 + GetParam()) << "read beyond its queue";
}

INSTANTIATE_TEST_SUITE_P(Prefetch, BatchReaderTest, ::testing::Values(0, 1, 3));

TEST(BatchReader, CountsBytesReadOnTheReadingThread) {
  const auto file = std::filesystem::temp_directory_path() / "ipm_batch_reader_bytes.bin";
  { std::ofstream(file) << std::string(100000, 'x'); }
  if (thread_read_bytes() < 0) GTEST_SKIP() << "no /proc/thread-self/io here";
  for (const int64_t prefetch : {0, 2}) {
    auto load = [&](int64_t s, const std::vector<int64_t>& u) {
      std::ifstream in(file, std::ios::binary);
      std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(all.size(), 100000u);
      return make_batch(s, u);
    };
    BatchReader r(units_of, load, 0, 3, prefetch, "rows");
    for (int i = 0; i < 3; ++i) r.next();
    EXPECT_GE(r.bytes(), 3 * 100000) << "prefetch " << prefetch;
    EXPECT_LT(r.bytes(), 3 * 100000 + 100000) << "prefetch " << prefetch;
  }
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace ipm
