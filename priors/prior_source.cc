#include "priors/prior_source.h"

#include <cmath>

#include "common/error.h"
#include "priors/pair_prior.h"
#include "priors/prior_check.h"
#include "priors/synthetic_priors.h"

namespace ipm {
namespace {

// Rows of /<split>/prior, as read by io/ with the batch.
class StoredPrior final : public PriorSource {
 public:
  StoredPrior(int64_t num_classes, double smoothing) : PriorSource(num_classes, smoothing) {}
  bool needs_stored() const override { return true; }

 private:
  torch::Tensor raw_prior(const PriorInputs& in) const override {
    IPM_CHECK(in.stored.defined(), describe() << ": the data file has no prior dataset");
    return in.stored.to(torch::kFloat32);
  }
  std::string describe() const override { return "prior 'stored'"; }
};

// Ranking priors are joint over pairs; asking one for per-row priors is a programming error
// (the trainer dispatches ranking jobs to its pair step).
class RankingPrior final : public PriorSource {
 public:
  RankingPrior(int64_t num_classes, double smoothing) : PriorSource(num_classes, smoothing) {}

 private:
  torch::Tensor raw_prior(const PriorInputs&) const override {
    throw Error(describe() + " gives joint priors over pairs, not per-row priors");
  }
  std::string describe() const override { return "prior 'ranking'"; }
};

}  // namespace

torch::Tensor PriorSource::prior(const PriorInputs& in) const {
  const torch::Tensor raw = raw_prior(in);
  // Validate before smoothing: smoothing would hide an all-zero or negative stored row.
  validate_prior(raw, num_classes_, describe(), in.indices);
  return smooth_prior(raw, smoothing_);
}

std::unique_ptr<PriorSource> make_prior_source(const PriorSpec& spec, int64_t num_classes) {
  IPM_CHECK(num_classes >= 2, "priors need at least 2 classes, the data has " << num_classes);
  IPM_CHECK(std::isfinite(spec.smoothing) && spec.smoothing >= 0.0,
            "prior.smoothing = " << spec.smoothing << " must be a finite number >= 0");
  switch (spec.kind) {
    case PriorKind::kNegative:
      return std::make_unique<NegativePrior>(num_classes, spec.k, spec.seed, spec.smoothing);
    case PriorKind::kPartial:
      return std::make_unique<PartialPrior>(num_classes, spec.prob, spec.seed, spec.smoothing);
    case PriorKind::kStored: return std::make_unique<StoredPrior>(num_classes, spec.smoothing);
    case PriorKind::kRanking:
      check_ranking_spec(spec);
      return std::make_unique<RankingPrior>(num_classes, spec.smoothing);
    case PriorKind::kCoarse: break;
  }
  throw Error("prior.kind = \"coarse\" needs per-pixel labels: a data file whose /train/y is "
              "[N, H, W] (segmentation, e.g. from `ipm-dist pack lsr`)");
}

}  // namespace ipm
