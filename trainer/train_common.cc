#include "trainer/train_common.h"

#include <cmath>

#include "common/atomic_file.h"
#include "common/error.h"
#include "io/h5_split.h"

namespace ipm {

constexpr int64_t kAutoPreloadBytes = int64_t{4} << 30;

bool should_preload(const DataSpec& d, const std::string& split) {
  if (d.preload == "always") return true;
  if (d.preload == "never") return false;
  return H5Split::preload_bytes(d.file, split) <= kAutoPreloadBytes;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainSpec& t,
                                                        std::vector<torch::Tensor> params) {
  if (t.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(t.lr).weight_decay(t.weight_decay));
  }
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(t.lr).weight_decay(t.weight_decay));
  }
  throw Error("train.optimizer = '" + t.optimizer + "' is unknown (expected adam or adamw)");
}

double param_norm(torch::nn::Module& m) {
  double sq = 0.0;
  for (const auto& p : m.parameters()) sq += p.detach().to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

void write_metrics_file(const std::filesystem::path& job_dir,
                        const std::vector<EpochMetrics>& history) {
  std::string s;
  for (const auto& m : history) s += to_json_line(m) + "\n";
  write_file_atomic(job_dir / "metrics.jsonl", s);
}

}  // namespace ipm
