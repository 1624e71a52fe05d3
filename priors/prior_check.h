// Validation and smoothing of prior rows, shared by every source and by `pack`.
// defines: ipm::validate_prior, ipm::smooth_prior, ipm::kPriorSumTolerance
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace ipm {

// float32 rows are summed in float64; stored priors carry float32 rounding.
constexpr double kPriorSumTolerance = 1e-4;

// Throws ipm::Error "<where>: sample <index>: <what>" for the first bad row of p [B, L]:
// wrong shape, non-finite, negative, all zero, or a sum off 1 by more than the tolerance.
// `indices` (may be empty) maps rows to sample indices for the message.
void validate_prior(const torch::Tensor& p, int64_t num_classes, const std::string& where,
                    const std::vector<int64_t>& indices = {});

// p <- (p + eps) / (1 + L eps): keeps rows summing to 1, lifts zeros to eps / (1 + L eps).
torch::Tensor smooth_prior(const torch::Tensor& p, double eps);

}  // namespace ipm
