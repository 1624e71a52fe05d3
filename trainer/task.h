// The kinds of training job and what each plugs into the one driver (trainer/trainer.h),
// the way nccl-tests plugs each collective into its common loop: the driver owns set-up,
// resume, the epoch loop, preemption, checkpoints and metrics.jsonl; a task says how to check
// a job, how to take one step on this rank's units of a global batch, and how an epoch's
// sums and an evaluation become metrics.
// defines: ipm::TaskKind, ipm::task_kind, ipm::TaskRun, ipm::Task, ipm::task_for
//
// classification  one label per image, per-image priors (trainer/classification_task.cc)
// ranking         pairs of images and the joint prior of Eq. 6 (trainer/pair_training.cc)
// segmentation    per-pixel labels and priors, the FCN (trainer/segmentation.cc)
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "io/h5_split.h"
#include "trainer/job_spec.h"
#include "trainer/metrics_log.h"
#include "trainer/step_context.h"

namespace ipm {

// One step's data for this rank, read from the split and converted on the host by
// TaskRun::load (possibly in a reader thread: trainer/batch_reader.h), for TaskRun::step.
struct Batch {
  std::vector<int64_t> units;       // this rank's units of the global batch
  std::vector<torch::Tensor> t;     // the task's tensors (x in the model's layout and dtype, ...)
};

enum class TaskKind { kClassification, kRanking, kSegmentation };

// The one place a job's kind is decided: per-pixel labels in the training split ([N, H, W],
// read from the file header) make segmentation; prior.kind = "ranking" makes ranking.
TaskKind task_kind(const JobSpec& spec);

// A task set up for one job (data open, priors built): what the driver calls each step and
// each epoch. Not thread-safe; one per job and rank.
class TaskRun {
 public:
  virtual ~TaskRun() = default;
  // How many units an epoch permutes (training rows, or pairs); train.batch counts units.
  virtual int64_t units() const = 0;
  // Whether a unit is one training row (so a chunk-aware order saves reads; not for pairs).
  virtual bool units_are_rows() const { return true; }
  // Images one unit holds (2 for a pair): samples_per_s counts images.
  virtual int64_t images_per_unit() const { return 1; }
  // Length of EpochSums::values: the loss first, then the task's counts.
  virtual int64_t sum_fields() const = 0;
  // Reads and converts this rank's units of a global batch (c.mine.size() of them) from
  // `train`: everything that touches the file, so that it can run ahead in another thread.
  // Must not change the TaskRun (it runs while step computes the previous batch).
  virtual Batch load(const H5Split& train, const std::vector<int64_t>& units,
                     torch::ScalarType dtype) const = 0;
  // One step on a loaded batch: forward, loss, apply_step, and this rank's additions to
  // `sums` (float64 [sum_fields()] on the device: added to, never read, so no step waits
  // for the previous one). Returns this rank's share of the batch loss (a detached scalar
  // on the device), which it has added to sums[0]. Reads nothing from the data file.
  virtual torch::Tensor step(StepContext& c, const Batch& b, torch::Tensor& sums) = 0;
  // After an epoch: the task's metrics from the sums all-reduced over ranks (`sums`, of
  // `steps` steps), evaluating the model where it must. A collective. The driver fills
  // loss, peak and timing fields.
  virtual void evaluate(StepContext& c, const H5Split& test, const double* sums, int64_t steps,
                        EpochMetrics& m) = 0;
};

struct Task {
  const char* name;
  // Every check that can fail before training (data, priors, model, settings); throws
  // ipm::Error naming the file, key or value. Cheap enough to run for every job of a suite.
  void (*check)(const JobSpec& spec);
  // Builds the job's task state over training rows [0, n) of `train`.
  std::unique_ptr<TaskRun> (*open)(const JobSpec& spec, const H5Split& train, int64_t n);
};

const Task& task_for(TaskKind kind);

// The tasks' entries (each task's file defines its own).
extern const Task kClassificationTask, kRankingTask, kSegmentationTask;

}  // namespace ipm
