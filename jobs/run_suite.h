// Runs the jobs of a suite into its output layout, skipping what is DONE.
// defines: ipm::SuiteOutcome, ipm::run_suite, ipm::validate_suite
//
// OUTPUT/suite.toml                 the resolved input
// OUTPUT/jobs/<job>/config.toml     the resolved job
// OUTPUT/jobs/<job>/metrics.jsonl   one line per epoch
// OUTPUT/jobs/<job>/checkpoint.pt   resume state
// OUTPUT/jobs/<job>/DONE            written last: the job is complete
#pragma once

#include <string>
#include <vector>

#include "dist/communicator.h"
#include "jobs/suite.h"

namespace ipm {

struct SuiteOutcome {
  int done_before = 0, trained = 0;
  std::vector<std::string> failures;  // "<job>: <error>"
};

// Opens every job's data and builds its prior, model shape and settings without training:
// throws ipm::Error for the first job that cannot run, naming it.
void validate_suite(const Suite& suite);

// Which jobs a group of ranks takes: job i belongs to group i % count. (Static round robin;
// the dynamic coordinator of the suites issue replaces it.)
struct GroupShare {
  int index = 0, count = 1;
};

// This group's jobs run one after another on `comm` (each data-parallel over all of the
// group's ranks). A job that fails is reported and the others still run; on a group of
// several ranks a failure is rethrown instead, since the ranks may have diverged (the
// caller aborts the world). dry_run lists the jobs and their state.
SuiteOutcome run_suite(const Suite& suite, Communicator& comm, bool dry_run,
                       GroupShare share = {});

}  // namespace ipm
