// Failure injection for the end-to-end tests, read from the environment (unset in normal
// runs: each check is one getenv per epoch).
// defines: ipm::test_hook_value
//   IPM_TEST_ABORT_AFTER_EPOCH=e  abort() right after epoch e is saved (a hard crash)
//   IPM_TEST_FAIL_RANK=r          rank r throws in the first step of epoch 2 (a rank's error)
//   IPM_TEST_REVERSE_RANKING=1    ranking jobs train with every triangle of Eq. 6 transposed
//                                 (a deliberately wrong joint prior; tests/e2e/ranking_test.sh)
//   IPM_TEST_STOP_AT_STEP=s       rank 0 of a group requests a stop (as SIGUSR1 would) before
//                                 step s of each job, counted from 0 over all epochs
//   IPM_TEST_FAKE_DONE_RANK=r     rank r of each group sees every job as DONE (only the
//                                 group's rank 0 reads DONE: jobs/run_suite.cc)
#pragma once

#include <cstdlib>

namespace ipm {

inline long long test_hook_value(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : -1;
}

}  // namespace ipm
