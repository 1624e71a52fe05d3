// Runs the jobs of a suite into its output layout, skipping what is DONE.
// defines: ipm::SuiteOutcome, ipm::run_suite, ipm::validate_suite
//
// OUTPUT/suite.toml                 the resolved input
// OUTPUT/jobs/<job>/config.toml     the resolved job
// OUTPUT/jobs/<job>/metrics.jsonl   one line per epoch
// OUTPUT/jobs/<job>/checkpoint.pt   resume state
// OUTPUT/jobs/<job>/DONE            written last: the job is complete
// OUTPUT/jobs/<job>/lock            flock(2)ed by the launcher training the job (job_lock.h)
#pragma once

#include <string>
#include <vector>

#include "dist/communicator.h"
#include "dist/work_counter.h"
#include "jobs/suite.h"
#include "trainer/test_hooks.h"

namespace ipm {

// The part of a suite one Slurm array task trains: jobs j (0-based, in suite order) with
// j % count == index. The default is the whole suite.
struct JobSlice {
  int64_t index = 0, count = 1;
  bool contains(int64_t j) const { return j % count == index; }
};

// "I/N" (as `ipm-dist run --slice` takes it); throws ipm::Error unless 0 <= I < N.
JobSlice parse_job_slice(const std::string& text);

struct SuiteOutcome {
  int done_before = 0, trained = 0;
  std::vector<std::string> failures;  // "<job>: <error>"
  bool preempted = false;  // a stop was requested: the job in hand was checkpointed
};

// Opens every job's data and builds its prior, model shape and settings without training,
// and reads every label and float image of its splits (io/split_check.h): throws ipm::Error
// for the first job that cannot run, naming it.
void validate_suite(const Suite& suite);

// Jobs are taken from `counter` (shared by every group of the run) until it runs past the
// last job: the group's rank 0 takes a number and broadcasts it, and the group trains that
// job data-parallel on `comm`. DONE jobs are skipped, so a rerun finishes what is missing.
// Rank 0 alone looks at DONE and the job's lock and broadcasts what it found. A job locked
// by another launcher sharing the output is passed over, then waited for after the last
// job (polling its lock every 0.5 s, stop requests honoured) and trained here if the other
// launcher left it unfinished (a job that failed there fails here too, after a second try):
// every launcher returns with the whole suite done or failed, and prints the same summary.
// A job that fails is reported and the others still run; on a group of several ranks a
// failure is rethrown instead, since the ranks may have diverged (the caller aborts the
// world) — except JobFailed (a NaN or diverged loss, trainer/finite_guard.h), which every
// rank of the group throws at the same step. dry_run lists the jobs and their state and trains nothing. When a stop is
// requested (trainer/stop_request.h) the group checkpoints the job in hand, takes no more
// and returns with preempted set; a rerun resumes it.
// `hooks` go to every job's train_job (failure injection for the end-to-end tests).
SuiteOutcome run_suite(const Suite& suite, Communicator& comm, WorkCounter& counter,
                       bool dry_run, JobSlice slice = {}, const TestHooks& hooks = {});

}  // namespace ipm
