#include "trainer/batch_reader.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <utility>

#include <hdf5.h>
#include <torch/torch.h>

#include "common/error.h"

namespace ipm {
namespace {

// "rows 3, 17, 9, ... (256 in all)": enough to find them without flooding the line.
std::string describe_units(const std::vector<int64_t>& units, const char* name) {
  std::ostringstream s;
  s << name << " ";
  const size_t shown = std::min<size_t>(units.size(), 8);
  for (size_t i = 0; i < shown; ++i) s << (i ? ", " : "") << units[i];
  if (shown < units.size()) s << ", ...";
  s << " (" << units.size() << " in all)";
  return s.str();
}

}  // namespace

int64_t thread_read_bytes(int64_t* own) {
  const int fd = ::open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  size_t len = 0;
  ssize_t got = 0;
  while (len < sizeof(buf) - 1 && (got = ::read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
    len += static_cast<size_t>(got);
  }
  ::close(fd);
  buf[len] = '\0';
  const char* at = std::strstr(buf, "rchar:");
  if (at == nullptr) return -1;
  if (own != nullptr) *own = static_cast<int64_t>(len);
  return std::strtoll(at + 6, nullptr, 10);
}

BatchReader::BatchReader(UnitsOf units_of, Load load, int64_t start, int64_t end,
                         int64_t prefetch, const char* unit_name)
    : units_of_(std::move(units_of)), load_(std::move(load)), next_step_(start), end_(end),
      prefetch_(prefetch), unit_name_(unit_name), threads_(torch::get_num_threads()) {
  if (prefetch_ > 0 && start < end) thread_ = std::thread([this] { run(); });
}

BatchReader::~BatchReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t BatchReader::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

Batch BatchReader::read_step(int64_t s) {
  const std::vector<int64_t> units = units_of_(s);
  int64_t probe = 0;
  const int64_t before = thread_read_bytes(&probe);
  Batch b;
  try {
    b = load_(s, units);
  } catch (const std::exception& e) {
    throw Error(std::string(e.what()) + " [reading the batch of step " + std::to_string(s) +
                ": " + describe_units(units, unit_name_) + "]");
  }
  const int64_t after = thread_read_bytes();
  if (before >= 0 && after >= before + probe) {
    std::lock_guard<std::mutex> lock(mu_);
    bytes_ += after - before - probe;
  }
  return b;
}

void BatchReader::run() {
  // Signals (SIGUSR1/SIGTERM: a stop request) go to the training thread, never here.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  // A thread-safe HDF5 keeps its error-printing setting per thread: errors are thrown as one
  // line (io/h5_handle.h), never printed as a stack.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  // OpenMP keeps the thread count per thread (a new thread would use every core): convert
  // with the job's run.threads_per_rank. The same value, so nothing global changes.
  torch::set_num_threads(threads_);
  for (int64_t s = next_step_; s < end_; ++s) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || static_cast<int64_t>(queue_.size()) < prefetch_; });
      if (stop_) return;
    }
    try {
      Batch b = read_step(s);
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(b));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      cv_.notify_all();
      return;
    }
    cv_.notify_all();
  }
}

Batch BatchReader::next() {
  IPM_CHECK(next_step_ < end_, "internal: BatchReader asked past its last step " << end_);
  const auto t0 = std::chrono::steady_clock::now();
  Batch b;
  if (!thread_.joinable()) {
    b = read_step(next_step_);
  } else {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || error_; });
    if (queue_.empty()) std::rethrow_exception(error_);  // after every batch before it
    b = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    cv_.notify_all();
  }
  ++next_step_;
  wait_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return b;
}

}  // namespace ipm
