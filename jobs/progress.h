// Progress of a suite for the person watching: jobs done / running / left and an ETA,
// printed by world rank 0 every few seconds while the suite runs.
// defines: ipm::SuiteProgress, ipm::ProgressReporter
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "jobs/suite.h"

namespace ipm {

// Read from the output directory (shared by all ranks), so it sees every group's jobs:
// DONE marks a finished job, a config.toml without DONE a started one.
struct SuiteProgress {
  int done = 0, running = 0, left = 0;
};
SuiteProgress read_progress(const Suite& suite);

// One line: "[name] 12 done, 2 running, 22 left; ETA 3m40s" (ETA from the jobs finished
// since `start`, once there is one).
std::string progress_line(const Suite& suite, const SuiteProgress& p, int done_at_start,
                          double elapsed_s);

// A thread that prints progress_line every `every` until destroyed. It only reads files and
// writes to stdout: no MPI calls, so MPI_THREAD_FUNNELED is enough.
class ProgressReporter {
 public:
  ProgressReporter(const Suite& suite, std::chrono::seconds every);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

 private:
  void loop();
  const Suite& suite_;
  std::chrono::seconds every_;
  std::chrono::steady_clock::time_point start_;
  int done_at_start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ipm
