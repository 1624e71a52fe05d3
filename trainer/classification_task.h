// The tasks with one label per image: classification (per-image priors) and, sharing its
// checks and metrics, ranking (trainer/pair_training.h).
// defines: ipm::check_image_job, ipm::ImageTaskRun
//
// Sums per rank: loss, correct_q, correct_r (argmax of q, of r, against y, over the images
// of the steps). Metrics: train_acc_r from the running counts; train_acc from them too with
// train.train_eval = "running", else a full pass over the training rows; test_acc a pass over
// the test split. Each pass gives every rank a contiguous block and all-reduces the counts.
#pragma once

#include <cstdint>

#include "trainer/task.h"

namespace ipm {

// The checks of classification and ranking jobs (ranking's own through check_ranking_job).
void check_image_job(const JobSpec& spec);

class ImageTaskRun : public TaskRun {
 public:
  explicit ImageTaskRun(int64_t n) : n_(n) {}
  int64_t sum_fields() const override { return 3; }  // loss, correct_q, correct_r
  void evaluate(StepContext& c, const H5Split& test, const double* sums, int64_t steps,
                EpochMetrics& m) override;

 protected:
  int64_t n_;  // training rows in use
};

}  // namespace ipm
