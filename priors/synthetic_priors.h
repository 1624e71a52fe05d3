// Prior sources synthesized from ground truth and a seed.
// defines: ipm::NegativePrior, ipm::PartialPrior
#pragma once

#include "priors/prior_source.h"

namespace ipm {

// k of the L-1 wrong labels are ruled out; uniform over the remaining L-k (§4.1).
class NegativePrior final : public PriorSource {
 public:
  NegativePrior(int64_t num_classes, int64_t k, uint64_t seed, double smoothing);

 private:
  torch::Tensor raw_prior(const PriorInputs& in) const override;
  std::string describe() const override;
  int64_t k_;
  uint64_t seed_;
};

// Candidate set = the true label + each wrong label with probability prob; uniform over it.
class PartialPrior final : public PriorSource {
 public:
  PartialPrior(int64_t num_classes, double prob, uint64_t seed, double smoothing);

 private:
  torch::Tensor raw_prior(const PriorInputs& in) const override;
  std::string describe() const override;
  double prob_;
  uint64_t seed_;
};

}  // namespace ipm
