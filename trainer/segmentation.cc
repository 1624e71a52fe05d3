#include "trainer/segmentation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "io/row_chunks.h"
#include "losses/implicit_losses.h"
#include "priors/prior_check.h"
#include "trainer/batch_slicer.h"
#include "trainer/seg_metrics.h"
#include "trainer/small_cnn.h"
#include "trainer/train_common.h"

namespace ipm {
namespace {

// Images per forward pass when evaluating (activations: width x H x W floats per image and
// layer), and per chunk when checking a whole split's priors.
constexpr int64_t kEvalImages = 32;
constexpr int64_t kCheckImages = 256;

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
// collapse to ~20-30% pixel accuracy without it on the lsr benchmark, docs/results.md).
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
Confusions evaluate_split(torch::nn::AnyModule& model, const H5Split& split, int64_t n,
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
  for_each_row_chunk(mine.begin, mine.end, kEvalImages, [&](const std::vector<int64_t>& rows) {
    z += log_q_of(rows).exp().sum(0).to(torch::kCPU, torch::kFloat64);
  });
  comm.allreduce_sum(z);
  // A class whose q underflows on every pixel would give log 0 = -inf and NaN in r.
  const torch::Tensor log_z =
      z.clamp_min(std::numeric_limits<double>::min()).log().to(comm.device(), dtype);
  torch::Tensor cq = torch::zeros({L, L}, torch::kInt64), cr = torch::zeros({L, L}, torch::kInt64);
  for_each_row_chunk(mine.begin, mine.end, kEvalImages, [&](const std::vector<int64_t>& rows) {
    const torch::Tensor log_q = log_q_of(rows);
    const torch::Tensor prior = flatten_classes(priors.prior(split, rows)).to(comm.device(), dtype);
    const torch::Tensor log_r = implied_log_posterior(log_q, prior, log_z);
    const torch::Tensor truth = split.y(rows).flatten();
    cq += confusion_matrix(log_q.argmax(1).cpu(), truth, L);  // counts on the CPU
    cr += confusion_matrix(log_r.argmax(1).cpu(), truth, L);
  });
  model.ptr()->train();
  torch::Tensor both = torch::stack({cq, cr}).to(torch::kFloat64);
  comm.allreduce_sum(both);
  both = both.round().to(torch::kInt64);
  return {both[0], both[1]};
}

void check_labels(const H5Split& split) {
  IPM_CHECK(split.label_shape().size() == 2,
            split.where() << "/y: per-pixel labels [N, H, W] expected (the train split has them)");
}

}  // namespace

SegmentationPriors::SegmentationPriors(const PriorSpec& spec, const std::filesystem::path& file,
                                       int64_t num_classes)
    : spec_(spec), num_classes_(num_classes) {
  IPM_CHECK(spec.kind == PriorKind::kCoarse || spec.kind == PriorKind::kStored,
            "prior.kind = \"" << enum_to_name(spec.kind) << "\" is for classification; segmentation data "
                              << "(per-pixel labels) takes prior.kind = \"coarse\" or \"stored\"");
  IPM_CHECK(std::isfinite(spec.smoothing) && spec.smoothing >= 0.0,
            "prior.smoothing = " << spec.smoothing << " must be a finite number >= 0");
  IPM_CHECK(spec.kind == PriorKind::kCoarse || spec.blur == 0.0,
            "prior.blur applies to prior.kind = \"coarse\" only");
  if (spec.kind == PriorKind::kCoarse) {
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
  for_each_row_chunk(0, split.size(), kCheckImages, [&](const std::vector<int64_t>& rows) {
    if (coarse_) {
      coarse_->check_coarse(split.coarse(rows), shape[1], shape[2], rows,
                            split.where() + "/coarse");
    } else {
      prior(split, rows);
    }
  });
}

void check_segmentation_job(const JobSpec& spec) {
  const H5Split train(spec.data.file, spec.data.train, /*preload=*/false);
  const H5Split test(spec.data.file, spec.data.test, /*preload=*/false);
  check_labels(train);
  check_labels(test);
  IPM_CHECK(test.sample_shape() == train.sample_shape(),
            test.where() << ": sample shape differs from " << train.where());
  IPM_CHECK(spec.arch == Arch::kFcn, "model.arch = \"" << enum_to_name(spec.arch) << "\" predicts one label per "
                                                 << "image; per-pixel labels ("
                                                 << train.where() << "/y) need \"fcn\"");
  make_model(spec.arch, train.sample_shape(), train.num_classes(), spec.model_width);
  const SegmentationPriors priors(spec.prior, spec.data.file, train.num_classes());
  priors.check_split(train);
  priors.check_split(test);  // r's metrics on test use the test split's prior
  check_pretrain(spec.train);
  IPM_CHECK(spec.train.normalizer != NormalizerKind::kEma,
            "train.normalizer = '" << enum_to_name(spec.train.normalizer)
                                   << "' is not supported for segmentation (local or global)");
  const int64_t n = training_rows(spec.train, train);
  IPM_CHECK(spec.train.batch <= n, "train.batch = " << spec.train.batch << " exceeds the "
                                                    << n << " training rows");
}

namespace {

// Sums per rank: loss, then the running confusion matrices of q and of r, L x L each.
class SegmentationRun : public TaskRun {
 public:
  SegmentationRun(const JobSpec& spec, const H5Split& train, int64_t n)
      : n_(n), L_(train.num_classes()), priors_(spec.prior, spec.data.file, L_),
        pixels_(train.sample_shape()[1] * train.sample_shape()[2]) {}
  int64_t units() const override { return n_; }
  int64_t sum_fields() const override { return 1 + 2 * L_ * L_; }

  // t: x [b, C, H, W] (model layout, dtype), y int64 [b*H*W], prior [b*H*W, L] (dtype).
  Batch load(const H5Split& train, const std::vector<int64_t>& rows,
             torch::ScalarType dtype) const override {
    return {rows, {to_model_layout(train.x(rows).to(dtype)), train.y(rows).flatten(),
                   flatten_classes(priors_.prior(train, rows)).to(dtype)}};
  }

  torch::Tensor step(StepContext& c, const Batch& b, torch::Tensor& sums) override {
    const torch::Tensor x = on_device(c, b.t[0]);
    const torch::Tensor y = on_device(c, b.t[1]);  // [b*H*W], metrics only
    const torch::Tensor prior = on_device(c, b.t[2]);
    const torch::Tensor log_q = pixel_log_q(c.model.forward(x), c.t.q_smoothing);
    const LossTerms terms = loss_terms(c.loss_kind, log_q, prior, c.normalizer);
    // Each pixel is a sample: the global mean is over batch x pixels (DESIGN.md, losses/).
    const double denom = static_cast<double>(c.t.batch) * static_cast<double>(pixels_);
    const torch::Tensor loss = apply_step(c, terms.per_sample.sum() / denom);
    sums[0] += loss;
    // The running confusion matrices, counted where the step runs (int64, exact in float64).
    sums.narrow(0, 1, L_ * L_) += confusion_matrix(log_q.detach().argmax(1), y, L_).flatten();
    sums.narrow(0, 1 + L_ * L_, L_ * L_) +=
        confusion_matrix(log_r_for_metrics(terms, log_q, prior).argmax(1), y, L_).flatten();
    return loss;
  }

  void evaluate(StepContext& c, const H5Split& test, const double* sums, int64_t steps,
                EpochMetrics& m) override {
    (void)steps;
    Confusions train_conf{counts(sums + 1), counts(sums + 1 + L_ * L_)};
    if (c.t.train_eval == TrainEval::kFull) {
      train_conf = evaluate_split(c.model, c.train, n_, priors_, c.comm, c.dtype, c.t.q_smoothing);
    }
    const Confusions test_conf =
        evaluate_split(c.model, test, test.size(), priors_, c.comm, c.dtype, c.t.q_smoothing);
    m.segmentation = 1.0;
    m.train_acc = pixel_accuracy(train_conf.q);
    m.train_acc_r = pixel_accuracy(train_conf.r);
    m.train_miou = mean_iou(train_conf.q);
    m.train_miou_r = mean_iou(train_conf.r);
    m.test_acc = pixel_accuracy(test_conf.q);
    m.test_acc_r = pixel_accuracy(test_conf.r);
    m.test_miou = mean_iou(test_conf.q);
    m.test_miou_r = mean_iou(test_conf.r);
  }

 private:
  // An int64 [L, L] matrix added into L*L doubles (exact: counts stay below 2^53).
  // L*L all-reduced doubles back to an int64 [L, L] matrix.
  torch::Tensor counts(const double* in) const {
    return torch::from_blob(const_cast<double*>(in), {L_ * L_}, torch::kFloat64)
        .round().to(torch::kInt64).view({L_, L_});
  }

  int64_t n_, L_;
  SegmentationPriors priors_;
  int64_t pixels_;  // H * W
};

std::unique_ptr<TaskRun> open_segmentation(const JobSpec& spec, const H5Split& train,
                                           int64_t n) {
  return std::make_unique<SegmentationRun>(spec, train, n);
}

}  // namespace

const Task kSegmentationTask = {"segmentation", check_segmentation_job, open_segmentation};

}  // namespace ipm
