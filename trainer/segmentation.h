// Training for segmentation: per-pixel labels y [N, H, W], per-pixel priors p [N, L, H, W]
// (coarse labels through a co-occurrence matrix, §4.3; or stored maps), the fully
// convolutional net of App. E.1.3 (model.arch = "fcn").
// defines: ipm::check_segmentation_job, ipm::SegmentationPriors (and kSegmentationTask of
//          trainer/task.h)
//
// The losses treat every pixel as a sample (DESIGN.md: flatten NCHW to (N*H*W, L)): the
// normalizer Z_l = sum over the global batch's images *and* pixels of q(l) (Eq. 2; global
// all-reduces across ranks as for classification), and the loss is the mean over the global
// batch's pixels, sum_i loss_i / (B * H * W), each rank contributing its slice's share.
// Metrics: pixel accuracy and mean IoU (trainer/seg_metrics.h) of q and of r on the train
// and test splits; r on an evaluated split uses Z over all of that split's pixels.
// The driver (trainer.h) gives it the same files, checkpoints, preemption and exact resume as
// every task.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "io/h5_split.h"
#include "priors/coarse_prior.h"
#include "trainer/job_spec.h"
#include "trainer/task.h"

namespace ipm {

// The per-pixel prior of a batch of one split: prior.kind = "coarse" (from /<split>/coarse
// and /cooccurrence) or "stored" (/<split>/prior [N, L, H, W]); smoothed, validated.
class SegmentationPriors {
 public:
  SegmentationPriors(const PriorSpec& spec, const std::filesystem::path& file,
                     int64_t num_classes);
  // float32 [B, L, H, W] for the rows of split.
  torch::Tensor prior(const H5Split& split, const std::vector<int64_t>& rows) const;
  // Every row of split, in chunks: bad coarse labels, tiling or stored rows fail now.
  void check_split(const H5Split& split) const;

 private:
  PriorSpec spec_;
  int64_t num_classes_;
  std::unique_ptr<CoarsePrior> coarse_;  // kind = coarse
};

// check_job for segmentation data: splits, labels, model, prior (every row), settings.
void check_segmentation_job(const JobSpec& spec);

}  // namespace ipm
