// Stops a job whose training has gone bad: a non-finite or diverged loss, or non-finite
// parameters. Without it a NaN trains on silently and the job is counted as a result.
// defines: ipm::JobFailed, ipm::FiniteGuard, ipm::agree_before_step
//
// "Diverged": this rank's mean loss over its rows of a step is above 1000 · log L (L =
// num_classes; log L is what CE and NLL score for a uniform q, and QR/RQ start below it).
// A loss that high means logit gaps in the thousands, which float32 softmax training does
// not come back from; a well-behaved run stays within a few log L.
//
// Every rank of a group decides at the same step: the check rides on the per-step
// all-reduce the group already does for stop requests (4 doubles instead of 1 int64), so it
// adds no synchronisation, and all ranks throw JobFailed together — a failure the suite can
// survive (it goes on with other jobs), unlike an error on one rank (MPI_Abort).
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"
#include "dist/communicator.h"

namespace ipm {

// A job failure raised on every rank of its group at the same point (the ranks are still in
// step): the suite records it and continues.
class JobFailed : public Error {
 public:
  explicit JobFailed(const std::string& what) : Error(what) {}
};

class FiniteGuard {
 public:
  // hint names the likely cause for the message, e.g. "train.lr = 10".
  FiniteGuard(int64_t num_classes, std::string hint);

  double bound() const { return bound_; }  // the divergence threshold on a step's mean loss

  // After each step (local: the loss is read one step late, trainer/trainer.cc). share: this
  // rank's share of the global batch loss; ranks: the group size (share · ranks is this
  // rank's mean). step counts from 1 within the epoch; the first bad one is named.
  void note_step(double share, int ranks, int64_t epoch, int64_t step);

  // After an epoch: its mean loss and the parameters' norm (both the same on every rank).
  void note_epoch(double mean_loss, double param_norm);

  // Folds this rank's verdict into an all-reduce on comm together with `stop`; returns
  // whether any rank asked to stop. Throws JobFailed on every rank when any rank saw a bad
  // value. A collective.
  bool agree(Communicator& comm, bool stop);

 private:
  double bound_;
  std::string hint_;
  int64_t epoch_ = 0, step_ = 0;     // of the last step noted
  bool nonfinite_ = false, diverged_ = false, bad_params_ = false;
  double worst_ = 0.0;               // largest finite |mean loss| seen since the last agree
};

// The per-step collective of a training loop: stop request and guard in one all-reduce.
bool agree_before_step(Communicator& comm, FiniteGuard& guard);

}  // namespace ipm
