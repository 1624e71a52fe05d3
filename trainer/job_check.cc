#include "trainer/job_check.h"

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "io/h5_split.h"
#include "losses/implicit_losses.h"
#include "priors/prior_check.h"
#include "trainer/pair_training.h"
#include "trainer/segmentation.h"
#include "trainer/small_cnn.h"
#include "trainer/train_common.h"

namespace ipm {

void check_job(const JobSpec& spec) {
  const H5Split train(spec.data.file, spec.data.train, /*preload=*/false);
  // Per-pixel labels: trainer/segmentation.h checks those jobs.
  if (train.label_shape().size() == 2) return check_segmentation_job(spec);
  check_pretrain(spec.train);
  IPM_CHECK(spec.train.q_smoothing == 0.0,
            "train.q_smoothing applies to segmentation jobs (per-pixel labels) only");
  IPM_CHECK(spec.arch != "fcn", "model.arch = \"fcn\" predicts per-pixel labels but "
                                    << train.where() << "/y has one label per sample");
  const H5Split test(spec.data.file, spec.data.test, /*preload=*/false);
  IPM_CHECK(test.sample_shape() == train.sample_shape(),
            test.where() << ": sample shape differs from " << train.where());
  const auto prior = make_prior_source(spec.prior, train.num_classes());
  if (prior->needs_stored()) {
    IPM_CHECK(train.has_prior(),
              train.where() << ": prior.kind = \"stored\" but the split has no 'prior' dataset");
    // Every stored row, now: a bad row found mid-training would waste the epochs before it.
    constexpr int64_t kChunk = 8192;
    std::vector<int64_t> rows;
    for (int64_t s = 0; s < train.size(); s += kChunk) {
      rows.clear();
      for (int64_t i = s; i < std::min(s + kChunk, train.size()); ++i) rows.push_back(i);
      validate_prior(train.prior(rows), train.num_classes(), train.where() + "/prior", rows);
    }
  }
  parse_loss(spec.train.loss);
  IPM_CHECK(spec.train.optimizer == "adam" || spec.train.optimizer == "adamw",
            "train.optimizer = '" << spec.train.optimizer << "' is unknown");
  IPM_CHECK(spec.train.normalizer == "local" || spec.train.normalizer == "global" ||
                spec.train.normalizer == "ema",
            "train.normalizer = '" << spec.train.normalizer << "' is unknown");
  const int64_t n = spec.train.train_subset > 0
                        ? std::min(spec.train.train_subset, train.size()) : train.size();
  IPM_CHECK(spec.train.batch <= n, "train.batch = " << spec.train.batch << " exceeds the "
                                                    << n << " training rows");
  check_ranking_job(spec, n);
  make_model(spec.arch, train.sample_shape(), train.num_classes(), spec.model_width);
}

}  // namespace ipm
