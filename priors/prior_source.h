// Prior beliefs p_i(l) for a batch: where weak supervision enters training.
// defines: ipm::PriorKind, ipm::PairTies, ipm::PairSource, ipm::PriorSpec, ipm::PriorInputs, ipm::PriorSource, ipm::make_prior_source
//
// Every source is deterministic in (seed, sample index): the same sample gets the same prior
// on every epoch, rank and restart, whatever batch it lands in.
//   negative  k wrong labels ruled out, uniform over the other L - k (§4.1)
//   partial   a candidate set: the true label plus each wrong label with probability `prob`
//             (the uniform-flipping generator of partial-label learning), uniform over it
//   stored    rows of /<split>/prior in the data file (another model's output, §4.4-4.5)
//   ranking   joint priors over pairs of rows (§4.2, priors/pair_prior.h): no per-row prior;
//             the trainer's pair step (trainer/pair_training.h) builds them per batch
//   coarse    per-pixel p(l | c) from coarse block labels (priors/coarse_prior.h); built by
//             the segmentation trainer (trainer/segmentation.h), not by make_prior_source
// `smoothing` eps > 0 applies p <- (p + eps) / (1 + L eps) after any source (App. E.1.3).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/enum_names.h"
#include "common/pair_normalization.h"

namespace ipm {

enum class PriorKind { kNegative, kPartial, kStored, kRanking, kCoarse };
inline const std::vector<EnumName<PriorKind>>& enum_names(PriorKind) {
  static const std::vector<EnumName<PriorKind>> names = {
      {PriorKind::kNegative, "negative"}, {PriorKind::kPartial, "partial"},
      {PriorKind::kStored, "stored"},     {PriorKind::kRanking, "ranking"},
      {PriorKind::kCoarse, "coarse"}};
  return names;
}

// ranking: the prior of a pair whose two rows have equal labels.
enum class PairTies { kTriangle, kDiagonal };
inline const std::vector<EnumName<PairTies>>& enum_names(PairTies) {
  static const std::vector<EnumName<PairTies>> names = {{PairTies::kTriangle, "triangle"},
                                                        {PairTies::kDiagonal, "diagonal"}};
  return names;
}

// ranking: pairs drawn from y by the seed, or read from /<split>/pairs.
enum class PairSource { kSeeded, kFile };
inline const std::vector<EnumName<PairSource>>& enum_names(PairSource) {
  static const std::vector<EnumName<PairSource>> names = {{PairSource::kSeeded, "seeded"},
                                                          {PairSource::kFile, "file"}};
  return names;
}

struct PriorSpec {
  PriorKind kind = PriorKind::kNegative;
  int64_t k = 1;                  // negative: wrong labels per sample, 1..L-1
  double prob = 0.5;              // partial: chance each wrong label joins the set
  double smoothing = 0.0;         // additive smoothing eps (0 = none)
  double blur = 0.0;              // coarse: Gaussian blur sigma in pixels (0 = none)
  uint64_t seed = 0;              // which random labels; the job's train.seed by default
  int64_t pairs = 0;              // ranking: number of pairs (0 = floor(rows / 2))
  PairTies ties = PairTies::kTriangle;  // ranking: prior of an "equal" pair
  PairNormalization pair_normalizer = PairNormalization::kPosition;  // ranking: Eq. 6's Za, Zb
  PairSource pair_source = PairSource::kSeeded;  // ranking: from y, or /<split>/pairs
};

// What a source may read for one batch. y is ground truth: sources that synthesize weak
// labels from it (negative, partial) are studies of the method; the loss never sees y.
struct PriorInputs {
  const std::vector<int64_t>& indices;  // sample index in the split, [B]
  const torch::Tensor& y;               // int64 [B]
  const torch::Tensor& stored;          // float [B, L] from /prior, or undefined
};

class PriorSource {
 public:
  virtual ~PriorSource() = default;
  // float32 [B, L], validated: finite, non-negative, rows summing to 1.
  torch::Tensor prior(const PriorInputs& in) const;
  virtual bool needs_stored() const { return false; }
  int64_t num_classes() const { return num_classes_; }

 protected:
  PriorSource(int64_t num_classes, double smoothing)
      : num_classes_(num_classes), smoothing_(smoothing) {}
  virtual torch::Tensor raw_prior(const PriorInputs& in) const = 0;
  virtual std::string describe() const = 0;  // names the source in error messages

  int64_t num_classes_;
  double smoothing_;
};

// Validates the spec against the number of classes; throws ipm::Error naming the key.
std::unique_ptr<PriorSource> make_prior_source(const PriorSpec& spec, int64_t num_classes);

}  // namespace ipm
