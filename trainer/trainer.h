// Trains one job data-parallel over a communicator: the loop of ../shared/DESIGN.md, the one
// driver of every task (classification, ranking pairs, segmentation: trainer/task.h).
// defines: ipm::JobResult, ipm::train_job
//
// Each global batch (train.batch units, rows or pairs, of the seeded order) is split into contiguous slices,
// one per rank; a rank reads only its rows. Each rank's loss is sum_i loss_i / B over its
// slice, so summing gradients over ranks gives the gradient of the global mean, whatever the
// remainder. Writes into job_dir: metrics.jsonl, checkpoint.pt (every epoch, atomically),
// and resumes from checkpoint.pt when it is there. When a stop is requested (SIGUSR1/SIGTERM),
// the ranks agree on a step, checkpoint mid-epoch and return with preempted set; the next
// call resumes at that step and ends with the same metrics and parameters.
#pragma once

#include <filesystem>

#include "dist/communicator.h"
#include "trainer/job_spec.h"
#include "trainer/test_hooks.h"

namespace ipm {

struct JobResult {
  int64_t epochs = 0;
  double final_test_acc = 0.0, peak_test_acc = 0.0;
  bool preempted = false;  // stopped on request (trainer/stop_request.h), checkpoint written
};

// Throws ipm::Error for bad data, priors or settings, before the first step where it can.
// `hooks` inject failures for the end-to-end tests (trainer/test_hooks.h); none by default.
JobResult train_job(const JobSpec& spec, const std::filesystem::path& job_dir,
                    Communicator& comm, const TestHooks& hooks = {});

}  // namespace ipm
