#include "trainer/pair_training.h"

#include <numeric>

#include "common/error.h"
#include "io/h5_pairs.h"
#include "losses/pair_losses.h"
#include "trainer/small_cnn.h"
#include "trainer/test_hooks.h"

namespace ipm {

namespace {

RankedPairs load_file_pairs(const JobSpec& spec, int64_t n) {
  const std::string where = spec.data.file.string() + ":/" + spec.data.train + "/pairs";
  return pairs_from_table(read_pair_table(spec.data.file, spec.data.train), n,
                          spec.prior.pairs, where);
}

}  // namespace

void check_ranking_job(const JobSpec& spec, int64_t n) {
  if (spec.prior.kind != "ranking") return;
  check_ranking_spec(spec.prior);
  const std::string& loss = spec.train.loss;
  IPM_CHECK(loss == "qr" || loss == "rq",
            "train.loss = \"" << loss << "\" cannot train from prior.kind = \"ranking\" "
                              "(the pair losses of Eq. 6 are qr and rq)");
  IPM_CHECK(spec.train.normalizer != "ema",
            "train.normalizer = \"ema\" is not supported with prior.kind = \"ranking\" "
            "(use local or global)");
  IPM_CHECK(spec.train.pretrain_epochs == 0,
            "train.pretrain_epochs = " << spec.train.pretrain_epochs << " is not supported with "
            "prior.kind = \"ranking\" (CE on a pair prior is not defined; set it to 0)");
  int64_t p = 0;
  if (spec.prior.pair_source == "file") {
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
  if (spec.prior.kind != "ranking") return nullptr;
  check_ranking_job(spec, n);
  if (spec.prior.pair_source == "file") {
    return std::make_unique<RankedPairs>(load_file_pairs(spec, n));
  }
  std::vector<int64_t> rows(static_cast<size_t>(n));
  std::iota(rows.begin(), rows.end(), int64_t{0});
  return std::make_unique<RankedPairs>(
      make_ranked_pairs(train.y(rows), train.num_classes(), spec.prior.pairs, spec.prior.seed));
}

EpochSums train_pair_epoch(StepContext& c, const PriorSpec& prior, const RankedPairs& pairs,
                           const std::vector<int64_t>& order, int64_t steps, EpochSums sums,
                           int64_t first_step) {
  const int64_t m = c.mine.size();
  const int64_t num_classes = c.train.num_classes();
  const PairNormalization norm = parse_pair_normalization(prior.pair_normalizer);
  // Test-only: the transposed (reversed) triangle, a wrong prior the e2e test must reject.
  const bool reversed = test_hook_value("IPM_TEST_REVERSE_RANKING") == 1;
  std::vector<int64_t> rows(static_cast<size_t>(2 * m));  // first members, then second ones
  std::vector<PairOrder> orders(static_cast<size_t>(m));
  const int64_t start = sums.steps_done;
  for (int64_t s = start; s < steps; ++s) {
    if (stop_before_step(c, s, start, first_step)) break;
    for (int64_t i = 0; i < m; ++i) {
      const auto j = static_cast<size_t>(order[static_cast<size_t>(s * c.t.batch + c.mine.begin + i)]);
      rows[static_cast<size_t>(i)] = pairs.a[j];
      rows[static_cast<size_t>(m + i)] = pairs.b[j];
      orders[static_cast<size_t>(i)] = pairs.order[j];
    }
    // One forward over both members: the network is per image, so this is the same as two.
    const torch::Tensor x = to_model_layout(c.train.x(rows).to(c.comm.device(), c.dtype));
    const torch::Tensor log_q = torch::log_softmax(c.model.forward(x), 1);
    const torch::Tensor joint =
        ranking_joint_prior(orders, num_classes, prior.ties, prior.smoothing, reversed)
            .to(c.comm.device(), c.dtype);
    const PairLossTerms terms = pair_loss_terms(c.loss_kind, log_q.narrow(0, 0, m),
                                                log_q.narrow(0, m, m), joint, norm, c.normalizer);
    // Each rank's share of the global mean over pairs; gradients are summed over ranks.
    const torch::Tensor loss = terms.per_pair.sum() / static_cast<double>(c.t.batch);
    c.opt.zero_grad();
    loss.backward();
    c.reducer.sum_gradients();
    c.opt.step();

    const double share = loss.item<double>();
    sums.loss += share;
    note_step_loss(c, share, s);
    const torch::Tensor y = c.train.y(rows).to(c.comm.device());  // metrics only
    sums.correct_q += log_q.argmax(1).eq(y).sum().item<int64_t>();
    const torch::Tensor log_r = torch::cat({terms.log_ra, terms.log_rb}, 0);
    sums.correct_r += log_r.argmax(1).eq(y).sum().item<int64_t>();
    sums.steps_done = s + 1;
  }
  return sums;
}

}  // namespace ipm
