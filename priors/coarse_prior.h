// Per-pixel priors from coarse labels (§4.3, App. E.1.2-E.1.3): label super-resolution.
// defines: ipm::CoarsePrior, ipm::gaussian_kernel1d, ipm::gaussian_blur
//
// Each block of pixels carries one coarse class c (like NLCD's 30 m classes over 1 m
// imagery); a co-occurrence matrix gives p(l | c) for the fine classes l. The prior of
// pixel i is then
//   p_i(l) = smooth( blur( p(l | c(block of i)) ) )
// where blur is an optional Gaussian filter of standard deviation `blur` pixels over each
// class plane (E.1.2 blurs the one-hot coarse map and then multiplies by the co-occurrence
// matrix; both maps are linear and act on different axes, so blurring the remapped map is
// the same thing), and smooth is the additive smoothing p <- (p + eps) / (1 + L eps) of
// E.1.3 (eps = 1e-4 there). The blur's kernel sums to 1 and the border is padded by
// replicating edge pixels, so every blurred pixel is a convex combination of prior rows and
// still sums to 1.
//
// The co-occurrence matrix [C, L] may hold counts or probabilities: each row is normalized
// to p(. | c). Checked when built: shape, finite, non-negative, and no all-zero column (a
// class no coarse class ever gives probability to could never be learned). An all-zero row
// only matters where a block carries that coarse class: prior_map() then names it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace ipm {

class CoarsePrior {
 public:
  // cooccurrence [C, L] (any real type); `where` names it in errors ("file.h5:/cooccurrence").
  CoarsePrior(const torch::Tensor& cooccurrence, int64_t num_classes, double blur,
              double smoothing, std::string where);

  int64_t num_coarse() const { return conditional_.size(0); }
  // p(l | c) as float64 [C, L]; an all-zero input row stays all zero.
  const torch::Tensor& conditional() const { return conditional_; }

  // coarse int64 [B, h, w] (or [B]: one class for the whole image) -> float32 [B, L, H, W],
  // validated (finite, non-negative, summing to 1 at every pixel). Each coarse cell covers a
  // (H/h) x (W/w) block; the map must tile the image exactly. `indices` (may be empty) name
  // the samples in errors. `where_coarse` names the coarse dataset ("file.h5:/train/coarse").
  torch::Tensor prior_map(const torch::Tensor& coarse, int64_t height, int64_t width,
                          const std::vector<int64_t>& indices = {},
                          const std::string& where_coarse = "coarse map") const;

  // Checks labels and tiling only (no map built): what a job checks up front for a split.
  void check_coarse(const torch::Tensor& coarse, int64_t height, int64_t width,
                    const std::vector<int64_t>& indices, const std::string& where_coarse) const;

 private:
  torch::Tensor conditional_;  // float64 [C, L]
  std::vector<bool> row_empty_;
  int64_t num_classes_;
  double blur_, smoothing_;
  std::string where_;
};

// Normalized Gaussian weights exp(-k^2 / (2 sigma^2)) for k = -R..R, R = ceil(4 sigma)
// (scipy.ndimage's default truncation), float64 [2R + 1]. sigma > 0.
torch::Tensor gaussian_kernel1d(double sigma);

// Separable Gaussian blur of every channel of maps [B, K, H, W] (float), edge pixels
// replicated beyond the border. sigma = 0 returns the input.
torch::Tensor gaussian_blur(const torch::Tensor& maps, double sigma);

}  // namespace ipm
