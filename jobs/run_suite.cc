#include "jobs/run_suite.h"

#include <fstream>
#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"
#include "io/h5_split.h"
#include "io/split_check.h"
#include "jobs/config_schema.h"
#include "jobs/job_lock.h"
#include "trainer/finite_guard.h"  // JobFailed
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

// What the group's rank 0 found for a job; every rank acts on its answer (broadcast), since
// ranks may see a shared filesystem differently (NFS attribute caching): ranks deciding
// DONE each for themselves could split a group and hang its collectives.
enum class ClaimState : int64_t { kTrain = 0, kDone = 1, kElsewhere = 2, kError = 3 };

// Rank 0 takes the job's lock (jobs/job_lock.h), then looks for DONE: in that order, so a
// job another launcher finishes in between is seen as DONE. `lock` holds the lock on rank 0
// when the answer is kTrain. fake_done_rank: test hook, that rank sees every job as DONE.
ClaimState claim_job(const std::filesystem::path& dir, Communicator& comm,
                     std::unique_ptr<JobLock>& lock, int64_t fake_done_rank) {
  ClaimState state = ClaimState::kTrain;
  std::string error;
  if (comm.rank() == 0) {
    try {
      lock = JobLock::try_acquire(dir);
      if (!lock) {
        state = ClaimState::kElsewhere;
      } else if (std::filesystem::exists(dir / "DONE") || fake_done_rank == 0) {
        lock.reset();
        state = ClaimState::kDone;
      }
    } catch (const Error& e) {
      error = e.what();
      state = ClaimState::kError;
    }
  }
  torch::Tensor t = torch::tensor({static_cast<int64_t>(state)}, torch::kInt64);
  comm.broadcast(t, 0);
  state = static_cast<ClaimState>(t.item<int64_t>());
  IPM_CHECK(state != ClaimState::kError,
            (error.empty() ? dir.string() + ": rank 0 of this group could not lock the job" : error));
  return state;
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
  std::set<std::pair<std::filesystem::path, std::string>> scanned;  // (file, split)
  for (const SuiteJob& job : suite.jobs) {
    try {
      check_job(job.spec);
      // Every label and float image of the job's splits, once per file and split.
      for (const std::string& split : {job.spec.data.train, job.spec.data.test}) {
        if (scanned.emplace(job.spec.data.file, split).second) {
          check_split_values(H5Split(job.spec.data.file, split, /*preload=*/false));
        }
      }
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
                            : job_locked(dir)                                ? "running"
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
  const auto say = [&](const std::string& line) {
    if (lead) std::cout << "[" << suite.name << "] " << line << "\n" << std::flush;
  };

  // One job, if this group may take it. false: stop (preempted).
  const auto attempt = [&](int64_t index, std::vector<int64_t>* held_elsewhere, bool quiet) {
    const SuiteJob& job = suite.jobs[static_cast<size_t>(index - 1)];
    const std::filesystem::path dir = jobs_dir / job.spec.name;
    std::unique_ptr<JobLock> lock;  // held by rank 0 while the group trains the job
    const ClaimState state = claim_job(dir, comm, lock, hooks.fake_done_rank);
    if (state == ClaimState::kDone) {
      ++out.done_before;
      return true;
    }
    if (state == ClaimState::kElsewhere) {
      held_elsewhere->push_back(index);
      if (!quiet) say("job " + std::to_string(index) + "/" + std::to_string(suite.jobs.size()) + ": " +
          job.spec.name + " is being trained by another launcher; waiting for it at the end");
      return true;
    }
    say("job " + std::to_string(index) + "/" + std::to_string(suite.jobs.size()) + ": " +
        job.spec.name);
    try {
      if (lead) claim_job_dir(dir, spec_to_toml(job.spec));
      const JobResult r = train_job(job.spec, dir, comm, hooks);
      if (r.preempted) return false;
      if (lead) {
        write_file_atomic(dir / "DONE",
                          "{\"epochs\": " + std::to_string(r.epochs) +
                              ", \"final_test_acc\": " + json_number(r.final_test_acc) +
                              ", \"peak_test_acc\": " + json_number(r.peak_test_acc) + "}\n");
      }
      ++out.trained;
    } catch (const JobFailed& e) {  // every rank of the group threw it at the same step
      out.failures.push_back(job.spec.name + ": " + e.what());
      if (lead) print_error_line("ipm-dist: job " + job.spec.name + " failed: " + e.what());
    } catch (const Error& e) {
      if (comm.size() > 1) throw;
      out.failures.push_back(job.spec.name + ": " + e.what());
      if (lead) print_error_line("ipm-dist: job " + job.spec.name + " failed: " + e.what());
    }
    return true;
  };

  const int64_t total = static_cast<int64_t>(suite.jobs.size());
  std::vector<int64_t> elsewhere;  // jobs another launcher was training when we came to them
  while (true) {
    torch::Tensor taken = torch::tensor({lead ? counter.next() : int64_t{0}}, torch::kInt64);
    comm.broadcast(taken, 0);
    const int64_t index = taken.item<int64_t>() + 1;
    if (index > total) break;  // all taken: a stop request now changes nothing (no requeue)
    if (agree_to_stop(comm)) {  // start no job that would be stopped at once
      out.preempted = true;
      return out;
    }
    if (!slice.contains(index - 1)) continue;  // another array task's job
    if (!attempt(index, &elsewhere, false)) {
      out.preempted = true;
      return out;
    }
  }
  // Jobs another launcher holds: wait until its lock goes (it finished, failed, was stopped
  // or killed), then take the job if it is not DONE, so every launcher ends with the whole
  // suite trained and the same summary. Each group waits only for the jobs it came across.
  for (const int64_t index : elsewhere) {
    say("waiting for " + suite.jobs[static_cast<size_t>(index - 1)].spec.name +
        " (locked by another launcher)");
    while (true) {
      if (agree_to_stop(comm)) {
        out.preempted = true;
        return out;
      }
      std::vector<int64_t> still;
      if (!attempt(index, &still, true)) {
        out.preempted = true;
        return out;
      }
      if (still.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(lead ? 500 : 0));
    }
  }
  return out;
}

}  // namespace ipm
