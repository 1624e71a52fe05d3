#include "trainer/finite_guard.h"

#include <cmath>
#include <sstream>
#include <utility>

#include "trainer/stop_request.h"

namespace ipm {

constexpr double kDivergenceFactor = 1000.0;  // times log L: see the header

FiniteGuard::FiniteGuard(int64_t num_classes, std::string hint)
    : bound_(kDivergenceFactor * std::log(static_cast<double>(std::max<int64_t>(num_classes, 2)))),
      hint_(std::move(hint)) {}

void FiniteGuard::note_step(double share, int ranks, int64_t epoch, int64_t step) {
  // The first bad step is the one to name: the driver notes a step's loss one step late, so
  // another step may be noted before the group agrees.
  if (nonfinite_ || diverged_) return;
  epoch_ = epoch;
  step_ = step;
  const double mean = share * ranks;
  if (!std::isfinite(mean)) {
    nonfinite_ = true;
  } else if (std::abs(mean) > bound_) {
    diverged_ = true;
    worst_ = std::max(worst_, std::abs(mean));
  }
}

void FiniteGuard::note_epoch(double mean_loss, double param_norm) {
  if (!std::isfinite(mean_loss)) nonfinite_ = true;
  if (!std::isfinite(param_norm)) bad_params_ = true;
}

bool FiniteGuard::agree(Communicator& comm, bool stop) {
  // [stop, rank+1 with a non-finite value, rank+1 with a diverged loss, worst |loss|]
  const double me = comm.rank() + 1;
  torch::Tensor v = torch::tensor({stop ? 1.0 : 0.0, nonfinite_ || bad_params_ ? me : 0.0,
                                   diverged_ ? me : 0.0, worst_}, torch::kFloat64);
  if (comm.size() > 1) comm.allreduce_max(v);
  const int64_t nonfinite_rank = static_cast<int64_t>(v[1].item<double>()) - 1;
  const int64_t diverged_rank = static_cast<int64_t>(v[2].item<double>()) - 1;
  if (nonfinite_rank < 0 && diverged_rank < 0) return v[0].item<double>() != 0.0;
  std::ostringstream m;
  if (nonfinite_rank >= 0) {
    m << (bad_params_ ? "non-finite parameters" : "non-finite loss (NaN or Inf)");
  } else {
    m << "diverged: loss " << v[3].item<double>() << " above " << bound_ << " (1000 log L)";
  }
  m << " at epoch " << epoch_ << ", step " << step_ << " on rank "
    << (nonfinite_rank >= 0 ? nonfinite_rank : diverged_rank)
    << "; stopped there, the checkpoint of the last finished epoch is kept. Likely cause: "
    << (nonfinite_rank >= 0 ? "the learning rate (" + hint_ + ") or NaN/Inf in the data or priors"
                            : "the learning rate is too high (" + hint_ + ")");
  throw JobFailed(m.str());
}

bool agree_before_step(Communicator& comm, FiniteGuard& guard) {
  return guard.agree(comm, stop_requested()) ? (request_stop(), true) : false;
}

}  // namespace ipm
