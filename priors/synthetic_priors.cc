// Prior sources that synthesize weak labels from ground truth (studies of the method):
// negative labels (§4.1) and partial label sets.
#include "priors/synthetic_priors.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "common/error.h"
#include "common/hash_rng.h"

namespace ipm {
namespace {

// The wrong labels of a sample with true label y, in a random order from its own stream.
std::vector<int64_t> shuffled_wrong_labels(int64_t y, int64_t num_classes, HashRng& rng) {
  std::vector<int64_t> wrong;
  wrong.reserve(static_cast<size_t>(num_classes - 1));
  for (int64_t l = 0; l < num_classes; ++l) {
    if (l != y) wrong.push_back(l);
  }
  for (size_t i = wrong.size(); i > 1; --i) std::swap(wrong[i - 1], wrong[rng.below(i)]);
  return wrong;
}

// Rows of 1 on the allowed labels, normalized. `allowed(i, row)` fills one row with 0/1.
template <typename Fill>
torch::Tensor uniform_over_allowed(const PriorInputs& in, int64_t num_classes,
                                   const std::string& what, Fill fill) {
  const int64_t b = static_cast<int64_t>(in.indices.size());
  IPM_CHECK(in.y.defined() && in.y.numel() == b,
            what << " needs ground-truth labels for the batch");
  const torch::Tensor y = in.y.to(torch::kInt64).contiguous();
  const int64_t* yp = y.data_ptr<int64_t>();
  torch::Tensor p = torch::zeros({b, num_classes}, torch::kFloat32);
  float* pp = p.data_ptr<float>();
  for (int64_t i = 0; i < b; ++i) {
    IPM_CHECK(yp[i] >= 0 && yp[i] < num_classes,
              what << ": sample " << in.indices[static_cast<size_t>(i)] << " has label "
                   << yp[i] << " outside 0.." << num_classes - 1);
    float* row = pp + i * num_classes;
    fill(in.indices[static_cast<size_t>(i)], yp[i], row);
    const float n = std::accumulate(row, row + num_classes, 0.0f);
    for (int64_t l = 0; l < num_classes; ++l) row[l] /= n;
  }
  return p;
}

}  // namespace

NegativePrior::NegativePrior(int64_t num_classes, int64_t k, uint64_t seed, double smoothing)
    : PriorSource(num_classes, smoothing), k_(k), seed_(seed) {
  IPM_CHECK(k >= 1 && k <= num_classes - 1,
            "prior.k = " << k << " is outside 1.." << num_classes - 1 << " for "
                         << num_classes << " classes");
}

torch::Tensor NegativePrior::raw_prior(const PriorInputs& in) const {
  return uniform_over_allowed(in, num_classes_, describe(),
                              [&](int64_t index, int64_t y, float* row) {
    HashRng rng(seed_, kStreamNegativePrior, static_cast<uint64_t>(index));
    const std::vector<int64_t> wrong = shuffled_wrong_labels(y, num_classes_, rng);
    std::fill(row, row + num_classes_, 1.0f);
    for (int64_t j = 0; j < k_; ++j) row[wrong[static_cast<size_t>(j)]] = 0.0f;
  });
}

std::string NegativePrior::describe() const {
  return "prior 'negative' (k = " + std::to_string(k_) + ")";
}

PartialPrior::PartialPrior(int64_t num_classes, double prob, uint64_t seed, double smoothing)
    : PriorSource(num_classes, smoothing), prob_(prob), seed_(seed) {
  IPM_CHECK(prob >= 0.0 && prob <= 1.0, "prior.prob = " << prob << " is outside [0, 1]");
}

torch::Tensor PartialPrior::raw_prior(const PriorInputs& in) const {
  return uniform_over_allowed(in, num_classes_, describe(),
                              [&](int64_t index, int64_t y, float* row) {
    HashRng rng(seed_, kStreamPartialPrior, static_cast<uint64_t>(index));
    for (int64_t l = 0; l < num_classes_; ++l) {
      const double u = rng.uniform();  // drawn for every l so each label has its own draw
      row[l] = (l == y || u < prob_) ? 1.0f : 0.0f;
    }
  });
}

std::string PartialPrior::describe() const { return "prior 'partial'"; }

}  // namespace ipm
