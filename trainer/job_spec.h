// Everything one training job needs, resolved from the suite file (jobs/ fills it in).
// defines: ipm::Preload, ipm::DataOrder, ipm::Arch, ipm::Optimizer, ipm::NormalizerKind,
//          ipm::TrainEval, ipm::Precision, ipm::Backend, ipm::DataSpec, ipm::TrainSpec,
//          ipm::RunSpec, ipm::JobSpec
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "losses/implicit_losses.h"

#include "priors/prior_source.h"

namespace ipm {

enum class Preload { kAuto, kAlways, kNever };
inline const std::vector<EnumName<Preload>>& enum_names(Preload) {
  static const std::vector<EnumName<Preload>> names = {
      {Preload::kAuto, "auto"}, {Preload::kAlways, "always"}, {Preload::kNever, "never"}};
  return names;
}

// data.order as requested; trainer/train_common.h (training_order) decides auto per split.
enum class DataOrder { kExact, kChunked, kAuto };
inline const std::vector<EnumName<DataOrder>>& enum_names(DataOrder) {
  static const std::vector<EnumName<DataOrder>> names = {{DataOrder::kExact, "exact"},
                                                         {DataOrder::kChunked, "chunked"},
                                                         {DataOrder::kAuto, "auto"}};
  return names;
}

enum class Arch { kSmallCnn, kFcn };
inline const std::vector<EnumName<Arch>>& enum_names(Arch) {
  static const std::vector<EnumName<Arch>> names = {{Arch::kSmallCnn, "small_cnn"},
                                                    {Arch::kFcn, "fcn"}};
  return names;
}

enum class Optimizer { kAdam, kAdamW };
inline const std::vector<EnumName<Optimizer>>& enum_names(Optimizer) {
  static const std::vector<EnumName<Optimizer>> names = {{Optimizer::kAdam, "adam"},
                                                         {Optimizer::kAdamW, "adamw"}};
  return names;
}

// Which samples log Z sums over (losses/normalizer.h).
enum class NormalizerKind { kLocal, kGlobal, kEma };
inline const std::vector<EnumName<NormalizerKind>>& enum_names(NormalizerKind) {
  static const std::vector<EnumName<NormalizerKind>> names = {
      {NormalizerKind::kLocal, "local"},
      {NormalizerKind::kGlobal, "global"},
      {NormalizerKind::kEma, "ema"}};
  return names;
}

enum class TrainEval { kFull, kRunning };
inline const std::vector<EnumName<TrainEval>>& enum_names(TrainEval) {
  static const std::vector<EnumName<TrainEval>> names = {{TrainEval::kFull, "full"},
                                                         {TrainEval::kRunning, "running"}};
  return names;
}

enum class Precision { kFloat32, kFloat64 };
inline const std::vector<EnumName<Precision>>& enum_names(Precision) {
  static const std::vector<EnumName<Precision>> names = {{Precision::kFloat32, "float32"},
                                                         {Precision::kFloat64, "float64"}};
  return names;
}

// run.backend as requested (dist/backend_choice.h resolves it on each rank).
enum class Backend { kAuto, kMpi, kNccl };
inline const std::vector<EnumName<Backend>>& enum_names(Backend) {
  static const std::vector<EnumName<Backend>> names = {
      {Backend::kAuto, "auto"}, {Backend::kMpi, "mpi"}, {Backend::kNccl, "nccl"}};
  return names;
}

struct DataSpec {
  std::filesystem::path file;  // absolute (relative paths are resolved against the suite)
  std::string train = "train", test = "test";  // split (group) names
  Preload preload = Preload::kAuto;
  // The epoch order (io/epoch_order.h): auto is chunked when the training split is read from
  // the file and its units are rows, exact when it is preloaded or the units are pairs.
  DataOrder order = DataOrder::kAuto;
  int64_t shuffle_window = 32;  // chunked: HDF5 chunks shuffled together
  // Batches a background thread reads ahead while the steps compute (trainer/batch_reader.h);
  // 0 reads each batch in the training thread when its step starts.
  int64_t prefetch = 2;
};

struct TrainSpec {
  LossKind loss = LossKind::kRQ;
  // App. B ("simple ways to avoid degenerate solutions"): the first pretrain_epochs epochs
  // minimize pretrain_loss (CE on the prior belief, or CE on its argmax) to break the
  // symmetry, then `loss` takes over and sharpens (trainer/train_common.h, epoch_loss).
  LossKind pretrain_loss = LossKind::kCE;  // kCE | kHardCE
  int64_t pretrain_epochs = 0;
  Optimizer optimizer = Optimizer::kAdam;
  double lr = 1e-4;
  double weight_decay = 0.0;        // adamw's decoupled decay (adam: L2 in the gradient)
  int64_t batch = 256;              // the global batch
  int64_t epochs = 300;
  NormalizerKind normalizer = NormalizerKind::kLocal;
  double ema_decay = 0.99;          // ema: decay of the running mean of q, per step
  double ema_samples = 16;          // ema: how many samples the running mean counts as
  int64_t ema_warmup = 2000;        // ema: steps with the batch's own normalizer first
  uint64_t seed = 0;
  TrainEval train_eval = TrainEval::kFull;  // full: accuracy of q over the train split after each
                                    // epoch (the paper's); running: during the epoch's steps
  int64_t train_subset = 0;         // use only the first N training rows (0 = all)
  double q_smoothing = 0.0;          // segmentation: q <- (q + eps) / (1 + L eps) before the
                                    // loss (App. E.1.3 smooths the network's outputs by 1e-4)
  Precision precision = Precision::kFloat32;  // float64: slow, for verification:
                                      // rank-count invariance to round-off)
};

struct RunSpec {
  int64_t ranks_per_job = 1;
  int64_t threads_per_rank = 1;
  Backend backend = Backend::kAuto;  // dist/backend_choice.h: nccl trains on
                                 // CUDA devices, one rank per GPU; auto picks it when it can
};

struct JobSpec {
  std::string name;
  DataSpec data;
  Arch arch = Arch::kSmallCnn;  // kFcn: per-pixel logits (trainer/fcn.h)
  int64_t model_width = 0;          // model.width: channels per layer, 0 = the arch's default
  PriorSpec prior;
  TrainSpec train;
  RunSpec run;
};

}  // namespace ipm
