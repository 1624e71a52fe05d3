#include "trainer/pair_training.h"

#include <numeric>

#include "common/error.h"
#include "io/h5_pairs.h"
#include "losses/pair_losses.h"
#include "trainer/small_cnn.h"
#include "trainer/classification_task.h"

namespace ipm {

namespace {

RankedPairs load_file_pairs(const JobSpec& spec, int64_t n) {
  const std::string where = spec.data.file.string() + ":/" + spec.data.train + "/pairs";
  return pairs_from_table(read_pair_table(spec.data.file, spec.data.train), n,
                          spec.prior.pairs, where);
}

}  // namespace

void check_ranking_job(const JobSpec& spec, int64_t n) {
  if (spec.prior.kind != PriorKind::kRanking) return;
  check_ranking_spec(spec.prior);
  const LossKind loss = spec.train.loss;
  IPM_CHECK(loss == LossKind::kQR || loss == LossKind::kRQ,
            "train.loss = \"" << loss_name(loss) << "\" cannot train from prior.kind = \"ranking\" "
                              "(the pair losses of Eq. 6 are qr and rq)");
  IPM_CHECK(spec.train.normalizer != NormalizerKind::kEma,
            "train.normalizer = \"ema\" is not supported with prior.kind = \"ranking\" "
            "(use local or global)");
  IPM_CHECK(spec.train.pretrain_epochs == 0,
            "train.pretrain_epochs = " << spec.train.pretrain_epochs << " is not supported with "
            "prior.kind = \"ranking\" (CE on a pair prior is not defined; set it to 0)");
  int64_t p = 0;
  if (spec.prior.pair_source == PairSource::kFile) {
    // Every pair of the file, now: a bad one found mid-training would waste the epochs.
    p = load_file_pairs(spec, n).size();
  } else {
    p = spec.prior.pairs == 0 ? n / 2 : spec.prior.pairs;
    IPM_CHECK(p >= 1 && 2 * p <= n,
              "prior.pairs = " << spec.prior.pairs << " needs " << 2 * p << " distinct training "
                               << "rows, there are " << n << " (at most " << n / 2 << " pairs)");
  }
  IPM_CHECK(spec.train.batch <= p,
            "train.batch = " << spec.train.batch << " pairs exceeds the " << p
                             << " pairs of the run (with prior.kind = \"ranking\", "
                                "train.batch counts pairs)");
}

std::unique_ptr<RankedPairs> make_job_pairs(const JobSpec& spec, const H5Split& train,
                                            int64_t n) {
  if (spec.prior.kind != PriorKind::kRanking) return nullptr;
  check_ranking_job(spec, n);
  if (spec.prior.pair_source == PairSource::kFile) {
    return std::make_unique<RankedPairs>(load_file_pairs(spec, n));
  }
  std::vector<int64_t> rows(static_cast<size_t>(n));
  std::iota(rows.begin(), rows.end(), int64_t{0});
  return std::make_unique<RankedPairs>(
      make_ranked_pairs(train.y(rows), train.num_classes(), spec.prior.pairs, spec.prior.seed));
}

namespace {

// Units are pair indices: this rank's pairs of the global batch, one forward over both
// members of each, Eq. 6's joint prior from the observed order.
class RankingRun : public ImageTaskRun {
 public:
  RankingRun(const JobSpec& spec, const H5Split& train, int64_t n)
      : ImageTaskRun(n), prior_(spec.prior), pairs_(make_job_pairs(spec, train, n)),
        norm_(spec.prior.pair_normalizer) {}
  int64_t units() const override { return pairs_->size(); }
  int64_t images_per_unit() const override { return 2; }

  void step(StepContext& c, const std::vector<int64_t>& units, double* sums) override {
    const int64_t m = static_cast<int64_t>(units.size());
    rows_.resize(static_cast<size_t>(2 * m));  // first members, then second ones
    orders_.resize(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) {
      const auto j = static_cast<size_t>(units[static_cast<size_t>(i)]);
      rows_[static_cast<size_t>(i)] = pairs_->a[j];
      rows_[static_cast<size_t>(m + i)] = pairs_->b[j];
      orders_[static_cast<size_t>(i)] = pairs_->order[j];
    }
    // One forward over both members: the network is per image, so this is the same as two.
    const torch::Tensor x = to_model_layout(c.train.x(rows_).to(c.comm.device(), c.dtype));
    const torch::Tensor log_q = torch::log_softmax(c.model.forward(x), 1);
    const torch::Tensor joint = ranking_joint_prior(orders_, c.train.num_classes(), prior_.ties,
                                                    prior_.smoothing, c.hooks.reverse_ranking)
                                    .to(c.comm.device(), c.dtype);
    const PairLossTerms terms = pair_loss_terms(c.loss_kind, log_q.narrow(0, 0, m),
                                                log_q.narrow(0, m, m), joint, norm_, c.normalizer);
    // Each rank's share of the global mean over pairs.
    sums[0] += apply_step(c, terms.per_pair.sum() / static_cast<double>(c.t.batch));
    const torch::Tensor y = c.train.y(rows_).to(c.comm.device());  // metrics only
    sums[1] += static_cast<double>(log_q.argmax(1).eq(y).sum().item<int64_t>());
    const torch::Tensor log_r = torch::cat({terms.log_ra, terms.log_rb}, 0);
    sums[2] += static_cast<double>(log_r.argmax(1).eq(y).sum().item<int64_t>());
  }

 private:
  PriorSpec prior_;
  std::unique_ptr<RankedPairs> pairs_;
  PairNormalization norm_;
  std::vector<int64_t> rows_;
  std::vector<PairOrder> orders_;
};

std::unique_ptr<TaskRun> open_ranking(const JobSpec& spec, const H5Split& train, int64_t n) {
  return std::make_unique<RankingRun>(spec, train, n);
}

}  // namespace

// Same checks as classification: check_image_job calls check_ranking_job.
const Task kRankingTask = {"ranking", check_image_job, open_ranking};

}  // namespace ipm
