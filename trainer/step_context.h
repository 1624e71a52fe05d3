// What a training step needs and what an epoch of steps adds up to, shared by the driver
// (trainer.cc) and the tasks' steps (trainer/task.h).
// defines: ipm::EpochSums, ipm::StepContext, ipm::on_device, ipm::apply_step
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "dist/communicator.h"
#include "dist/grad_reducer.h"
#include "io/h5_split.h"
#include "losses/implicit_losses.h"
#include "losses/normalizer.h"
#include "trainer/batch_slicer.h"
#include "trainer/finite_guard.h"
#include "trainer/job_spec.h"
#include "trainer/test_hooks.h"

namespace ipm {

// What one epoch's steps add up to on this rank: values[0] is the sum over steps of this
// rank's share of the batch loss, the rest are the task's counts (Task::sum_fields in all).
// Counts are held as doubles: exact up to 2^53, and all-reduced as they are. While the
// steps run they add up in a float64 tensor on the device (trainer.cc), read here once at the
// epoch's end or a stop.
struct EpochSums {
  std::vector<double> values;
  int64_t steps_done = 0;     // fewer than the epoch's steps when training stopped early
  double train_s = 0.0;       // of steps before a mid-epoch resume (timing only)
  // The data path of this run's steps only (not carried across a mid-epoch resume).
  double read_wait_s = 0.0;   // the training thread's total wait for batches
  int64_t read_bytes = 0;     // bytes read from the data file
};

// Everything a training step needs, set up once per job.
struct StepContext {
  const TrainSpec& t;
  const H5Split& train;
  LossKind loss_kind;  // of the current epoch (train.pretrain_loss, then train.loss)
  Normalizer& normalizer;
  torch::nn::AnyModule& model;
  torch::optim::Optimizer& opt;
  GradReducer& reducer;
  RankSlice mine;  // this rank's units (rows, or pairs for ranking) of every global batch
  torch::ScalarType dtype;
  Communicator& comm;
  const TestHooks& hooks;
  FiniteGuard* guard = nullptr;  // the job's: every step's loss is noted in it
  int64_t epoch = 0;             // the epoch being trained (1-based), for the guard's message
};

// A batch tensor (trainer/task.h's Batch) on the step's device. On a GPU the reader's
// batches are in pinned host memory (trainer.cc), so the copy is queued without the host
// waiting for it; the caching host allocator keeps the pinned block until the copy is done,
// even when the Batch is freed first. On the CPU this is the tensor itself.
inline torch::Tensor on_device(const StepContext& c, const torch::Tensor& t) {
  return t.to(t.options().device(c.comm.device()), /*non_blocking=*/true);
}

// One optimizer step on this rank's share of the global mean loss: gradients are summed
// over ranks. Returns the loss, detached and where it was computed: nothing waits for the
// step to finish here.
inline torch::Tensor apply_step(StepContext& c, const torch::Tensor& loss) {
  c.opt.zero_grad();
  loss.backward();
  c.reducer.sum_gradients();  // each rank's loss is its share of the global mean
  c.opt.step();
  return loss.detach();
}

}  // namespace ipm
