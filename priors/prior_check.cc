#include "priors/prior_check.h"

#include <cmath>

#include "common/error.h"

namespace ipm {

void validate_prior(const torch::Tensor& p, int64_t num_classes, const std::string& where,
                    const std::vector<int64_t>& indices) {
  IPM_CHECK(p.dim() == 2 && p.size(1) == num_classes,
            where << ": prior has shape " << p.sizes() << ", expected [B, " << num_classes
                  << "]");
  IPM_CHECK(indices.empty() || static_cast<int64_t>(indices.size()) == p.size(0),
            where << ": " << p.size(0) << " prior rows for " << indices.size() << " samples");
  const torch::Tensor d = p.to(torch::kFloat64).contiguous();
  const double* v = d.data_ptr<double>();
  const int64_t rows = d.size(0), cols = d.size(1);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t sample = indices.empty() ? i : indices[static_cast<size_t>(i)];
    double sum = 0.0;
    for (int64_t l = 0; l < cols; ++l) {
      const double x = v[i * cols + l];
      IPM_CHECK(std::isfinite(x), where << ": sample " << sample << ": prior[" << l
                                        << "] is not finite (" << x << ")");
      IPM_CHECK(x >= 0.0, where << ": sample " << sample << ": prior[" << l
                                << "] is negative (" << x << ")");
      sum += x;
    }
    IPM_CHECK(sum > 0.0, where << ": sample " << sample << ": prior is all zero");
    IPM_CHECK(std::abs(sum - 1.0) <= kPriorSumTolerance,
              where << ": sample " << sample << ": prior sums to " << sum << ", not 1");
  }
}

torch::Tensor smooth_prior(const torch::Tensor& p, double eps) {
  IPM_CHECK(eps >= 0.0 && std::isfinite(eps), "prior.smoothing must be >= 0, got " << eps);
  if (eps == 0.0) return p;
  return (p + eps) / (1.0 + static_cast<double>(p.size(1)) * eps);
}

}  // namespace ipm
