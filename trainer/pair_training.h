// The training step for ranking supervision (§4.2): batches of pairs, the joint prior of
// Eq. 6, QR / RQ against the marginals of r.
// defines: ipm::make_job_pairs, ipm::check_ranking_job (and kRankingTask of trainer/task.h)
//
// train.batch counts pairs (the paper's Fig. 4: "batches of 128 ranked pairs"), so a step
// sees 2 * train.batch images. The global batch is sliced over ranks by pairs, so both
// members of a pair are always on one rank; the normalizer (local or global) spans the
// images of this rank's pairs or of every rank's. With prior.pair_source = "seeded", y is
// read once to fix what is observed about each pair (first greater, second greater, equal);
// with "file", pairs and observations come from /<train split>/pairs. Either way y is
// otherwise read only for accuracy metrics; the loss sees only the observation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "io/h5_split.h"
#include "priors/pair_prior.h"
#include "trainer/job_spec.h"

namespace ipm {

// The run's pairs over training rows [0, n) when prior.kind = "ranking", else null.
std::unique_ptr<RankedPairs> make_job_pairs(const JobSpec& spec, const H5Split& train,
                                            int64_t n);

// The ranking job's settings against its data (n training rows); throws ipm::Error naming
// the key. No-op for other prior kinds.
void check_ranking_job(const JobSpec& spec, int64_t n);

}  // namespace ipm
