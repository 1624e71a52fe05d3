#include "jobs/progress.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace ipm {

SuiteProgress read_progress(const Suite& suite) {
  SuiteProgress p;
  for (const SuiteJob& job : suite.jobs) {
    const std::filesystem::path dir = suite.output / "jobs" / job.spec.name;
    std::error_code ec;
    if (std::filesystem::exists(dir / "DONE", ec)) {
      ++p.done;
    } else if (std::filesystem::exists(dir / "config.toml", ec)) {
      ++p.running;
    } else {
      ++p.left;
    }
  }
  return p;
}

std::string progress_line(const Suite& suite, const SuiteProgress& p, int done_at_start,
                          double elapsed_s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "[%s] %d done, %d running, %d left", suite.name.c_str(), p.done,
                p.running, p.left);
  std::string line = buf;
  const int finished_now = p.done - done_at_start;
  if (finished_now > 0 && p.done < static_cast<int>(suite.jobs.size())) {
    // Running jobs count as half done on average.
    const double eta = elapsed_s / finished_now * (p.left + 0.5 * p.running);
    std::snprintf(buf, sizeof buf, "; ETA %dm%02ds", static_cast<int>(eta) / 60,
                  static_cast<int>(eta) % 60);
    line += buf;
  }
  return line;
}

ProgressReporter::ProgressReporter(const Suite& suite, std::chrono::seconds every)
    : suite_(suite), every_(every), start_(std::chrono::steady_clock::now()),
      done_at_start_(read_progress(suite).done), thread_([this] { loop(); }) {}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ProgressReporter::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, every_, [this] { return stop_; })) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::cout << progress_line(suite_, read_progress(suite_), done_at_start_, elapsed) << "\n"
              << std::flush;
  }
}

}  // namespace ipm
