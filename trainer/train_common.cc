#include "trainer/train_common.h"

#include <algorithm>
#include <cmath>

#include "common/atomic_file.h"
#include "common/error.h"
#include "dist/rank_agreement.h"
#include "io/h5_split.h"
#include "trainer/small_cnn.h"

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

torch::ScalarType training_dtype(const TrainSpec& t) {
  return t.precision == "float64" ? torch::kFloat64 : torch::kFloat32;
}

torch::nn::AnyModule make_replicated_model(const JobSpec& spec,
                                           const std::vector<int64_t>& sample_shape,
                                           int64_t num_classes, torch::ScalarType dtype,
                                           Communicator& comm) {
  torch::manual_seed(spec.train.seed);
  torch::nn::AnyModule model = make_model(spec.arch, sample_shape, num_classes, spec.model_width);
  model.ptr()->to(comm.device(), dtype);  // CPU, or this rank's GPU under NCCL
  for (auto& p : model.ptr()->parameters()) {
    torch::NoGradGuard g;
    if (p.dim() == 4) p.set_data(to_model_layout(p));
    comm.broadcast(p, 0);
  }
  return model;
}

void check_same_resume_point(const TrainState& state, const std::filesystem::path& ckpt,
                             const std::string& job, Communicator& comm) {
  IPM_CHECK(same_on_all_ranks({state.epochs_done, state.steps_done}, comm),
            ckpt.string() << ": the ranks of job " << job << " see different checkpoints"
                          << " (is the output directory on a filesystem all ranks share?)");
}

void check_pretrain(const TrainSpec& t) {
  if (t.pretrain_epochs == 0) return;
  IPM_CHECK(t.pretrain_epochs < t.epochs,
            "train.pretrain_epochs = " << t.pretrain_epochs << " must be smaller than "
            "train.epochs = " << t.epochs << " (train.loss = \"" << t.loss << "\" would never run)");
  parse_loss(t.pretrain_loss);
}

LossKind epoch_loss(const TrainSpec& t, int64_t epoch) {
  return parse_loss(epoch <= t.pretrain_epochs ? t.pretrain_loss : t.loss);
}

int64_t training_rows(const TrainSpec& t, const H5Split& train) {
  return t.train_subset > 0 ? std::min(t.train_subset, train.size()) : train.size();
}

}  // namespace ipm
