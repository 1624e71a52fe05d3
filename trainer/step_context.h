// What a training step needs and what an epoch of steps adds up to, shared by the per-image
// step (trainer.cc) and the pair step (pair_training.cc).
// defines: ipm::EpochSums, ipm::StepContext, ipm::stop_before_step, ipm::note_step_loss
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "dist/communicator.h"
#include "dist/grad_reducer.h"
#include "io/h5_split.h"
#include "losses/implicit_losses.h"
#include "losses/normalizer.h"
#include "priors/prior_source.h"
#include "trainer/batch_slicer.h"
#include "trainer/finite_guard.h"
#include "trainer/job_spec.h"
#include "trainer/stop_request.h"

namespace ipm {

// What one epoch's steps add up to on this rank.
struct EpochSums {
  double loss = 0.0;          // sum over steps of this rank's share of the batch loss
  int64_t correct_q = 0, correct_r = 0;
  int64_t steps_done = 0;     // fewer than the epoch's steps when training stopped early
  double train_s = 0.0;       // of steps before a mid-epoch resume (timing only)
};

// Everything a training step needs, set up once per job.
struct StepContext {
  const TrainSpec& t;
  const H5Split& train;
  const PriorSource& priors;
  LossKind loss_kind;
  Normalizer& normalizer;
  torch::nn::AnyModule& model;
  torch::optim::Optimizer& opt;
  GradReducer& reducer;
  RankSlice mine;  // this rank's rows (pairs, for ranking) of every global batch
  torch::ScalarType dtype;
  Communicator& comm;
  long long stop_hook;  // IPM_TEST_STOP_AT_STEP: group rank 0 asks to stop before this step
  FiniteGuard* guard = nullptr;  // the job's; each step's loss is noted in it
  int64_t epoch = 0;             // the epoch being trained (1-based), for the guard's message
};

// After step s (0-based) of the epoch: the loss share just read, for the guard.
inline void note_step_loss(StepContext& c, double share, int64_t s) {
  c.guard->note_step(share, c.comm.size(), c.epoch, s + 1);
}

// Before step s of an epoch whose loop began at step `start` (0, or where a mid-epoch
// checkpoint left off) and whose first step is step `first_step` of the job: whether the
// group stops here (preemption), or throws JobFailed when a rank's last step went bad
// (trainer/finite_guard.h). A collective: every rank of the group calls it each step.
inline bool stop_before_step(StepContext& c, int64_t s, int64_t start, int64_t first_step) {
  // (not at the step a run resumes from: a rerun with the hook set would never advance)
  if (c.comm.rank() == 0 && first_step + s == c.stop_hook && (s > start || start == 0)) {
    request_stop();
  }
  return agree_before_step(c.comm, *c.guard);  // also throws JobFailed on a bad loss
}

}  // namespace ipm
