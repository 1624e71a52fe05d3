// Trains one job data-parallel over a communicator: the loop of ../shared/DESIGN.md.
// defines: ipm::JobResult, ipm::train_job
//
// Each global batch (train.batch rows of the seeded order) is split into contiguous slices,
// one per rank; a rank reads only its rows. Each rank's loss is sum_i loss_i / B over its
// slice, so summing gradients over ranks gives the gradient of the global mean, whatever the
// remainder. Writes into job_dir: metrics.jsonl, checkpoint.pt (every epoch, atomically),
// and resumes from checkpoint.pt when it is there.
#pragma once

#include <filesystem>

#include "dist/communicator.h"
#include "trainer/job_spec.h"

namespace ipm {

struct JobResult {
  int64_t epochs = 0;
  double final_test_acc = 0.0, peak_test_acc = 0.0;
};

// Throws ipm::Error for bad data, priors or settings, before the first step where it can.
JobResult train_job(const JobSpec& spec, const std::filesystem::path& job_dir,
                    Communicator& comm);

}  // namespace ipm
