// Resume state of a job: written after every epoch (and mid-epoch when a stop is requested),
// read back on restart.
// defines: ipm::TrainState, ipm::save_checkpoint, ipm::load_checkpoint
//
// Resume is exact: data order and priors are functions of (seed, epoch, index), so model,
// optimizer state, the ema normalizer's running mean and step count and the epoch count are
// all there is; a mid-epoch checkpoint adds the steps done of the next epoch and each rank's
// partial sums.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "losses/normalizer.h"
#include "trainer/metrics_log.h"

namespace ipm {

struct TrainState {
  int64_t epochs_done = 0;
  std::vector<EpochMetrics> metrics;       // one per epoch done; metrics.jsonl is made from it
  EmaNormalizer::State ema;                // running mean undefined unless normalizer = ema
  int64_t steps_done = 0;                  // steps of epoch epochs_done + 1 already taken
  torch::Tensor partial;                   // [ranks, k] float64: each rank's sums so far
                                           // (undefined unless steps_done > 0)
};

// Written to a temporary file and renamed: a crash leaves the previous checkpoint intact.
void save_checkpoint(const std::filesystem::path& file, torch::nn::Module& model,
                     torch::optim::Optimizer& opt, const TrainState& state);

// Loads into model and optimizer (built as for a fresh run). Throws ipm::Error naming the
// file when it is unreadable or was written for a different model.
TrainState load_checkpoint(const std::filesystem::path& file, torch::nn::Module& model,
                           torch::optim::Optimizer& opt);

}  // namespace ipm
