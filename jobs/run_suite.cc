#include "jobs/run_suite.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"
#include "jobs/config_schema.h"
#include "trainer/job_check.h"
#include "trainer/stop_request.h"
#include "trainer/trainer.h"

namespace ipm {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A job directory belongs to one configuration: reusing it for another would mix results.
void claim_job_dir(const std::filesystem::path& dir, const std::string& config) {
  const std::filesystem::path cfg = dir / "config.toml";
  if (std::filesystem::exists(cfg)) {
    IPM_CHECK(read_text(cfg) == config,
              cfg.string() << " holds a different configuration for this job; use another "
                              "output directory or remove the old job");
    return;
  }
  std::filesystem::create_directories(dir);
  write_file_atomic(cfg, config);
}

}  // namespace

JobSlice parse_job_slice(const std::string& text) {
  const size_t slash = text.find('/');
  const auto number = [](const std::string& s) {
    return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos
               ? std::stoll(s) : int64_t{-1};
  };
  JobSlice s;
  s.index = slash == std::string::npos ? -1 : number(text.substr(0, slash));
  s.count = slash == std::string::npos ? -1 : number(text.substr(slash + 1));
  IPM_CHECK(s.index >= 0 && s.count > 0 && s.index < s.count,
            "--slice " << text << ": expected I/N with 0 <= I < N (array task I of N)");
  return s;
}

void validate_suite(const Suite& suite) {
  for (const SuiteJob& job : suite.jobs) {
    try {
      check_job(job.spec);
    } catch (const Error& e) {
      throw Error(suite.file.string() + ": job '" + job.spec.name + "': " + e.what());
    }
  }
}

SuiteOutcome run_suite(const Suite& suite, Communicator& comm, WorkCounter& counter,
                       bool dry_run, JobSlice slice, const TestHooks& hooks) {
  SuiteOutcome out;
  const bool lead = comm.rank() == 0;
  const std::filesystem::path jobs_dir = suite.output / "jobs";
  if (dry_run) {
    if (lead) {
      for (size_t j = 0; j < suite.jobs.size(); ++j) {
        if (!slice.contains(static_cast<int64_t>(j))) continue;
        const SuiteJob& job = suite.jobs[j];
        const std::filesystem::path dir = jobs_dir / job.spec.name;
        const char* state = std::filesystem::exists(dir / "DONE")            ? "done"
                            : std::filesystem::exists(dir / "checkpoint.pt") ? "partial"
                                                                             : "todo";
        std::cout << state << "\t" << job.spec.name << "\t" << dir.string() << "\n";
      }
    }
    return out;
  }
  if (lead) {
    std::filesystem::create_directories(jobs_dir);
    write_file_atomic(suite.output / "suite.toml", suite.resolved_toml);
  }
  const int64_t total = static_cast<int64_t>(suite.jobs.size());
  while (true) {
    torch::Tensor taken = torch::tensor({lead ? counter.next() : int64_t{0}}, torch::kInt64);
    comm.broadcast(taken, 0);
    const int64_t index = taken.item<int64_t>() + 1;
    if (index > total) break;  // all taken: a stop request now changes nothing (no requeue)
    if (agree_to_stop(comm)) {  // start no job that would be stopped at once
      out.preempted = true;
      break;
    }
    if (!slice.contains(index - 1)) continue;  // another array task's job
    const SuiteJob& job = suite.jobs[static_cast<size_t>(index - 1)];
    const std::filesystem::path dir = jobs_dir / job.spec.name;
    if (std::filesystem::exists(dir / "DONE")) {
      ++out.done_before;
      continue;
    }
    if (lead) {
      std::cout << "[" << suite.name << "] job " << index << "/" << suite.jobs.size() << ": "
                << job.spec.name << "\n" << std::flush;
    }
    try {
      if (lead) claim_job_dir(dir, spec_to_toml(job.spec));
      const JobResult r = train_job(job.spec, dir, comm, hooks);
      if (r.preempted) {
        out.preempted = true;
        break;
      }
      if (lead) {
        write_file_atomic(dir / "DONE",
                          "{\"epochs\": " + std::to_string(r.epochs) +
                              ", \"final_test_acc\": " + json_number(r.final_test_acc) +
                              ", \"peak_test_acc\": " + json_number(r.peak_test_acc) + "}\n");
      }
      ++out.trained;
    } catch (const Error& e) {
      if (comm.size() > 1) throw;
      out.failures.push_back(job.spec.name + ": " + e.what());
      if (lead) std::cerr << "ipm-dist: job " << job.spec.name << " failed: " << e.what() << "\n";
    }
  }
  return out;
}

}  // namespace ipm
