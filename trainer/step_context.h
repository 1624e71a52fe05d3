// What a training step needs and what an epoch of steps adds up to, shared by the per-image
// step (trainer.cc) and the pair step (pair_training.cc).
// defines: ipm::EpochSums, ipm::StepContext
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "dist/grad_reducer.h"
#include "io/h5_split.h"
#include "losses/implicit_losses.h"
#include "losses/normalizer.h"
#include "priors/prior_source.h"
#include "trainer/batch_slicer.h"
#include "trainer/job_spec.h"

namespace ipm {

// What one epoch's steps add up to on this rank.
struct EpochSums {
  double loss = 0.0;          // sum over steps of this rank's share of the batch loss
  int64_t correct_q = 0, correct_r = 0;
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
};

}  // namespace ipm
