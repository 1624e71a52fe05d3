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
  if (d.preload == Preload::kAlways) return true;
  if (d.preload == Preload::kNever) return false;
  return H5Split::preload_bytes(d.file, split) <= kAutoPreloadBytes;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainSpec& t,
                                                        std::vector<torch::Tensor> params) {
  if (t.optimizer == Optimizer::kAdamW) {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(t.lr).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(t.lr).weight_decay(t.weight_decay));
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
  return t.precision == Precision::kFloat64 ? torch::kFloat64 : torch::kFloat32;
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
            "train.epochs = " << t.epochs << " (train.loss = \"" << loss_name(t.loss) << "\" would never run)");
}

LossKind epoch_loss(const TrainSpec& t, int64_t epoch) {
  return epoch <= t.pretrain_epochs ? t.pretrain_loss : t.loss;
}

int64_t training_rows(const TrainSpec& t, const H5Split& train) {
  return t.train_subset > 0 ? std::min(t.train_subset, train.size()) : train.size();
}

EpochOrderSpec training_order(const DataSpec& d, const H5Split& train, bool units_are_rows) {
  EpochOrderSpec o;
  switch (d.order) {
    case DataOrder::kExact: o.kind = OrderKind::kExact; break;
    case DataOrder::kChunked: o.kind = OrderKind::kChunked; break;
    case DataOrder::kAuto:
      o.kind = !train.preloaded() && units_are_rows ? OrderKind::kChunked : OrderKind::kExact;
      break;
  }
  IPM_CHECK(d.shuffle_window >= 1,
            "data.shuffle_window = " << d.shuffle_window << " chunks (need >= 1)");
  o.chunk = train.chunk_rows();
  o.window = d.shuffle_window;
  if (o.kind == OrderKind::kChunked) {
    // A batch spans at most two windows; their chunks must stay in HDF5's chunk cache or
    // each is read again for every batch that touches it: larger windows are cut to that.
    int64_t row_bytes = train.x_is_uint8() ? 1 : 4;
    for (const int64_t n : train.sample_shape()) row_bytes *= n;
    const int64_t most = H5Split::kChunkCacheBytes / (2 * std::max<int64_t>(o.chunk * row_bytes, 1));
    o.window = std::clamp<int64_t>(most, 1, d.shuffle_window);
  }
  return o;
}

}  // namespace ipm
