// Tests of priors/ (prior_source.h, prior_check.h, synthetic_priors.h):
//   * negative prior: exactly k zeros, never on the true label, 1/(L-k) elsewhere, rows sum
//     to 1; k = L-1 is one-hot; every k-subset of wrong labels equally likely; each wrong
//     label ruled out with frequency k/(L-1);
//   * partial prior: the true label always in the set, uniform over the set, each wrong label
//     included with frequency prob; prob = 0 is one-hot, prob = 1 is uniform;
//   * determinism in (seed, index): the same sample gets the same row in any batch, in any
//     order; other seeds give other rows;
//   * stored prior: rows passed through, a clear error when absent or invalid;
//   * smoothing: rows still sum to 1, zeros lifted to eps / (1 + L eps);
//   * make_prior_source / validate_prior / smooth_prior errors name the key, value and sample.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/test_util.h"  // ErrorOf, EXPECT_CONTAINS
#include "common/error.h"
#include "priors/prior_check.h"
#include "priors/prior_source.h"
#include "priors/synthetic_priors.h"

namespace {

using torch::Tensor;

// ---------------------------------------------------------------------------------------------
// Helpers


Tensor Labels(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kInt64); }

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> v;
  for (int64_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

// The prior of a batch; y and stored may be undefined.
Tensor PriorOf(const ipm::PriorSource& s, const std::vector<int64_t>& indices, const Tensor& y,
               const Tensor& stored = Tensor()) {
  const ipm::PriorInputs in{indices, y, stored};
  return s.prior(in);
}

// A label for sample `index` that does not depend on the batch: the source must only see it.
int64_t LabelOf(int64_t index, int64_t num_classes) {
  return (index * 7 + index / 3) % num_classes;
}

Tensor LabelsOf(const std::vector<int64_t>& indices, int64_t num_classes) {
  std::vector<int64_t> y;
  for (const int64_t i : indices) y.push_back(LabelOf(i, num_classes));
  return Labels(y);
}

std::unique_ptr<ipm::PriorSource> Negative(int64_t num_classes, int64_t k, uint64_t seed,
                                           double smoothing = 0.0) {
  ipm::PriorSpec spec;
  spec.kind = ipm::PriorKind::kNegative;
  spec.k = k;
  spec.seed = seed;
  spec.smoothing = smoothing;
  return ipm::make_prior_source(spec, num_classes);
}

std::unique_ptr<ipm::PriorSource> Partial(int64_t num_classes, double prob, uint64_t seed,
                                          double smoothing = 0.0) {
  ipm::PriorSpec spec;
  spec.kind = ipm::PriorKind::kPartial;
  spec.prob = prob;
  spec.seed = seed;
  spec.smoothing = smoothing;
  return ipm::make_prior_source(spec, num_classes);
}

std::unique_ptr<ipm::PriorSource> Stored(int64_t num_classes, double smoothing = 0.0) {
  ipm::PriorSpec spec;
  spec.kind = ipm::PriorKind::kStored;
  spec.smoothing = smoothing;
  return ipm::make_prior_source(spec, num_classes);
}

// A batch of many samples for the statistical tests.
constexpr int64_t kManySamples = 20000;

// ---------------------------------------------------------------------------------------------
// Negative prior

TEST(NegativePrior, RowsHaveExactlyKZerosOffTheTrueLabelAndUniformMassElsewhere) {
  for (const int64_t num_classes : {2, 3, 10}) {
    for (int64_t k = 1; k < num_classes; ++k) {
      SCOPED_TRACE("L = " + std::to_string(num_classes) + ", k = " + std::to_string(k));
      const auto src = Negative(num_classes, k, /*seed=*/3);
      EXPECT_EQ(src->num_classes(), num_classes);
      EXPECT_FALSE(src->needs_stored());
      const std::vector<int64_t> idx = Range(0, 500);
      const Tensor y = LabelsOf(idx, num_classes);
      const Tensor p = PriorOf(*src, idx, y);
      ASSERT_EQ(p.scalar_type(), torch::kFloat32);
      ASSERT_EQ(p.sizes(), (std::vector<int64_t>{500, num_classes}));
      const Tensor pc = p.contiguous();
      const float* v = pc.data_ptr<float>();
      const float expected = 1.0f / static_cast<float>(num_classes - k);
      for (int64_t i = 0; i < 500; ++i) {
        const int64_t yi = LabelOf(idx[static_cast<size_t>(i)], num_classes);
        int64_t zeros = 0;
        double sum = 0.0;
        for (int64_t l = 0; l < num_classes; ++l) {
          const float x = v[i * num_classes + l];
          sum += x;
          if (x == 0.0f) {
            ++zeros;
            EXPECT_NE(l, yi) << "sample " << i << ": the true label is ruled out";
          } else {
            EXPECT_NEAR(x, expected, 1e-6) << "sample " << i << " label " << l;
          }
        }
        EXPECT_EQ(zeros, k) << "sample " << i;
        EXPECT_NEAR(sum, 1.0, 1e-6) << "sample " << i;
        EXPECT_GT(v[i * num_classes + yi], 0.0f) << "sample " << i;
      }
    }
  }
}

TEST(NegativePrior, KEqualToLMinusOneIsOneHotOnTheTrueLabel) {
  const int64_t num_classes = 6;
  const auto src = Negative(num_classes, num_classes - 1, /*seed=*/11);
  const std::vector<int64_t> idx = Range(100, 160);
  const Tensor y = LabelsOf(idx, num_classes);
  const Tensor p = PriorOf(*src, idx, y);
  const Tensor onehot = torch::one_hot(y, num_classes).to(torch::kFloat32);
  EXPECT_TRUE(torch::equal(p, onehot));
}

TEST(NegativePrior, SameSeedAndIndexGiveTheSameRowInAnyBatch) {
  const int64_t num_classes = 10;
  const auto src = Negative(num_classes, 3, /*seed=*/5);
  // Sample 1234 in two different batches, at different positions, with different neighbours.
  const std::vector<int64_t> a = {7, 1234, 8, 9};
  const std::vector<int64_t> b = {99999, 42, 3, 17, 5, 1234};
  const Tensor pa = PriorOf(*src, a, LabelsOf(a, num_classes));
  const Tensor pb = PriorOf(*src, b, LabelsOf(b, num_classes));
  EXPECT_TRUE(torch::equal(pa[1], pb[5]));
  // Alone in a batch of one.
  const std::vector<int64_t> one = {1234};
  EXPECT_TRUE(torch::equal(pa[1], PriorOf(*src, one, LabelsOf(one, num_classes))[0]));

  // A whole batch in reverse order gives the reversed rows; a fresh source with the same
  // spec gives the same rows (no hidden state).
  const std::vector<int64_t> fwd = Range(0, 300);
  std::vector<int64_t> rev(fwd.rbegin(), fwd.rend());
  const Tensor pf = PriorOf(*src, fwd, LabelsOf(fwd, num_classes));
  const Tensor pr = PriorOf(*src, rev, LabelsOf(rev, num_classes));
  EXPECT_TRUE(torch::equal(pf, pr.flip({0})));
  const auto again = Negative(num_classes, 3, /*seed=*/5);
  EXPECT_TRUE(torch::equal(pf, PriorOf(*again, fwd, LabelsOf(fwd, num_classes))));
  // Repeated calls (epochs) give the same rows.
  EXPECT_TRUE(torch::equal(pf, PriorOf(*src, fwd, LabelsOf(fwd, num_classes))));
}

TEST(NegativePrior, DifferentSeedsGiveDifferentRowsForMostSamples) {
  const int64_t num_classes = 10, k = 3;
  const std::vector<int64_t> idx = Range(0, 2000);
  const Tensor y = LabelsOf(idx, num_classes);
  const Tensor p0 = PriorOf(*Negative(num_classes, k, 0), idx, y);
  const Tensor p1 = PriorOf(*Negative(num_classes, k, 1), idx, y);
  const int64_t same = (p0 == p1).all(1).sum().item<int64_t>();
  // Independent draws agree with probability 1 / C(9, 3) = 1/84: about 24 of 2000.
  EXPECT_LT(same, 80) << "seeds 0 and 1 agree on " << same << " of 2000 samples";
  // Within one seed, samples with the same label do not all get the same row.
  const Tensor y0 = torch::zeros({2000}, torch::kInt64);
  const Tensor q = PriorOf(*Negative(num_classes, k, 0), idx, y0);
  const int64_t same_as_first = (q == q[0]).all(1).sum().item<int64_t>();
  EXPECT_LT(same_as_first, 80);
}

TEST(NegativePrior, EachWrongLabelIsRuledOutWithFrequencyKOverLMinusOne) {
  const int64_t num_classes = 10;
  const std::vector<int64_t> idx = Range(0, kManySamples);
  const Tensor y = LabelsOf(idx, num_classes);
  for (const int64_t k : {1, 3, 8}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    const Tensor p = PriorOf(*Negative(num_classes, k, /*seed=*/7), idx, y);
    const Tensor zero = (p == 0).to(torch::kFloat64);                           // [N, L]
    const Tensor wrong = 1.0 - torch::one_hot(y, num_classes).to(torch::kFloat64);  // [N, L]
    const double expected = static_cast<double>(k) / static_cast<double>(num_classes - 1);
    // Per (true label, wrong label) pair: each pair has ~N/L samples.
    for (int64_t c = 0; c < num_classes; ++c) {
      const Tensor rows = (y == c);
      const double n = rows.sum().item<double>();
      ASSERT_GT(n, 1000.0);
      const Tensor freq = zero.index({rows}).sum(0) / n;  // [L]
      const double sigma = std::sqrt(expected * (1.0 - expected) / n);
      for (int64_t l = 0; l < num_classes; ++l) {
        const double f = freq[l].item<double>();
        if (l == c) {
          EXPECT_EQ(f, 0.0) << "true label " << c << " ruled out";
        } else {
          EXPECT_NEAR(f, expected, 5.0 * sigma + 1e-12)
              << "true label " << c << ", wrong label " << l;
        }
      }
    }
    // Pooled over all samples: tighter.
    const double pooled = (zero * wrong).sum().item<double>() / wrong.sum().item<double>();
    const double n = wrong.sum().item<double>();
    EXPECT_NEAR(pooled, expected, 5.0 * std::sqrt(expected * (1 - expected) / n));
  }
}

TEST(NegativePrior, EveryKSubsetOfWrongLabelsIsEquallyLikely) {
  // L = 5, k = 2: C(4, 2) = 6 subsets of the wrong labels, each with probability 1/6.
  const int64_t num_classes = 5, k = 2;
  const std::vector<int64_t> idx = Range(0, kManySamples);
  const Tensor y = torch::full({kManySamples}, 2, torch::kInt64);
  const Tensor p = PriorOf(*Negative(num_classes, k, /*seed=*/9), idx, y).contiguous();
  std::map<int, int64_t> count;  // bit mask of ruled-out labels -> samples
  const float* v = p.data_ptr<float>();
  for (int64_t i = 0; i < kManySamples; ++i) {
    int mask = 0;
    for (int64_t l = 0; l < num_classes; ++l) {
      if (v[i * num_classes + l] == 0.0f) mask |= 1 << l;
    }
    ++count[mask];
  }
  ASSERT_EQ(count.size(), 6u);
  const double expected = 1.0 / 6.0;
  const double sigma = std::sqrt(expected * (1 - expected) / kManySamples);
  for (const auto& [mask, n] : count) {
    EXPECT_EQ(mask & (1 << 2), 0) << "true label ruled out";
    EXPECT_EQ(__builtin_popcount(static_cast<unsigned>(mask)), k);
    EXPECT_NEAR(static_cast<double>(n) / kManySamples, expected, 5.0 * sigma) << "mask " << mask;
  }
}

// ---------------------------------------------------------------------------------------------
// Partial prior

TEST(PartialPrior, TrueLabelAlwaysInTheSetAndUniformOverIt) {
  const int64_t num_classes = 8;
  for (const double prob : {0.1, 0.5, 0.9}) {
    SCOPED_TRACE("prob = " + std::to_string(prob));
    const auto src = Partial(num_classes, prob, /*seed=*/2);
    EXPECT_FALSE(src->needs_stored());
    const std::vector<int64_t> idx = Range(0, 1000);
    const Tensor y = LabelsOf(idx, num_classes);
    const Tensor p = PriorOf(*src, idx, y).contiguous();
    ASSERT_EQ(p.sizes(), (std::vector<int64_t>{1000, num_classes}));
    const float* v = p.data_ptr<float>();
    for (int64_t i = 0; i < 1000; ++i) {
      const int64_t yi = LabelOf(i, num_classes);
      ASSERT_GT(v[i * num_classes + yi], 0.0f) << "sample " << i << ": true label not in set";
      int64_t members = 0;
      double sum = 0.0;
      for (int64_t l = 0; l < num_classes; ++l) {
        if (v[i * num_classes + l] > 0.0f) ++members;
        sum += v[i * num_classes + l];
      }
      for (int64_t l = 0; l < num_classes; ++l) {
        const float x = v[i * num_classes + l];
        if (x > 0.0f) {
          EXPECT_NEAR(x, 1.0f / static_cast<float>(members), 1e-6);
        }
      }
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
  }
}

TEST(PartialPrior, EachWrongLabelJoinsWithFrequencyProb) {
  const int64_t num_classes = 10;
  const std::vector<int64_t> idx = Range(0, kManySamples);
  const Tensor y = LabelsOf(idx, num_classes);
  for (const double prob : {0.2, 0.5, 0.85}) {
    SCOPED_TRACE("prob = " + std::to_string(prob));
    const Tensor p = PriorOf(*Partial(num_classes, prob, /*seed=*/4), idx, y);
    const Tensor in = (p > 0).to(torch::kFloat64);
    for (int64_t c = 0; c < num_classes; ++c) {
      const Tensor rows = (y == c);
      const double n = rows.sum().item<double>();
      const Tensor freq = in.index({rows}).sum(0) / n;
      const double sigma = std::sqrt(prob * (1 - prob) / n);
      for (int64_t l = 0; l < num_classes; ++l) {
        if (l == c) {
          EXPECT_EQ(freq[l].item<double>(), 1.0);
        } else {
          EXPECT_NEAR(freq[l].item<double>(), prob, 5.0 * sigma)
              << "true label " << c << ", wrong label " << l;
        }
      }
    }
    // Set size: 1 + Binomial(L-1, prob).
    const double mean_size = in.sum(1).mean().item<double>();
    const double var = (num_classes - 1) * prob * (1 - prob);
    EXPECT_NEAR(mean_size, 1.0 + (num_classes - 1) * prob,
                5.0 * std::sqrt(var / kManySamples));
  }
}

TEST(PartialPrior, ProbZeroIsOneHotAndProbOneIsUniform) {
  const int64_t num_classes = 7;
  const std::vector<int64_t> idx = Range(0, 3000);
  const Tensor y = LabelsOf(idx, num_classes);
  const Tensor p0 = PriorOf(*Partial(num_classes, 0.0, 1), idx, y);
  EXPECT_TRUE(torch::equal(p0, torch::one_hot(y, num_classes).to(torch::kFloat32)));
  const Tensor p1 = PriorOf(*Partial(num_classes, 1.0, 1), idx, y);
  EXPECT_TRUE(torch::allclose(p1, torch::full({3000, num_classes}, 1.0 / num_classes, torch::kFloat32),
                              /*rtol=*/0, /*atol=*/1e-7));
}

TEST(PartialPrior, DeterministicInSeedAndIndex) {
  const int64_t num_classes = 10;
  const auto src = Partial(num_classes, 0.4, /*seed=*/8);
  const std::vector<int64_t> a = {5, 77777, 6};
  const std::vector<int64_t> b = {77777, 1, 2, 3, 4};
  const Tensor pa = PriorOf(*src, a, LabelsOf(a, num_classes));
  const Tensor pb = PriorOf(*src, b, LabelsOf(b, num_classes));
  EXPECT_TRUE(torch::equal(pa[1], pb[0]));
  const std::vector<int64_t> idx = Range(0, 2000);
  const Tensor y = LabelsOf(idx, num_classes);
  const Tensor q8 = PriorOf(*src, idx, y);
  EXPECT_TRUE(torch::equal(q8, PriorOf(*Partial(num_classes, 0.4, 8), idx, y)));
  const Tensor q9 = PriorOf(*Partial(num_classes, 0.4, 9), idx, y);
  const int64_t same = (q8 == q9).all(1).sum().item<int64_t>();
  // Two independent sets of 9 Bernoulli(0.4) agree with probability (0.52)^9 ~ 0.3%.
  EXPECT_LT(same, 60) << same << " of 2000 rows agree across seeds";
}

TEST(PartialPrior, DoesNotShareRandomNumbersWithNegativePrior) {
  // Same seed, different streams: the partial set is not the complement of the negative
  // labels (or any fixed function of them) for most samples.
  const int64_t num_classes = 10;
  const std::vector<int64_t> idx = Range(0, 2000);
  const Tensor y = LabelsOf(idx, num_classes);
  const Tensor neg = PriorOf(*Negative(num_classes, 5, 3), idx, y) > 0;   // 5 labels in
  const Tensor part = PriorOf(*Partial(num_classes, 0.5, 3), idx, y) > 0;
  const int64_t same = (neg == part).all(1).sum().item<int64_t>();
  EXPECT_LT(same, 100);
}

// ---------------------------------------------------------------------------------------------
// Stored prior and smoothing

TEST(StoredPrior, PassesRowsThrough) {
  const int64_t num_classes = 4;
  const auto src = Stored(num_classes);
  EXPECT_TRUE(src->needs_stored());
  torch::manual_seed(0);
  const Tensor stored64 = torch::softmax(torch::randn({6, num_classes}, torch::kFloat64), 1);
  const std::vector<int64_t> idx = {10, 3, 8, 1, 0, 5};
  const Tensor y = torch::zeros({6}, torch::kInt64);
  const Tensor p = PriorOf(*src, idx, y, stored64);
  EXPECT_EQ(p.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(p, stored64.to(torch::kFloat32)));
  // y is not needed by a stored prior.
  const Tensor stored32 = stored64.to(torch::kFloat32);
  EXPECT_TRUE(torch::equal(PriorOf(*src, idx, Tensor(), stored32), stored32));
}

TEST(StoredPrior, ErrorsClearlyWhenAbsentOrInvalid) {
  const auto src = Stored(3);
  const std::vector<int64_t> idx = {0, 1};
  const Tensor y = torch::zeros({2}, torch::kInt64);
  const std::string absent = ErrorOf([&] { PriorOf(*src, idx, y, Tensor()); });
  EXPECT_CONTAINS(absent, "stored");
  EXPECT_CONTAINS(absent, "no prior");

  // A negative entry in sample 17's row (batch position 1).
  const std::vector<int64_t> idx2 = {4, 17};
  const Tensor bad = torch::tensor({0.2f, 0.3f, 0.5f, 1.2f, -0.2f, 0.0f}).reshape({2, 3});
  const std::string neg = ErrorOf([&] { PriorOf(*src, idx2, y, bad); });
  EXPECT_CONTAINS(neg, "sample 17");
  EXPECT_CONTAINS(neg, "negative");
  EXPECT_CONTAINS(neg, "stored");

  // An all-zero row must be rejected even with smoothing (which would hide it).
  const auto smoothed = Stored(3, 0.1);
  const Tensor zero_row = torch::tensor({0.2f, 0.3f, 0.5f, 0.0f, 0.0f, 0.0f}).reshape({2, 3});
  EXPECT_CONTAINS(ErrorOf([&] { PriorOf(*smoothed, idx2, y, zero_row); }), "sample 17");

  // Wrong number of classes.
  const Tensor wide = torch::full({2, 4}, 0.25f);
  const std::string shape = ErrorOf([&] { PriorOf(*src, idx2, y, wide); });
  EXPECT_CONTAINS(shape, "shape");
  EXPECT_CONTAINS(shape, "3");
}

TEST(Smoothing, KeepsRowsSummingToOneAndLiftsZeros) {
  const int64_t num_classes = 10, k = 4;
  const double eps = 0.01;
  const std::vector<int64_t> idx = Range(0, 400);
  const Tensor y = LabelsOf(idx, num_classes);
  const Tensor raw = PriorOf(*Negative(num_classes, k, 6), idx, y);
  const Tensor p = PriorOf(*Negative(num_classes, k, 6, eps), idx, y);
  ASSERT_EQ(p.sizes(), raw.sizes());
  EXPECT_TRUE(torch::allclose(p.to(torch::kFloat64).sum(1), torch::ones({400}, torch::kFloat64),
                              0, 1e-6));
  const double lifted = eps / (1.0 + num_classes * eps);
  const double kept = (1.0 / (num_classes - k) + eps) / (1.0 + num_classes * eps);
  const Tensor expected = torch::where(raw == 0, torch::full_like(raw, lifted),
                                       torch::full_like(raw, kept));
  EXPECT_TRUE(torch::allclose(p, expected, 0, 1e-6));
  EXPECT_GT(p.min().item<float>(), 0.0f);

  // Stored rows and the partial prior smooth the same way.
  const Tensor stored = torch::tensor({1.0f, 0.0f, 0.0f, 0.5f, 0.5f, 0.0f}).reshape({2, 3});
  const std::vector<int64_t> two = {0, 1};
  const Tensor ps = PriorOf(*Stored(3, 0.5), two, Tensor(), stored);
  const Tensor es = (stored + 0.5) / 2.5;
  EXPECT_TRUE(torch::allclose(ps, es, 0, 1e-7));
  const Tensor pp = PriorOf(*Partial(num_classes, 0.0, 1, eps), idx, y);
  EXPECT_TRUE(torch::allclose(
      pp, (torch::one_hot(y, num_classes).to(torch::kFloat32) + eps) / (1 + num_classes * eps),
      0, 1e-6));
}

TEST(Smoothing, SmoothPriorDirect) {
  const Tensor p = torch::tensor({0.0f, 0.25f, 0.75f, 0.0f}).reshape({1, 4});
  EXPECT_TRUE(torch::equal(ipm::smooth_prior(p, 0.0), p));
  const Tensor s = ipm::smooth_prior(p, 0.2);
  EXPECT_NEAR(s.sum().item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(s[0][0].item<double>(), 0.2 / 1.8, 1e-7);
  EXPECT_NEAR(s[0][2].item<double>(), 0.95 / 1.8, 1e-7);
  EXPECT_CONTAINS(ErrorOf([&] { ipm::smooth_prior(p, -0.1); }), "prior.smoothing");
  EXPECT_CONTAINS(ErrorOf([&] { ipm::smooth_prior(p, std::nan("")); }), "prior.smoothing");
  EXPECT_CONTAINS(
      ErrorOf([&] { ipm::smooth_prior(p, std::numeric_limits<double>::infinity()); }),
      "prior.smoothing");
}

// ---------------------------------------------------------------------------------------------
// make_prior_source

TEST(MakePriorSource, RejectsBadKWithTheKeyAndValue) {
  const std::string k0 = ErrorOf([] { Negative(10, 0, 0); });
  EXPECT_CONTAINS(k0, "prior.k");
  EXPECT_CONTAINS(k0, "= 0");
  const std::string k10 = ErrorOf([] { Negative(10, 10, 0); });
  EXPECT_CONTAINS(k10, "prior.k");
  EXPECT_CONTAINS(k10, "10");
  const std::string kneg = ErrorOf([] { Negative(10, -2, 0); });
  EXPECT_CONTAINS(kneg, "prior.k");
  EXPECT_CONTAINS(kneg, "-2");
  const std::string kbig = ErrorOf([] { Negative(3, 57, 0); });
  EXPECT_CONTAINS(kbig, "57");
  // The limits themselves are fine.
  EXPECT_NO_THROW(Negative(10, 1, 0));
  EXPECT_NO_THROW(Negative(10, 9, 0));
  EXPECT_NO_THROW(Negative(2, 1, 0));
}

// Unknown names are the key table's to refuse (config_test); a coarse prior needs the
// segmentation trainer.
TEST(MakePriorSource, RejectsCoarseForClassificationData) {
  ipm::PriorSpec spec;
  spec.kind = ipm::PriorKind::kCoarse;
  const std::string msg = ErrorOf([&] { ipm::make_prior_source(spec, 10); });
  EXPECT_CONTAINS(msg, "prior.kind = \"coarse\"");
  EXPECT_CONTAINS(msg, "per-pixel labels");
}

TEST(MakePriorSource, RejectsNegativeSmoothing) {
  for (const ipm::PriorKind kind :
       {ipm::PriorKind::kNegative, ipm::PriorKind::kPartial, ipm::PriorKind::kStored}) {
    ipm::PriorSpec spec;
    spec.kind = kind;
    spec.smoothing = -0.25;
    const std::string msg = ErrorOf([&] { ipm::make_prior_source(spec, 10); });
    EXPECT_CONTAINS(msg, "prior.smoothing");
    EXPECT_CONTAINS(msg, "-0.25");
  }
}

TEST(MakePriorSource, RejectsNonFiniteSmoothingUpFront) {
  // A bad spec should fail when the source is made (config time), not on the first batch.
  for (const double eps : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE("smoothing = " + std::to_string(eps));
    ipm::PriorSpec spec;
    spec.smoothing = eps;
    EXPECT_CONTAINS(ErrorOf([&] { ipm::make_prior_source(spec, 10); }), "prior.smoothing");
  }
}

TEST(MakePriorSource, RejectsBadProbAndTooFewClasses) {
  for (const double prob : {-0.1, 1.5, std::nan("")}) {
    ipm::PriorSpec spec;
    spec.kind = ipm::PriorKind::kPartial;
    spec.prob = prob;
    EXPECT_CONTAINS(ErrorOf([&] { ipm::make_prior_source(spec, 10); }), "prior.prob");
  }
  ipm::PriorSpec spec;
  const std::string one = ErrorOf([&] { ipm::make_prior_source(spec, 1); });
  EXPECT_CONTAINS(one, "1");
  spec.kind = ipm::PriorKind::kStored;
  EXPECT_CONTAINS(ErrorOf([&] { ipm::make_prior_source(spec, 0); }), "0");
}

// ---------------------------------------------------------------------------------------------
// Labels given to synthetic sources

TEST(SyntheticPriors, RejectLabelsOutsideTheClassRange) {
  const int64_t num_classes = 5;
  const std::vector<int64_t> idx = {30, 31, 32};
  for (const auto& make : {+[] { return Negative(5, 2, 0); }, +[] { return Partial(5, 0.5, 0); }}) {
    const auto src = make();
    const std::string high = ErrorOf([&] { PriorOf(*src, idx, Labels({0, 4, num_classes})); });
    EXPECT_CONTAINS(high, "sample 32");
    EXPECT_CONTAINS(high, "label 5");
    const std::string low = ErrorOf([&] { PriorOf(*src, idx, Labels({0, -1, 2})); });
    EXPECT_CONTAINS(low, "sample 31");
    EXPECT_CONTAINS(low, "label -1");
    // No labels, or the wrong number of labels.
    EXPECT_CONTAINS(ErrorOf([&] { PriorOf(*src, idx, Tensor()); }), "labels");
    EXPECT_CONTAINS(ErrorOf([&] { PriorOf(*src, idx, Labels({0, 1})); }), "labels");
  }
}

TEST(SyntheticPriors, EmptyBatchGivesAnEmptyPrior) {
  const std::vector<int64_t> none;
  const Tensor y = torch::zeros({0}, torch::kInt64);
  const Tensor p = PriorOf(*Negative(4, 1, 0), none, y);
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{0, 4}));
}

// ---------------------------------------------------------------------------------------------
// validate_prior

TEST(ValidatePrior, AcceptsValidRows) {
  const Tensor p = torch::tensor({0.5f, 0.5f, 0.0f, 0.0f, 0.0f, 1.0f}).reshape({2, 3});
  EXPECT_NO_THROW(ipm::validate_prior(p, 3, "test"));
  // float32 rounding within the tolerance.
  const Tensor near = torch::tensor({1.0 / 3 + 2e-5, 1.0 / 3, 1.0 / 3}, torch::kFloat64)
                          .reshape({1, 3});
  EXPECT_NO_THROW(ipm::validate_prior(near, 3, "test"));
  // Empty batch.
  EXPECT_NO_THROW(ipm::validate_prior(torch::zeros({0, 3}), 3, "test"));
}

TEST(ValidatePrior, RejectsBadRowsNamingTheSample) {
  const int64_t L = 3;
  const std::vector<int64_t> indices = {100, 205, 999};
  struct Case {
    const char* name;
    std::vector<double> bad_row;
    const char* what;
  };
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Case> cases = {
      {"negative", {1.2, -0.2, 0.0}, "negative"},
      {"nan", {0.5, std::nan(""), 0.5}, "not finite"},
      {"inf", {inf, 0.0, 0.0}, "not finite"},
      {"-inf", {0.5, 0.5, -inf}, "not finite"},
      {"all zero", {0.0, 0.0, 0.0}, "all zero"},
      {"sum 1.1", {0.5, 0.5, 0.1}, "sums to"},
      {"sum 0.9", {0.3, 0.3, 0.3}, "sums to"},
      {"sum 1 + 1e-3", {0.5, 0.501, 0.0}, "sums to"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    for (const int64_t bad : {0, 2}) {
      Tensor p = torch::full({3, L}, 1.0 / L, torch::kFloat64);
      p[bad] = torch::tensor(c.bad_row, torch::kFloat64);
      for (const auto dtype : {torch::kFloat64, torch::kFloat32}) {
        const Tensor pd = p.to(dtype);
        const std::string with_idx =
            ErrorOf([&] { ipm::validate_prior(pd, L, "my source", indices); });
        EXPECT_CONTAINS(with_idx, "my source");
        EXPECT_CONTAINS(with_idx, "sample " + std::to_string(indices[bad]));
        EXPECT_CONTAINS(with_idx, c.what);
        // Without indices the batch row is named.
        const std::string no_idx = ErrorOf([&] { ipm::validate_prior(pd, L, "src"); });
        EXPECT_CONTAINS(no_idx, "sample " + std::to_string(bad));
      }
    }
  }
}

TEST(ValidatePrior, RejectsWrongShape) {
  const std::string wide = ErrorOf([] { ipm::validate_prior(torch::full({2, 4}, 0.25), 3, "w"); });
  EXPECT_CONTAINS(wide, "w");
  EXPECT_CONTAINS(wide, "shape");
  EXPECT_CONTAINS(wide, "3");
  EXPECT_CONTAINS(ErrorOf([] { ipm::validate_prior(torch::full({3}, 1.0 / 3), 3, "v"); }),
                  "shape");
  EXPECT_CONTAINS(ErrorOf([] { ipm::validate_prior(torch::full({2, 3, 1}, 1.0 / 3), 3, "v"); }),
                  "shape");
}

}  // namespace
