#include "trainer/segmentation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "common/error.h"
#include "common/hash_rng.h"
#include "common/text.h"  // json_number
#include "dist/grad_reducer.h"
#include "losses/implicit_losses.h"
#include "priors/prior_check.h"
#include "trainer/batch_slicer.h"
#include "trainer/checkpoint.h"
#include "trainer/finite_guard.h"
#include "trainer/normalizer_factory.h"
#include "trainer/seg_metrics.h"
#include "trainer/small_cnn.h"
#include "trainer/test_hooks.h"
#include "trainer/stop_request.h"
#include "trainer/train_common.h"

namespace ipm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Images per forward pass when evaluating (activations: width x H x W floats per image and
// layer), and per chunk when checking a whole split's priors.
constexpr int64_t kEvalImages = 32;
constexpr int64_t kCheckImages = 256;

std::vector<int64_t> iota_rows(int64_t begin, int64_t end) {
  std::vector<int64_t> rows;
  for (int64_t i = begin; i < end; ++i) rows.push_back(i);
  return rows;
}

// log r [M, L] for metrics: the loss's own r when it has one, else Eq. 3 with the rows given
// as the normalizer (CE and hard CE have no r of their own).
torch::Tensor log_r_for_metrics(const LossTerms& terms, const torch::Tensor& log_q,
                                const torch::Tensor& prior) {
  if (terms.log_r.defined()) return terms.log_r.detach();
  return implied_log_posterior(log_q.detach(), prior, torch::logsumexp(log_q.detach(), 0));
}

// log q from logits [B, L, H, W] as pixel rows [B*H*W, L], with App. E.1.3's additive
// smoothing q <- (q + eps) / (1 + L eps) when eps > 0. Why it matters: with the normalizer
// over a batch's many pixels, QR and RQ otherwise reach a near-zero loss by collapse: one
// class everywhere and the others' q tiny except on a few pixels, which then dominate Z_l,
// so q_i(l) / Z_l ~ 0 for every other pixel and r = q there. The floor eps keeps
// Z_l >= M eps, so r returns towards the prior unless q puts real mass on l (measured: both
// collapse to ~20-30% pixel accuracy without it on the lsr benchmark, see README).
torch::Tensor pixel_log_q(const torch::Tensor& logits, double eps) {
  torch::Tensor log_q = flatten_classes(torch::log_softmax(logits, 1));
  if (eps == 0.0) return log_q;
  const double l = static_cast<double>(log_q.size(1));
  return torch::logaddexp(log_q, torch::full_like(log_q, std::log(eps))) - std::log1p(l * eps);
}

struct Confusions {
  torch::Tensor q, r;  // int64 [L, L] each
};

// Confusion matrices of q and r over rows [0, n) of a split; each rank takes a contiguous
// block, the counts are all-reduced. r uses Z_l = sum of q(l) over the whole evaluated split
// (every pixel, all ranks: a first pass), so it does not depend on chunking or rank count.
Confusions evaluate(torch::nn::AnyModule& model, const H5Split& split, int64_t n,
                    const SegmentationPriors& priors, Communicator& comm,
                    torch::ScalarType dtype, double q_smoothing) {
  torch::NoGradGuard no_grad;
  model.ptr()->eval();
  const int64_t L = split.num_classes();
  const RankSlice mine = rank_slice(n, comm.rank(), comm.size());
  auto log_q_of = [&](const std::vector<int64_t>& rows) {
    return pixel_log_q(model.forward(to_model_layout(split.x(rows).to(comm.device(), dtype))), q_smoothing);
  };
  torch::Tensor z = torch::zeros({L}, torch::kFloat64);
  for (int64_t s = mine.begin; s < mine.end; s += kEvalImages) {
    z += log_q_of(iota_rows(s, std::min(s + kEvalImages, mine.end))).exp().sum(0).to(torch::kCPU, torch::kFloat64);
  }
  comm.allreduce_sum(z);
  // A class whose q underflows on every pixel would give log 0 = -inf and NaN in r.
  const torch::Tensor log_z =
      z.clamp_min(std::numeric_limits<double>::min()).log().to(comm.device(), dtype);
  torch::Tensor cq = torch::zeros({L, L}, torch::kInt64), cr = torch::zeros({L, L}, torch::kInt64);
  for (int64_t s = mine.begin; s < mine.end; s += kEvalImages) {
    const std::vector<int64_t> rows = iota_rows(s, std::min(s + kEvalImages, mine.end));
    const torch::Tensor log_q = log_q_of(rows);
    const torch::Tensor prior = flatten_classes(priors.prior(split, rows)).to(comm.device(), dtype);
    const torch::Tensor log_r = implied_log_posterior(log_q, prior, log_z);
    const torch::Tensor truth = split.y(rows).flatten();
    cq += confusion_matrix(log_q.argmax(1).cpu(), truth, L);  // counts on the CPU
    cr += confusion_matrix(log_r.argmax(1).cpu(), truth, L);
  }
  model.ptr()->train();
  torch::Tensor both = torch::stack({cq, cr}).to(torch::kFloat64);
  comm.allreduce_sum(both);
  both = both.round().to(torch::kInt64);
  return {both[0], both[1]};
}

struct SegStep {
  const TrainSpec& t;
  const H5Split& train;
  const SegmentationPriors& priors;
  LossKind loss_kind;
  Normalizer& normalizer;
  torch::nn::AnyModule& model;
  torch::optim::Optimizer& opt;
  GradReducer& reducer;
  RankSlice mine;
  torch::ScalarType dtype;
  int64_t pixels;  // H * W
  torch::Device device;  // the communicator's: CPU, or this rank's GPU under NCCL
  FiniteGuard* guard = nullptr;  // checked at epoch ends (no per-step collective here)
  int ranks = 1;
  int64_t epoch = 0;
};

struct SegEpochSums {
  double loss = 0.0;
  Confusions running;  // of q and r during the steps (this rank)
};

SegEpochSums train_epoch(SegStep& c, const std::vector<int64_t>& order, int64_t steps) {
  const int64_t L = c.train.num_classes();
  SegEpochSums sums;
  sums.running = {torch::zeros({L, L}, torch::kInt64), torch::zeros({L, L}, torch::kInt64)};
  std::vector<int64_t> rows(static_cast<size_t>(c.mine.size()));
  // Each pixel is a sample: the global mean is over batch x pixels (DESIGN.md, losses/).
  const double denom = static_cast<double>(c.t.batch) * static_cast<double>(c.pixels);
  for (int64_t s = 0; s < steps; ++s) {
    for (int64_t i = 0; i < c.mine.size(); ++i) rows[i] = order[s * c.t.batch + c.mine.begin + i];
    const torch::Tensor x = to_model_layout(c.train.x(rows).to(c.device, c.dtype));
    const torch::Tensor y = c.train.y(rows).flatten();                     // [b*H*W]
    const torch::Tensor prior =
        flatten_classes(c.priors.prior(c.train, rows)).to(c.device, c.dtype);
    const torch::Tensor log_q = pixel_log_q(c.model.forward(x), c.t.q_smoothing);
    const LossTerms terms = loss_terms(c.loss_kind, log_q, prior, c.normalizer);
    const torch::Tensor loss = terms.per_sample.sum() / denom;
    c.opt.zero_grad();
    loss.backward();
    c.reducer.sum_gradients();  // each rank's loss is its share of the global mean
    c.opt.step();

    const double share = loss.item<double>();
    sums.loss += share;
    c.guard->note_step(share, c.ranks, c.epoch, s + 1);
    sums.running.q += confusion_matrix(log_q.detach().argmax(1).cpu(), y, L);  // y: CPU
    sums.running.r +=
        confusion_matrix(log_r_for_metrics(terms, log_q, prior).argmax(1).cpu(), y, L);
  }
  return sums;
}

void check_labels(const H5Split& split) {
  IPM_CHECK(split.label_shape().size() == 2,
            split.where() << "/y: per-pixel labels [N, H, W] expected (the train split has them)");
}

}  // namespace

bool is_segmentation_data(const DataSpec& data) {
  const H5Split train(data.file, data.train, /*preload=*/false);
  return train.label_shape().size() == 2;
}

SegmentationPriors::SegmentationPriors(const PriorSpec& spec, const std::filesystem::path& file,
                                       int64_t num_classes)
    : spec_(spec), num_classes_(num_classes) {
  IPM_CHECK(spec.kind == "coarse" || spec.kind == "stored",
            "prior.kind = \"" << spec.kind << "\" is for classification; segmentation data "
                              << "(per-pixel labels) takes prior.kind = \"coarse\" or \"stored\"");
  IPM_CHECK(std::isfinite(spec.smoothing) && spec.smoothing >= 0.0,
            "prior.smoothing = " << spec.smoothing << " must be a finite number >= 0");
  IPM_CHECK(spec.kind == "coarse" || spec.blur == 0.0,
            "prior.blur applies to prior.kind = \"coarse\" only");
  if (spec.kind == "coarse") {
    coarse_ = std::make_unique<CoarsePrior>(read_cooccurrence(file), num_classes, spec.blur,
                                            spec.smoothing, file.string() + ":/cooccurrence");
  }
}

torch::Tensor SegmentationPriors::prior(const H5Split& split,
                                        const std::vector<int64_t>& rows) const {
  const std::vector<int64_t>& shape = split.sample_shape();  // {C, H, W}
  if (coarse_) {
    return coarse_->prior_map(split.coarse(rows), shape[1], shape[2], rows,
                              split.where() + "/coarse");
  }
  const torch::Tensor p = split.prior(rows);  // [B, L, H, W]
  IPM_CHECK(p.dim() == 4 && p.size(2) == shape[1] && p.size(3) == shape[2],
            split.where() << "/prior: per-pixel priors must be [N, " << num_classes_ << ", "
                          << shape[1] << ", " << shape[2] << "], got rows " << p.sizes());
  std::vector<int64_t> pixel_sample;
  for (const int64_t r : rows) pixel_sample.insert(pixel_sample.end(), shape[1] * shape[2], r);
  validate_prior(flatten_classes(p), num_classes_, split.where() + "/prior", pixel_sample);
  return smooth_prior(p, spec_.smoothing);
}

void SegmentationPriors::check_split(const H5Split& split) const {
  const std::vector<int64_t>& shape = split.sample_shape();
  if (coarse_) {
    IPM_CHECK(split.has_coarse(), split.where() << ": prior.kind = \"coarse\" but the split "
                                                   "has no 'coarse' dataset");
  } else {
    IPM_CHECK(split.has_prior(), split.where() << ": prior.kind = \"stored\" but the split "
                                                  "has no 'prior' dataset");
  }
  for (int64_t s = 0; s < split.size(); s += kCheckImages) {
    const std::vector<int64_t> rows = iota_rows(s, std::min(s + kCheckImages, split.size()));
    if (coarse_) {
      coarse_->check_coarse(split.coarse(rows), shape[1], shape[2], rows,
                            split.where() + "/coarse");
    } else {
      prior(split, rows);
    }
  }
}

void check_segmentation_job(const JobSpec& spec) {
  const H5Split train(spec.data.file, spec.data.train, /*preload=*/false);
  const H5Split test(spec.data.file, spec.data.test, /*preload=*/false);
  check_labels(train);
  check_labels(test);
  IPM_CHECK(test.sample_shape() == train.sample_shape(),
            test.where() << ": sample shape differs from " << train.where());
  IPM_CHECK(spec.arch == "fcn", "model.arch = \"" << spec.arch << "\" predicts one label per "
                                                 << "image; per-pixel labels ("
                                                 << train.where() << "/y) need \"fcn\"");
  make_model(spec.arch, train.sample_shape(), train.num_classes(), spec.model_width);
  const SegmentationPriors priors(spec.prior, spec.data.file, train.num_classes());
  priors.check_split(train);
  priors.check_split(test);  // r's metrics on test use the test split's prior
  parse_loss(spec.train.loss);
  check_pretrain(spec.train);
  IPM_CHECK(spec.train.normalizer == "local" || spec.train.normalizer == "global",
            "train.normalizer = '" << spec.train.normalizer
                                   << "' is not supported for segmentation (local or global)");
  const int64_t n = spec.train.train_subset > 0
                        ? std::min(spec.train.train_subset, train.size()) : train.size();
  IPM_CHECK(spec.train.batch <= n, "train.batch = " << spec.train.batch << " exceeds the "
                                                    << n << " training rows");
}

JobResult train_segmentation_job(const JobSpec& spec, const std::filesystem::path& job_dir,
                                 Communicator& comm) {
  const TrainSpec& t = spec.train;
  const bool lead = comm.rank() == 0;
  torch::set_num_threads(static_cast<int>(spec.run.threads_per_rank));
  at::globalContext().setFlushDenormal(true);

  check_segmentation_job(spec);
  IPM_CHECK(t.batch >= comm.size(), "train.batch = " << t.batch << " is smaller than the "
                                                     << comm.size() << " ranks of the job");
  const H5Split train(spec.data.file, spec.data.train, should_preload(spec.data, spec.data.train));
  const H5Split test(spec.data.file, spec.data.test, should_preload(spec.data, spec.data.test));
  const int64_t num_classes = train.num_classes();
  const int64_t n = t.train_subset > 0 ? std::min(t.train_subset, train.size()) : train.size();
  const SegmentationPriors priors(spec.prior, spec.data.file, num_classes);
  const int64_t steps = n / t.batch;
  const RankSlice mine = rank_slice(t.batch, comm.rank(), comm.size());
  const int64_t pixels = train.sample_shape()[1] * train.sample_shape()[2];

  const torch::ScalarType dtype = training_dtype(t);
  torch::nn::AnyModule model =
      make_replicated_model(spec, train.sample_shape(), num_classes, dtype, comm);
  torch::nn::Module& net = *model.ptr();
  auto opt = make_optimizer(t, net.parameters());
  GradReducer reducer(net.parameters(), comm);
  auto normalizer = make_normalizer(t, comm);

  std::filesystem::create_directories(job_dir);
  const std::filesystem::path ckpt = job_dir / "checkpoint.pt";
  TrainState state;
  if (std::filesystem::exists(ckpt)) {
    state = load_checkpoint(ckpt, net, *opt);
    if (lead) std::cout << "[" << spec.name << "] resuming after epoch " << state.epochs_done << "\n";
  }
  check_same_resume_point(state, ckpt, spec.name, comm);
  double peak = state.metrics.empty() ? 0.0 : state.metrics.back().peak_test_acc;

  SegStep step{t,    train,   priors, epoch_loss(t, 1), *normalizer, model,        *opt,
               reducer, mine, dtype,  pixels,           comm.device()};
  FiniteGuard guard(num_classes, "train.lr = " + json_number(t.lr));
  step.guard = &guard;
  step.ranks = comm.size();
  for (int64_t epoch = state.epochs_done + 1; epoch <= t.epochs; ++epoch) {
    const auto epoch_t0 = Clock::now();
    comm.take_comm_stats();
    const std::vector<int64_t> order = shuffled_order(n, t.seed, static_cast<uint64_t>(epoch));
    step.loss_kind = epoch_loss(t, epoch);
    step.epoch = epoch;
    SegEpochSums local = train_epoch(step, order, steps);
    const double train_s = seconds_since(epoch_t0);
    const double comm_s = comm.take_comm_stats().seconds;
    torch::Tensor sums = torch::cat({torch::tensor({local.loss}, torch::kFloat64),
                                     local.running.q.flatten().to(torch::kFloat64),
                                     local.running.r.flatten().to(torch::kFloat64)});
    comm.allreduce_sum(sums);
    const int64_t LL = num_classes * num_classes;
    Confusions train_conf{sums.slice(0, 1, 1 + LL).round().to(torch::kInt64).view({num_classes, num_classes}),
                          sums.slice(0, 1 + LL).round().to(torch::kInt64).view({num_classes, num_classes})};
    if (t.train_eval == "full") train_conf = evaluate(model, train, n, priors, comm, dtype, t.q_smoothing);
    const Confusions test_conf = evaluate(model, test, test.size(), priors, comm, dtype, t.q_smoothing);

    EpochMetrics m;
    m.epoch = epoch;
    m.segmentation = 1.0;
    m.loss = sums[0].item<double>() / static_cast<double>(steps);
    m.train_acc = pixel_accuracy(train_conf.q);
    m.train_acc_r = pixel_accuracy(train_conf.r);
    m.train_miou = mean_iou(train_conf.q);
    m.train_miou_r = mean_iou(train_conf.r);
    m.test_acc = pixel_accuracy(test_conf.q);
    m.test_acc_r = pixel_accuracy(test_conf.r);
    m.test_miou = mean_iou(test_conf.q);
    m.test_miou_r = mean_iou(test_conf.r);
    peak = std::max(peak, m.test_acc);
    m.peak_test_acc = peak;
    const double seen = static_cast<double>(steps * t.batch);
    m.samples_per_s = seen / train_s;
    m.step_s = train_s / static_cast<double>(steps);
    m.comm_s = comm_s / static_cast<double>(steps);
    m.param_norm = param_norm(net);
    m.epoch_s = seconds_since(epoch_t0);
    guard.note_epoch(m.loss, m.param_norm);
    guard.agree(comm, false);  // throws JobFailed before a bad checkpoint is saved

    state.epochs_done = epoch;
    state.metrics.push_back(m);
    if (lead) {
      save_checkpoint(ckpt, net, *opt, state);  // before metrics.jsonl, as in trainer.cc
      write_metrics_file(job_dir, state.metrics);
      std::printf("[%s] epoch %lld/%lld  loss %.5f  train %.4f  test %.4f (r %.4f)  "
                  "mIoU %.4f (r %.4f)  (%.0f images/s)\n",
                  spec.name.c_str(), static_cast<long long>(epoch),
                  static_cast<long long>(t.epochs), m.loss, m.train_acc, m.test_acc,
                  m.test_acc_r, m.test_miou, m.test_miou_r, m.samples_per_s);
      std::fflush(stdout);
    }
    if (epoch == test_hook_value("IPM_TEST_ABORT_AFTER_EPOCH")) std::abort();
    // Preemption (trainer/stop_request.h) is honoured at epoch boundaries here, where the
    // checkpoint just written is complete: a segmentation epoch is short next to Slurm's
    // warning time, unlike classification's, which stop mid-epoch.
    if (epoch < t.epochs && agree_to_stop(comm)) {
      if (lead) std::cout << "[" << spec.name << "] stopped (preemption) after epoch " << epoch << "\n" << std::flush;
      JobResult stopped;
      stopped.preempted = true;
      stopped.epochs = state.epochs_done;
      return stopped;
    }
  }
  if (lead) write_metrics_file(job_dir, state.metrics);
  JobResult result;
  result.epochs = state.epochs_done;
  if (!state.metrics.empty()) {
    result.final_test_acc = state.metrics.back().test_acc;
    result.peak_test_acc = state.metrics.back().peak_test_acc;
  }
  return result;
}

}  // namespace ipm
