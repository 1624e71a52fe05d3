// Pieces of a training job shared by the classification loop (trainer.cc) and the
// segmentation loop (segmentation.cc).
// defines: ipm::should_preload, ipm::make_optimizer, ipm::param_norm, ipm::write_metrics_file
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/job_spec.h"
#include "trainer/metrics_log.h"

namespace ipm {

// data.preload: always / never / auto (a split up to 4 GiB is read whole).
bool should_preload(const DataSpec& d, const std::string& split);

// train.optimizer -> Adam or AdamW over params.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainSpec& t,
                                                        std::vector<torch::Tensor> params);

// L2 norm of all parameters, accumulated in float64.
double param_norm(torch::nn::Module& m);

// job_dir/metrics.jsonl, one line per epoch, written atomically.
void write_metrics_file(const std::filesystem::path& job_dir,
                        const std::vector<EpochMetrics>& history);

}  // namespace ipm
