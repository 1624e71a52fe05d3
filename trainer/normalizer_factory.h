// train.normalizer -> the Normalizer for a job on a communicator.
// defines: ipm::make_normalizer, ipm::ema_state, ipm::set_ema_state
#pragma once

#include <memory>
#include <string>

#include "dist/communicator.h"
#include "losses/normalizer.h"

namespace ipm {

// local: this rank's rows (the paper's Fig. 2 per rank); global: the whole global batch,
// all-reduced; ema: a running mean over past global batches mixed with this one.
std::unique_ptr<Normalizer> make_normalizer(const std::string& name, double ema_decay,
                                            Communicator& comm);

// The ema normalizer's running mean (checkpointed), or an undefined tensor for the others.
torch::Tensor ema_state(const Normalizer& n);
void set_ema_state(Normalizer& n, const torch::Tensor& running);

}  // namespace ipm
