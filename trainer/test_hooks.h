// Failure injection for the end-to-end tests: seams the driver (trainer/trainer.h) and the
// suite runner take as an argument. Only tools/ipm_dist_main.cc fills them, from IPM_TEST_*
// variables of the test scripts; every other caller passes the defaults (no hook).
// defines: ipm::TestHooks
#pragma once

#include <cstdint>

namespace ipm {

struct TestHooks {
  int64_t abort_after_epoch = -1;  // abort() right after this epoch is saved (a hard crash)
  int64_t fail_rank = -1;          // this rank throws before the first step of epoch 2
  bool reverse_ranking = false;    // ranking jobs train with every triangle of Eq. 6
                                   // transposed (a deliberately wrong joint prior)
  int64_t stop_at_step = -1;       // rank 0 of a group requests a stop (as SIGUSR1 would)
                                   // before this step of each job, counted from 0 over epochs
  int64_t fake_done_rank = -1;     // this rank of each group sees every job as DONE (only
                                   // the group's rank 0 reads DONE: jobs/run_suite.cc)
  int64_t step_delay_ms = -1;      // every step first sleeps this long: a test that signals
                                   // a run mid-job then cannot lose the race to a fast machine
};

}  // namespace ipm
