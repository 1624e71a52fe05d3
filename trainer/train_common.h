// Pieces of a training job shared by the driver (trainer.cc) and the tasks' checks.
// defines: ipm::should_preload, ipm::make_optimizer, ipm::param_norm, ipm::write_metrics_file,
//          ipm::training_dtype, ipm::make_replicated_model, ipm::check_same_resume_point,
//          ipm::check_pretrain, ipm::epoch_loss, ipm::training_rows, ipm::training_order
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dist/communicator.h"
#include "io/epoch_order.h"
#include "io/h5_split.h"
#include "losses/implicit_losses.h"  // LossKind
#include "trainer/checkpoint.h"
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

// train.precision -> float32 | float64.
torch::ScalarType training_dtype(const TrainSpec& t);

// The job's model (seeded by train.seed) in `dtype`, convolution weights in the model
// layout, and rank 0's initial values on every rank of comm: an identical start.
torch::nn::AnyModule make_replicated_model(const JobSpec& spec,
                                           const std::vector<int64_t>& sample_shape,
                                           int64_t num_classes, torch::ScalarType dtype,
                                           Communicator& comm);

// Every rank must resume from the same epoch and step (a checkpoint on a filesystem that
// some ranks cannot see would silently mix two trainings); throws naming the file otherwise.
void check_same_resume_point(const TrainState& state, const std::filesystem::path& ckpt,
                             const std::string& job, Communicator& comm);

// train.pretrain_epochs / pretrain_loss: fewer pretraining epochs than train.epochs (else
// train.loss would never run) and a known pretraining loss; throws naming the keys
// otherwise. pretrain_loss = train.loss is allowed (it changes nothing), so a suite may
// sweep train.loss over CE and the others under one pretraining setting.
void check_pretrain(const TrainSpec& t);

// The loss of epoch `epoch` (1-based): train.pretrain_loss for the first
// train.pretrain_epochs epochs, train.loss after. A function of the epoch alone, so a job
// resumed from any checkpoint continues with the loss it stopped in.
LossKind epoch_loss(const TrainSpec& t, int64_t epoch);

// Training rows in use: the first train.train_subset rows of the split (all when 0).
int64_t training_rows(const TrainSpec& t, const H5Split& train);

// data.order and data.shuffle_window for an epoch over `train`'s units: "auto" is chunked
// when the split is read from the file and the units are its rows, exact when it is
// preloaded (a gather from memory reads nothing) or the units are pairs (a pair's two rows
// lie anywhere in the split, so chunking pairs saves no reads). Chunks are the split's HDF5
// chunk rows; the window is cut to what keeps two windows of x's chunks in HDF5's chunk
// cache (H5Split::kChunkCacheBytes). Throws naming the key for a window < 1.
EpochOrderSpec training_order(const DataSpec& d, const H5Split& train, bool units_are_rows);

}  // namespace ipm
