#include "priors/coarse_prior.h"

#include <cmath>
#include <utility>

#include "common/error.h"
#include "priors/prior_check.h"

namespace ipm {
namespace {

namespace F = torch::nn::functional;

// [B, h, w] view of the coarse labels; [B] becomes one cell per image.
torch::Tensor as_cells(const torch::Tensor& coarse, const std::string& where) {
  if (coarse.dim() == 1) return coarse.view({coarse.size(0), 1, 1});
  IPM_CHECK(coarse.dim() == 3,
            where << ": coarse labels must be [N] or [N, h, w], got " << coarse.sizes());
  return coarse;
}

int64_t sample_of(const std::vector<int64_t>& indices, int64_t b) {
  return indices.empty() ? b : indices[static_cast<size_t>(b)];
}

}  // namespace

CoarsePrior::CoarsePrior(const torch::Tensor& cooccurrence, int64_t num_classes, double blur,
                         double smoothing, std::string where)
    : num_classes_(num_classes), blur_(blur), smoothing_(smoothing), where_(std::move(where)) {
  IPM_CHECK(cooccurrence.defined() && cooccurrence.dim() == 2,
            where_ << ": co-occurrence matrix must be 2-D [coarse classes, " << num_classes
                   << "], got " << (cooccurrence.defined() ? cooccurrence.sizes()
                                                           : torch::IntArrayRef{}));
  IPM_CHECK(cooccurrence.size(1) == num_classes,
            where_ << ": co-occurrence matrix has shape " << cooccurrence.sizes()
                   << " but the data has " << num_classes
                   << " classes (expected [coarse classes, " << num_classes << "])");
  IPM_CHECK(cooccurrence.size(0) >= 1, where_ << ": co-occurrence matrix has no rows");
  IPM_CHECK(std::isfinite(blur) && blur >= 0.0, "prior.blur = " << blur << " must be >= 0");
  const torch::Tensor m = cooccurrence.to(torch::kFloat64).contiguous();
  IPM_CHECK(torch::isfinite(m).all().item<bool>(),
            where_ << ": co-occurrence matrix has non-finite entries");
  IPM_CHECK((m >= 0).all().item<bool>(), where_ << ": co-occurrence matrix has negative entries");
  const torch::Tensor col = m.sum(0);
  for (int64_t l = 0; l < num_classes; ++l) {
    IPM_CHECK(col[l].item<double>() > 0.0,
              where_ << ": column " << l << " of the co-occurrence matrix is all zero: no "
                     << "coarse class gives fine class " << l
                     << " any probability, so no pixel could ever be labeled " << l);
  }
  const torch::Tensor row = m.sum(1, /*keepdim=*/true);
  // Rows -> p(l | c); an all-zero row stays zero (checked where a block uses it).
  conditional_ = torch::where(row > 0, m / row.clamp_min(1e-300), torch::zeros_like(m));
  for (int64_t c = 0; c < m.size(0); ++c) row_empty_.push_back(row[c][0].item<double>() <= 0.0);
}

void CoarsePrior::check_coarse(const torch::Tensor& coarse, int64_t height, int64_t width,
                               const std::vector<int64_t>& indices,
                               const std::string& where_coarse) const {
  const torch::Tensor cells = as_cells(coarse, where_coarse);
  const int64_t h = cells.size(1), w = cells.size(2);
  IPM_CHECK(h > 0 && w > 0 && height % h == 0 && width % w == 0,
            where_coarse << ": a " << h << "x" << w << " coarse map does not tile the "
                         << height << "x" << width << " image (each coarse cell must cover "
                         << "a whole block of pixels: " << height << " and " << width
                         << " must be multiples of " << h << " and " << w << ")");
  if (cells.numel() == 0) return;
  const torch::Tensor flat = cells.reshape({cells.size(0), -1}).to(torch::kInt64);
  const int64_t C = num_coarse();
  const torch::Tensor bad = (flat < 0) | (flat >= C);
  if (bad.any().item<bool>()) {
    const int64_t at = bad.flatten().nonzero()[0].item<int64_t>();
    const int64_t b = at / flat.size(1);
    IPM_CHECK(false, where_coarse << ": sample " << sample_of(indices, b) << ": coarse label "
                                  << flat.flatten()[at].item<int64_t>() << " is outside 0.."
                                  << C - 1 << " (the co-occurrence matrix " << where_
                                  << " has " << C << " rows)");
  }
  auto a = flat.accessor<int64_t, 2>();
  for (int64_t b = 0; b < flat.size(0); ++b) {
    for (int64_t j = 0; j < flat.size(1); ++j) {
      IPM_CHECK(!row_empty_[static_cast<size_t>(a[b][j])],
                where_coarse << ": sample " << sample_of(indices, b) << ": coarse class "
                             << a[b][j] << " has an all-zero row in the co-occurrence matrix "
                             << where_ << " (p(l | " << a[b][j] << ") is undefined)");
    }
  }
}

torch::Tensor CoarsePrior::prior_map(const torch::Tensor& coarse, int64_t height, int64_t width,
                                     const std::vector<int64_t>& indices,
                                     const std::string& where_coarse) const {
  check_coarse(coarse, height, width, indices, where_coarse);
  const torch::Tensor cells = as_cells(coarse, where_coarse).to(torch::kInt64);
  const int64_t b = cells.size(0), h = cells.size(1), w = cells.size(2);
  // p(l | c) per cell: [B*h*w, L] -> [B, L, h, w]; then every cell repeated over its block.
  torch::Tensor p = conditional_.to(torch::kFloat32)
                        .index_select(0, cells.flatten())
                        .view({b, h, w, num_classes_})
                        .permute({0, 3, 1, 2});
  p = p.repeat_interleave(height / h, 2).repeat_interleave(width / w, 3).contiguous();
  p = gaussian_blur(p, blur_);
  p = smooth_prior(p, smoothing_);  // (p + eps) / (1 + L eps), L = dim 1
  // Validated like every prior: each pixel's row over l.
  std::vector<int64_t> pixel_sample;
  pixel_sample.reserve(static_cast<size_t>(b * height * width));
  for (int64_t i = 0; i < b; ++i) {
    pixel_sample.insert(pixel_sample.end(), static_cast<size_t>(height * width),
                        sample_of(indices, i));
  }
  validate_prior(p.permute({0, 2, 3, 1}).reshape({-1, num_classes_}), num_classes_,
                 "prior 'coarse' (" + where_coarse + ")", pixel_sample);
  return p;
}

torch::Tensor gaussian_kernel1d(double sigma) {
  IPM_CHECK(std::isfinite(sigma) && sigma > 0.0, "blur sigma must be > 0, got " << sigma);
  const int64_t r = static_cast<int64_t>(std::ceil(4.0 * sigma));
  torch::Tensor k = torch::arange(-r, r + 1, torch::kFloat64);
  k = torch::exp(-k * k / (2.0 * sigma * sigma));
  return k / k.sum();
}

torch::Tensor gaussian_blur(const torch::Tensor& maps, double sigma) {
  if (sigma == 0.0) return maps;
  IPM_CHECK(maps.dim() == 4, "gaussian_blur: expected [B, K, H, W], got " << maps.sizes());
  const int64_t k = maps.size(1);
  const torch::Tensor g = gaussian_kernel1d(sigma).to(maps.scalar_type());
  const int64_t r = (g.size(0) - 1) / 2;
  // Depthwise (groups = K) 1-D convolutions along W, then H; replicate padding keeps the
  // kernel's weights summing to 1 at the border.
  const torch::Tensor kw = g.view({1, 1, 1, -1}).expand({k, 1, 1, g.size(0)}).contiguous();
  const torch::Tensor kh = g.view({1, 1, -1, 1}).expand({k, 1, g.size(0), 1}).contiguous();
  torch::Tensor x = F::pad(maps, F::PadFuncOptions({r, r, 0, 0}).mode(torch::kReplicate));
  x = F::conv2d(x, kw, F::Conv2dFuncOptions().groups(k));
  x = F::pad(x, F::PadFuncOptions({0, 0, r, r}).mode(torch::kReplicate));
  return F::conv2d(x, kh, F::Conv2dFuncOptions().groups(k));
}

}  // namespace ipm
