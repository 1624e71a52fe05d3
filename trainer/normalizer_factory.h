// train.normalizer -> the Normalizer for a job on a communicator.
// defines: ipm::make_normalizer, ipm::ema_state, ipm::set_ema_state
#pragma once

#include <memory>

#include "dist/communicator.h"
#include "losses/normalizer.h"
#include "trainer/job_spec.h"

namespace ipm {

// local: this rank's rows (the paper's Fig. 2 per rank); global: the whole global batch,
// all-reduced; ema: a running mean over past global batches beside this one
// (train.ema_decay, ema_samples, ema_warmup).
std::unique_ptr<Normalizer> make_normalizer(const TrainSpec& t, Communicator& comm);

// The ema normalizer's state (checkpointed); an undefined running mean for the others.
EmaNormalizer::State ema_state(const Normalizer& n);
void set_ema_state(Normalizer& n, const EmaNormalizer::State& s);

}  // namespace ipm
