// Graceful stop on SIGUSR1/SIGTERM (Slurm's preemption warning, a time limit, scancel) and
// on a first Ctrl-C: the handler only sets a flag; training reads it at step boundaries.
// defines: ipm::install_stop_handlers, ipm::announce_interrupts, ipm::request_stop,
//          ipm::stop_requested, ipm::clear_stop_request, ipm::agree_to_stop
//
// A signal may reach some ranks of a job group and not others (or at different steps), so
// ranks decide together: agree_to_stop all-reduces the flag (max of one int64, ~µs on
// shared memory; see bench/README.md) and every rank of the group stops at the same step.
#pragma once

#include "dist/communicator.h"

namespace ipm {

// SIGUSR1 and SIGTERM set the flag (async-signal-safe: one lock-free atomic store);
// interrupted system calls restart (SA_RESTART). The first SIGINT (Ctrl-C) does the same
// and says "stopping after this step; Ctrl-C again to abort"; a second one kills the
// process at once. Call once, early in main.
void install_stop_handlers();

// Whether this process prints the Ctrl-C line (on by default; main turns it off on every
// rank but world rank 0, as a terminal's Ctrl-C reaches them all).
void announce_interrupts(bool on);

void request_stop();        // as if a signal had come (tests, hooks)
bool stop_requested();      // this process's flag
// A stop stays requested until the process exits (checkpoint, exit 75): nothing in ipm-dist
// clears it. Tests that stop a job and resume it in one process clear it in between
// (tests/trainer_driver_test.cc).
void clear_stop_request();

// True on every rank of `comm` when any of them has the flag set. A collective: every rank
// of the group must call it at the same points.
bool agree_to_stop(Communicator& comm);

}  // namespace ipm
