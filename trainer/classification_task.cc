#include "trainer/classification_task.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "common/error.h"
#include "io/h5_split.h"
#include "io/row_chunks.h"
#include "losses/implicit_losses.h"
#include "priors/prior_check.h"
#include "priors/prior_source.h"
#include "trainer/pair_training.h"
#include "trainer/small_cnn.h"
#include "trainer/train_common.h"

namespace ipm {
namespace {

constexpr int64_t kEvalBatch = 1000;
constexpr int64_t kCheckChunk = 8192;

// Accuracy of q over rows [0, n): each rank evaluates a contiguous block, counts all-reduced.
double accuracy(torch::nn::AnyModule& model, const H5Split& split, int64_t n, Communicator& comm,
                torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  model.ptr()->eval();
  const RankSlice mine = rank_slice(n, comm.rank(), comm.size());
  int64_t correct = 0;
  for_each_row_chunk(mine.begin, mine.end, kEvalBatch, [&](const std::vector<int64_t>& rows) {
    const torch::Tensor logits =
        model.forward(to_model_layout(split.x(rows).to(comm.device(), dtype)));
    correct += logits.argmax(1).eq(split.y(rows).to(comm.device())).sum().item<int64_t>();
  });
  model.ptr()->train();
  torch::Tensor c = torch::tensor({static_cast<double>(correct)}, torch::kFloat64);
  comm.allreduce_sum(c);
  return c.item<double>() / static_cast<double>(n);
}

// Per-image priors (prior/source.h) against y; q's argmax and r's against y for the metrics.
class ClassificationRun : public ImageTaskRun {
 public:
  ClassificationRun(const JobSpec& spec, const H5Split& train, int64_t n)
      : ImageTaskRun(n), priors_(make_prior_source(spec.prior, train.num_classes())) {}
  int64_t units() const override { return n_; }

  // t: x [b, C, H, W] (model layout, dtype), y int64 [b], prior [b, L] (dtype).
  Batch load(const H5Split& train, const std::vector<int64_t>& rows,
             torch::ScalarType dtype) const override {
    const torch::Tensor x = to_model_layout(train.x(rows).to(dtype));
    const torch::Tensor y = train.y(rows);
    const torch::Tensor stored = priors_->needs_stored() ? train.prior(rows) : torch::Tensor();
    const torch::Tensor prior = priors_->prior({rows, y, stored}).to(dtype);
    return {rows, {x, y, prior}};
  }

  torch::Tensor step(StepContext& c, const Batch& b, torch::Tensor& sums) override {
    const torch::Tensor x = on_device(c, b.t[0]);
    const torch::Tensor y = on_device(c, b.t[1]);
    const torch::Tensor prior = on_device(c, b.t[2]);

    const torch::Tensor log_q = torch::log_softmax(c.model.forward(x), 1);
    const LossTerms terms = loss_terms(c.loss_kind, log_q, prior, c.normalizer);
    const torch::Tensor loss = apply_step(c, terms.per_sample.sum() / static_cast<double>(c.t.batch));
    sums[0] += loss;
    sums[1] += log_q.argmax(1).eq(y).sum();
    // CE and NLL have no r of their own: read r with this rank's batch as the normalizer.
    const torch::Tensor log_r = terms.log_r.defined()
        ? terms.log_r
        : implied_log_posterior(log_q.detach(), prior, torch::logsumexp(log_q.detach(), 0));
    sums[2] += log_r.argmax(1).eq(y).sum();
    return loss;
  }

 private:
  std::unique_ptr<PriorSource> priors_;
};

std::unique_ptr<TaskRun> open_classification(const JobSpec& spec, const H5Split& train,
                                             int64_t n) {
  return std::make_unique<ClassificationRun>(spec, train, n);
}

}  // namespace

void check_image_job(const JobSpec& spec) {
  const H5Split train(spec.data.file, spec.data.train, /*preload=*/false);
  check_pretrain(spec.train);
  IPM_CHECK(spec.train.q_smoothing == 0.0,
            "train.q_smoothing applies to segmentation jobs (per-pixel labels) only");
  IPM_CHECK(spec.arch != Arch::kFcn, "model.arch = \"fcn\" predicts per-pixel labels but "
                                    << train.where() << "/y has one label per sample");
  const H5Split test(spec.data.file, spec.data.test, /*preload=*/false);
  IPM_CHECK(test.sample_shape() == train.sample_shape(),
            test.where() << ": sample shape differs from " << train.where());
  const auto prior = make_prior_source(spec.prior, train.num_classes());
  if (prior->needs_stored()) {
    IPM_CHECK(train.has_prior(),
              train.where() << ": prior.kind = \"stored\" but the split has no 'prior' dataset");
    // Every stored row, now: a bad row found mid-training would waste the epochs before it.
    for_each_row_chunk(0, train.size(), kCheckChunk, [&](const std::vector<int64_t>& rows) {
      validate_prior(train.prior(rows), train.num_classes(), train.where() + "/prior", rows);
    });
  }
  const int64_t n = training_rows(spec.train, train);
  IPM_CHECK(spec.train.batch <= n, "train.batch = " << spec.train.batch << " exceeds the "
                                                    << n << " training rows");
  check_ranking_job(spec, n);
  make_model(spec.arch, train.sample_shape(), train.num_classes(), spec.model_width);
}

void ImageTaskRun::evaluate(StepContext& c, const H5Split& test, const double* sums,
                            int64_t steps, EpochMetrics& m) {
  const double seen = static_cast<double>(steps * c.t.batch * images_per_unit());
  m.train_acc_r = sums[2] / seen;
  m.train_acc = c.t.train_eval == TrainEval::kRunning ? sums[1] / seen
                                            : accuracy(c.model, c.train, n_, c.comm, c.dtype);
  m.test_acc = accuracy(c.model, test, test.size(), c.comm, c.dtype);
}

const Task kClassificationTask = {"classification", check_image_job, open_classification};

}  // namespace ipm
