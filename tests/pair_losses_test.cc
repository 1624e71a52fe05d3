// Tests of the ranking pieces (§4.2, Eq. 6) and of the F.2 criterion (App. F.1):
//   * pair QR / RQ values and gradients against tests/data/pair_fixtures.txt (float64
//     PyTorch autograd of the paper's formulas, tools/reference/make_pair_fixtures.py), both
//     normalizations, to 1e-9; the same in float32 to float32 round-off;
//   * gradients against central finite differences of the C++ loss itself;
//   * identities: a joint prior that fixes both labels gives two one-hot (CE) terms for RQ; a
//     product prior u(l1) v(l2) with per-position normalizers gives the per-image losses of
//     Eq. 3 for each member; zero prior cells keep everything finite;
//   * the triangles of Eq. 6 (1/55 for L = 10, both orders, ties, smoothing, reversal);
//   * the pairs of a run: disjoint, seeded, observation from y; bad counts are errors;
//   * F.2 values and gradients against the fixture and finite differences; F.2 of a constant
//     q is log M.
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "losses/implicit_losses.h"
#include "losses/normalizer.h"
#include "losses/pair_losses.h"
#include "priors/pair_prior.h"

namespace {

using ipm::LossKind;
using ipm::PairNormalization;
using torch::Tensor;

auto f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

::testing::AssertionResult Close(const Tensor& actual, const Tensor& expected, double rtol,
                                 double atol) {
  const Tensor a = actual.to(torch::kFloat64).reshape(-1);
  const Tensor e = expected.to(torch::kFloat64).reshape(-1);
  if (a.numel() != e.numel()) return ::testing::AssertionFailure() << "size differs";
  if (!torch::isfinite(a).all().item<bool>()) return ::testing::AssertionFailure() << "not finite";
  const Tensor excess = (a - e).abs() - (atol + rtol * e.abs());
  const int64_t worst = excess.argmax().item<int64_t>();
  if (excess[worst].item<double>() > 0) {
    return ::testing::AssertionFailure() << "entry " << worst << ": " << a[worst].item<double>()
                                         << " vs " << e[worst].item<double>();
  }
  return ::testing::AssertionSuccess();
}

struct PairResult {
  Tensor value, grad_a, grad_b;
};

// d(mean_j loss_j) / d log_qa, log_qb with the log q themselves the leaves.
PairResult pair_value_and_grad(LossKind kind, const Tensor& log_qa, const Tensor& log_qb,
                               const Tensor& prior, PairNormalization norm) {
  ipm::LocalNormalizer local;
  Tensor a = log_qa.detach().clone().set_requires_grad(true);
  Tensor b = log_qb.detach().clone().set_requires_grad(true);
  const Tensor v = ipm::pair_loss_terms(kind, a, b, prior, norm, local).per_pair;
  v.mean().backward();
  return {v.detach(), a.grad().detach(), b.grad().detach()};
}

// ---------------------------------------------------------------------------------------------
// Fixture file

struct PairCase {
  std::string name, norm, loss;
  int64_t p = 0, l = 0;
  Tensor log_qa, log_qb, prior, value, grad_a, grad_b;
};
struct F2Case {
  std::string name;
  int64_t m = 0, l = 0;
  Tensor log_q, value, grad;
};

Tensor read_matrix(std::istream& in, const std::string& label, int64_t rows, int64_t cols) {
  std::string w;
  in >> w;
  IPM_CHECK(w == label, "pair fixture: expected '" << label << "', got '" << w << "'");
  std::vector<double> v(static_cast<size_t>(rows * cols));
  for (double& x : v) IPM_CHECK(static_cast<bool>(in >> x), "pair fixture: short " << label);
  return torch::tensor(v, f64()).reshape({rows, cols});
}

void read_fixtures(std::vector<PairCase>& pairs, std::vector<F2Case>& f2s) {
  std::ifstream in(std::string(IPM_TEST_DATA_DIR) + "/pair_fixtures.txt");
  IPM_CHECK(in, "cannot open pair_fixtures.txt");
  std::string line;
  std::stringstream body;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') body << line << "\n";
  }
  std::string w;
  while (body >> w) {
    if (w == "pair") {
      PairCase c;
      body >> c.name >> c.p >> c.l >> c.norm >> c.loss;
      c.log_qa = read_matrix(body, "log_qa", c.p, c.l);
      c.log_qb = read_matrix(body, "log_qb", c.p, c.l);
      c.prior = read_matrix(body, "prior", c.p * c.l, c.l).reshape({c.p, c.l, c.l});
      c.value = read_matrix(body, "value", 1, c.p).reshape({c.p});
      c.grad_a = read_matrix(body, "grad_a", c.p, c.l);
      c.grad_b = read_matrix(body, "grad_b", c.p, c.l);
      pairs.push_back(c);
    } else {
      IPM_CHECK(w == "f2", "pair fixture: unexpected '" << w << "'");
      F2Case c;
      body >> c.name >> c.m >> c.l;
      c.log_q = read_matrix(body, "log_q", c.m, c.l);
      c.value = read_matrix(body, "value", 1, c.m).reshape({c.m});
      c.grad = read_matrix(body, "grad", c.m, c.l);
      f2s.push_back(c);
    }
    body >> w;
    IPM_CHECK(w == "end", "pair fixture: expected 'end', got '" << w << "'");
  }
}

const std::vector<PairCase>& pair_cases() {
  static std::vector<PairCase> p;
  static std::vector<F2Case> f;
  if (p.empty()) read_fixtures(p, f);
  return p;
}
const std::vector<F2Case>& f2_cases() {
  static std::vector<PairCase> p;
  static std::vector<F2Case> f;
  if (f.empty()) read_fixtures(p, f);
  return f;
}

TEST(PairFixtures, CoverEveryPriorNormalizationAndLoss) {
  std::set<std::string> seen;
  for (const auto& c : pair_cases()) seen.insert(c.name + "/" + c.norm + "/" + c.loss);
  EXPECT_EQ(seen.size(), 4u * 2u * 2u);
  EXPECT_EQ(f2_cases().size(), 2u);
}

TEST(PairFixtures, MatchReferenceFloat64) {
  for (const auto& c : pair_cases()) {
    SCOPED_TRACE(c.name + " " + c.norm + " " + c.loss);
    const PairResult r =
        pair_value_and_grad(ipm::parse_loss(c.loss), c.log_qa, c.log_qb, c.prior,
                            ipm::parse_enum<PairNormalization>(c.norm, "pair normalization"));
    EXPECT_TRUE(Close(r.value, c.value, 1e-9, 1e-10));
    EXPECT_TRUE(Close(r.grad_a, c.grad_a, 1e-9, 1e-10));
    EXPECT_TRUE(Close(r.grad_b, c.grad_b, 1e-9, 1e-10));
  }
}

TEST(PairFixtures, MatchReferenceFloat32) {
  for (const auto& c : pair_cases()) {
    SCOPED_TRACE(c.name + " " + c.norm + " " + c.loss);
    const PairResult r =
        pair_value_and_grad(ipm::parse_loss(c.loss), c.log_qa.to(torch::kFloat32),
                            c.log_qb.to(torch::kFloat32), c.prior.to(torch::kFloat32),
                            ipm::parse_enum<PairNormalization>(c.norm, "pair normalization"));
    EXPECT_TRUE(Close(r.value, c.value, 1e-4, 1e-4));
    EXPECT_TRUE(Close(r.grad_a, c.grad_a, 1e-4, 1e-4));
    EXPECT_TRUE(Close(r.grad_b, c.grad_b, 1e-4, 1e-4));
  }
}

// Central differences of the C++ mean loss over every entry of log_qa and log_qb.
TEST(PairFiniteDifferences, GradientsMatchCentralDifferences) {
  const double h = 1e-6;
  for (const auto& c : pair_cases()) {
    SCOPED_TRACE(c.name + " " + c.norm + " " + c.loss);
    const LossKind kind = ipm::parse_loss(c.loss);
    const PairNormalization norm = ipm::parse_enum<PairNormalization>(c.norm, "pair normalization");
    const PairResult r = pair_value_and_grad(kind, c.log_qa, c.log_qb, c.prior, norm);
    auto mean_loss = [&](const Tensor& a, const Tensor& b) {
      ipm::LocalNormalizer local;
      return ipm::pair_loss_terms(kind, a, b, c.prior, norm, local).per_pair.mean().item<double>();
    };
    for (int which = 0; which < 2; ++which) {
      Tensor fd = torch::zeros({c.p, c.l}, f64());
      for (int64_t i = 0; i < c.p; ++i) {
        for (int64_t l = 0; l < c.l; ++l) {
          Tensor a = c.log_qa.clone(), b = c.log_qb.clone();
          Tensor& t = which == 0 ? a : b;
          t[i][l] += h;
          const double up = mean_loss(a, b);
          t[i][l] -= 2 * h;
          const double down = mean_loss(a, b);
          fd[i][l] = (up - down) / (2 * h);
        }
      }
      EXPECT_TRUE(Close(which == 0 ? r.grad_a : r.grad_b, fd, 1e-5, 1e-7)) << "member " << which;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Identities

Tensor rand_log_q(int64_t p, int64_t l, uint64_t seed, double scale = 2.0) {
  torch::manual_seed(seed);
  return torch::log_softmax(torch::randn({p, l}, f64()) * scale, 1);
}

// RQ reduces to CE for a prior that puts all mass on one label (§2); for a joint that fixes
// both labels, the pair RQ is the two members' CE terms, values and gradients.
TEST(PairIdentities, JointFixingBothLabelsIsTwoOneHotTerms) {
  const int64_t p = 5, l = 6;
  const Tensor log_qa = rand_log_q(p, l, 1), log_qb = rand_log_q(p, l, 2);
  const std::vector<int64_t> la = {0, 3, 5, 2, 2}, lb = {4, 3, 0, 1, 5};
  Tensor joint = torch::zeros({p, l, l}, f64());
  Tensor ya = torch::zeros({p, l}, f64()), yb = torch::zeros({p, l}, f64());
  for (int64_t j = 0; j < p; ++j) {
    joint[j][la[j]][lb[j]] = 1.0;
    ya[j][la[j]] = 1.0;
    yb[j][lb[j]] = 1.0;
  }
  for (auto norm : {PairNormalization::kPosition, PairNormalization::kPooled}) {
    const PairResult r = pair_value_and_grad(LossKind::kRQ, log_qa, log_qb, joint, norm);
    EXPECT_TRUE(Close(r.value, -(ya * log_qa).sum(1) - (yb * log_qb).sum(1), 1e-12, 1e-12));
    EXPECT_TRUE(Close(r.grad_a, -ya / p, 1e-12, 1e-12));
    EXPECT_TRUE(Close(r.grad_b, -yb / p, 1e-12, 1e-12));
  }
}

// A product prior p(l1, l2) = u(l1) v(l2) makes r factorize: with Eq. 6's per-position
// normalizers, the marginals are Eq. 3's implied posteriors of each member, so the pair loss
// is the per-image loss of the first members (prior u) plus that of the second ones (v).
TEST(PairIdentities, ProductPriorIsTwoPerImageLosses) {
  const int64_t p = 7, l = 5;
  const Tensor log_qa = rand_log_q(p, l, 3), log_qb = rand_log_q(p, l, 4);
  torch::manual_seed(5);
  Tensor u = torch::rand({p, l}, f64()) + 0.1, v = torch::rand({p, l}, f64()) + 0.1;
  u[0][1] = 0.0;  // zeros too
  v[2][3] = 0.0;
  u = u / u.sum(1, true);
  v = v / v.sum(1, true);
  const Tensor joint = u.unsqueeze(2) * v.unsqueeze(1);
  {  // RQ (QR: below, without zeros, as it floors the joint and so breaks the product)
    const LossKind kind = LossKind::kRQ;
    const PairResult r =
        pair_value_and_grad(kind, log_qa, log_qb, joint, PairNormalization::kPosition);
    ipm::LocalNormalizer local;
    Tensor a = log_qa.clone().set_requires_grad(true), b = log_qb.clone().set_requires_grad(true);
    const Tensor per = ipm::per_sample_loss(kind, a, u, local) + ipm::per_sample_loss(kind, b, v, local);
    per.mean().backward();
    EXPECT_TRUE(Close(r.value, per.detach(), 1e-10, 1e-12));
    EXPECT_TRUE(Close(r.grad_a, a.grad(), 1e-10, 1e-12));
    EXPECT_TRUE(Close(r.grad_b, b.grad(), 1e-10, 1e-12));
  }
}

// QR with strictly positive product priors (no floor in play) also splits.
TEST(PairIdentities, ProductPriorQrIsTwoPerImageLosses) {
  const int64_t p = 6, l = 4;
  const Tensor log_qa = rand_log_q(p, l, 6), log_qb = rand_log_q(p, l, 7);
  torch::manual_seed(8);
  Tensor u = torch::rand({p, l}, f64()) + 0.1, v = torch::rand({p, l}, f64()) + 0.1;
  u = u / u.sum(1, true);
  v = v / v.sum(1, true);
  const PairResult r = pair_value_and_grad(LossKind::kQR, log_qa, log_qb,
                                           u.unsqueeze(2) * v.unsqueeze(1),
                                           PairNormalization::kPosition);
  ipm::LocalNormalizer local;
  const Tensor per = ipm::per_sample_loss(LossKind::kQR, log_qa, u, local) +
                     ipm::per_sample_loss(LossKind::kQR, log_qb, v, local);
  EXPECT_TRUE(Close(r.value, per, 1e-10, 1e-12));
}

TEST(PairIdentities, ZeroCellsGiveFiniteValuesAndGradientsInBothPrecisions) {
  const int64_t p = 4, l = 10;
  const std::vector<ipm::PairOrder> orders = {ipm::PairOrder::kFirstGreater,
                                              ipm::PairOrder::kSecondGreater,
                                              ipm::PairOrder::kEqual, ipm::PairOrder::kEqual};
  for (const ipm::PairTies ties : {ipm::PairTies::kTriangle, ipm::PairTies::kDiagonal}) {
    const Tensor joint = ipm::ranking_joint_prior(orders, l, ties, 0.0);
    for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
      for (LossKind kind : {LossKind::kQR, LossKind::kRQ}) {
        // Very confident q: the regime where a naive log of the marginal would give -inf.
        const PairResult r = pair_value_and_grad(kind, rand_log_q(p, l, 9, 40.0).to(dtype),
                                                 rand_log_q(p, l, 10, 40.0).to(dtype),
                                                 joint.to(dtype), PairNormalization::kPosition);
        EXPECT_TRUE(torch::isfinite(r.value).all().item<bool>()) << ipm::enum_to_name(ties);
        EXPECT_TRUE(torch::isfinite(r.grad_a).all().item<bool>()) << ipm::enum_to_name(ties);
        EXPECT_TRUE(torch::isfinite(r.grad_b).all().item<bool>()) << ipm::enum_to_name(ties);
      }
    }
  }
}

TEST(PairIdentities, MarginalsOfRAreDistributionsOnTheTriangleSupport) {
  const int64_t p = 3, l = 10;
  const Tensor joint = ipm::ranking_joint_prior(
      {ipm::PairOrder::kFirstGreater, ipm::PairOrder::kSecondGreater, ipm::PairOrder::kEqual}, l,
      ipm::PairTies::kTriangle, 0.0);
  ipm::LocalNormalizer local;
  const Tensor log_qa = rand_log_q(p, l, 11), log_qb = rand_log_q(p, l, 12);
  const Tensor log_r = ipm::pair_joint_log_posterior(log_qa, log_qb, local.log_z(log_qa),
                                                     local.log_z(log_qb), joint, 0.0);
  const Tensor r = log_r.exp();
  EXPECT_TRUE(Close(r.sum({1, 2}), torch::ones({p}, f64()), 1e-12, 1e-12));
  EXPECT_EQ((r * (joint == 0)).abs().max().item<double>(), 0.0);  // exactly 0 off the support
  const auto t = ipm::pair_loss_terms(LossKind::kRQ, log_qa, log_qb, joint,
                                      PairNormalization::kPosition, local);
  EXPECT_TRUE(Close(t.log_ra.exp().sum(1), torch::ones({p}, f64()), 1e-12, 1e-12));
  EXPECT_TRUE(Close(t.log_rb.exp().sum(1), torch::ones({p}, f64()), 1e-12, 1e-12));
  // First greater: the first member's marginal puts no more mass on class 0 than the joint
  // cell (0, 0) allows; second greater: the mirror.
  EXPECT_TRUE(Close(t.log_ra.exp()[0][0], r[0][0][0], 1e-12, 1e-15));
  EXPECT_TRUE(Close(t.log_rb.exp()[1][0], r[1][0][0], 1e-12, 1e-15));
}

TEST(PairLosses, RejectsCeAndBadShapes) {
  ipm::LocalNormalizer local;
  const Tensor q = rand_log_q(2, 3, 13);
  const Tensor joint = torch::full({2, 3, 3}, 1.0 / 9, f64());
  EXPECT_THROW(ipm::pair_loss_terms(LossKind::kCE, q, q, joint, PairNormalization::kPosition, local),
               ipm::Error);
  EXPECT_THROW(ipm::pair_loss_terms(LossKind::kRQ, q, q, torch::ones({2, 3, 4}, f64()),
                                    PairNormalization::kPosition, local),
               ipm::Error);
  EXPECT_THROW(ipm::parse_enum<PairNormalization>("posit", "pair normalization"), ipm::Error);
}

// ---------------------------------------------------------------------------------------------
// The priors of Eq. 6 and the pairs of a run

TEST(RankingPrior, TrianglesOfEquation6) {
  const int64_t l = 10;
  const Tensor p = ipm::ranking_joint_prior(
      {ipm::PairOrder::kFirstGreater, ipm::PairOrder::kSecondGreater, ipm::PairOrder::kEqual}, l,
      ipm::PairTies::kTriangle, 0.0);
  // 55 cells of 1/55 each (the paper's MNIST setting).
  for (int64_t j = 0; j < 3; ++j) {
    EXPECT_EQ((p[j] > 0).sum().item<int64_t>(), 55);
    EXPECT_NEAR(p[j].max().item<double>(), 1.0 / 55, 1e-15);
    EXPECT_NEAR(p[j].sum().item<double>(), 1.0, 1e-12);
  }
  EXPECT_GT(p[0][7][3].item<double>(), 0);  // first greater: l1 >= l2 allowed
  EXPECT_EQ(p[0][3][7].item<double>(), 0);
  EXPECT_GT(p[0][4][4].item<double>(), 0);  // "greater (or equal)": the diagonal is in
  EXPECT_TRUE(torch::equal(p[1], p[0].t()));
  EXPECT_TRUE(torch::equal(p[2], p[0]));  // a tie, reported as "first >= second"
  const Tensor d = ipm::ranking_joint_prior({ipm::PairOrder::kEqual}, l, ipm::PairTies::kDiagonal, 0.0);
  EXPECT_TRUE(torch::equal(d[0], torch::eye(l, f64()) / 10.0));
  const Tensor rev = ipm::ranking_joint_prior({ipm::PairOrder::kFirstGreater}, l, ipm::PairTies::kTriangle,
                                              0.0, /*reversed=*/true);
  EXPECT_TRUE(torch::equal(rev[0], p[1]));
  const Tensor s = ipm::ranking_joint_prior({ipm::PairOrder::kFirstGreater}, l, ipm::PairTies::kTriangle, 1e-4);
  EXPECT_NEAR(s.sum().item<double>(), 1.0, 1e-12);
  EXPECT_GT(s.min().item<double>(), 0.0);
}

TEST(RankingPairs, DisjointSeededWithObservationFromLabels) {
  const int64_t n = 101;
  const Tensor y = torch::arange(n, torch::kInt64).remainder(10);
  const ipm::RankedPairs a = ipm::make_ranked_pairs(y, 10, 0, 7);
  EXPECT_EQ(a.size(), 50);  // floor(101 / 2)
  std::set<int64_t> rows;
  for (int64_t j = 0; j < a.size(); ++j) {
    rows.insert(a.a[j]);
    rows.insert(a.b[j]);
    const int64_t ya = a.a[j] % 10, yb = a.b[j] % 10;
    EXPECT_EQ(a.order[j], ya > yb ? ipm::PairOrder::kFirstGreater
                          : ya < yb ? ipm::PairOrder::kSecondGreater : ipm::PairOrder::kEqual);
  }
  EXPECT_EQ(rows.size(), 100u);  // each row in at most one pair
  const ipm::RankedPairs again = ipm::make_ranked_pairs(y, 10, 0, 7);
  EXPECT_EQ(again.a, a.a);
  EXPECT_EQ(again.b, a.b);
  const ipm::RankedPairs other = ipm::make_ranked_pairs(y, 10, 0, 8);
  EXPECT_NE(other.a, a.a);
  EXPECT_EQ(ipm::make_ranked_pairs(y, 10, 20, 7).size(), 20);
}

TEST(RankingPairs, CountThatCannotFitIsAnErrorNamingTheKey) {
  const Tensor y = torch::zeros({9}, torch::kInt64);
  try {
    ipm::make_ranked_pairs(y, 10, 5, 0);
    FAIL() << "5 pairs of 9 rows accepted";
  } catch (const ipm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("prior.pairs = 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ipm::make_ranked_pairs(torch::zeros({1}, torch::kInt64), 10, 0, 0), ipm::Error);
  EXPECT_THROW(ipm::make_ranked_pairs(torch::full({4}, 12, torch::kInt64), 10, 0, 0), ipm::Error);
}

TEST(RankingPairs, FromTableChecksRowsSelfPairsAndObservations) {
  const Tensor t = torch::tensor({0, 1, 1, 2, 3, -1, 4, 0, 0}, torch::kInt64).reshape({3, 3});
  const ipm::RankedPairs p = ipm::pairs_from_table(t, 5, 0, "f.h5:/train/pairs");
  EXPECT_EQ(p.size(), 3);
  EXPECT_EQ(p.a, (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(p.b, (std::vector<int64_t>{1, 3, 0}));
  EXPECT_EQ(p.order[1], ipm::PairOrder::kSecondGreater);
  EXPECT_EQ(ipm::pairs_from_table(t, 5, 2, "w").size(), 2);
  auto message = [](const Tensor& table, int64_t n, int64_t count) {
    try {
      ipm::pairs_from_table(table, n, count, "f.h5:/train/pairs");
    } catch (const ipm::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(t, 4, 0).find("pair 2 = (4, 0) references a row outside the 4"),
            std::string::npos) << message(t, 4, 0);
  const Tensor self = torch::tensor({1, 1, 0}, torch::kInt64).reshape({1, 3});
  EXPECT_NE(message(self, 5, 0).find("with itself"), std::string::npos);
  const Tensor obs = torch::tensor({1, 2, 5}, torch::kInt64).reshape({1, 3});
  EXPECT_NE(message(obs, 5, 0).find("observation 5"), std::string::npos);
  EXPECT_NE(message(t, 5, 4).find("prior.pairs = 4 exceeds the 3 pairs"), std::string::npos);
  const Tensor neg = torch::tensor({-1, 2, 0}, torch::kInt64).reshape({1, 3});
  EXPECT_NE(message(neg, 5, 0).find("references a row outside"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// F.2

struct F2Result {
  Tensor value, grad;
};
F2Result f2_value_and_grad(const Tensor& log_q) {
  ipm::LocalNormalizer local;
  Tensor x = log_q.detach().clone().set_requires_grad(true);
  const Tensor prior = torch::full_like(log_q, 1.0 / static_cast<double>(log_q.size(1)));
  const Tensor v = ipm::per_sample_loss(LossKind::kF2, x, prior, local);
  v.mean().backward();
  return {v.detach(), x.grad().detach()};
}

TEST(F2, MatchesReferenceAndFiniteDifferences) {
  for (const auto& c : f2_cases()) {
    SCOPED_TRACE(c.name);
    const F2Result r = f2_value_and_grad(c.log_q);
    EXPECT_TRUE(Close(r.value, c.value, 1e-9, 1e-10));
    EXPECT_TRUE(Close(r.grad, c.grad, 1e-9, 1e-10));
    const F2Result r32 = f2_value_and_grad(c.log_q.to(torch::kFloat32));
    EXPECT_TRUE(Close(r32.value, c.value, 1e-4, 1e-4));
    Tensor fd = torch::zeros_like(c.log_q);
    const double h = 1e-6;
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t l = 0; l < c.l; ++l) {
        Tensor x = c.log_q.clone();
        x[i][l] += h;
        const double up = f2_value_and_grad(x).value.mean().item<double>();
        x[i][l] -= 2 * h;
        const double down = f2_value_and_grad(x).value.mean().item<double>();
        fd[i][l] = (up - down) / (2 * h);
      }
    }
    EXPECT_TRUE(Close(r.grad, fd, 1e-5, 1e-7));
  }
}

// A constant q = q0 for all M samples: entropy H(q0) plus sum_l q0 log(M q0) = log M, so the
// criterion cannot be lowered by a constant output (App. F.1's argument against uniform p).
TEST(F2, ConstantOutputCostsLogM) {
  const int64_t m = 8, l = 5;
  const Tensor row = torch::log_softmax(torch::tensor({0.3, -1.0, 2.0, 0.0, 0.5}, f64()), 0);
  const F2Result r = f2_value_and_grad(row.unsqueeze(0).expand({m, l}).contiguous());
  EXPECT_TRUE(Close(r.value, torch::full({m}, std::log(8.0), f64()), 1e-12, 1e-12));
  EXPECT_EQ(std::string(ipm::loss_name(ipm::parse_loss("f2"))), "f2");
}

}  // namespace
