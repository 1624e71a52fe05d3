// Tests of losses/implicit_losses.h and losses/normalizer.h:
//   * per-sample values and d(mean loss)/d log_q against float64 PyTorch references
//     (tests/data/loss_fixtures.txt, from tools/reference/make_loss_fixtures.py);
//   * central finite differences vs autograd, zero prior entries included;
//   * finiteness with zero prior entries in float32 and float64;
//   * identities: one-hot RQ == CE, RQ/NLL with constant log Z (App. C), QR in the Eq. 5 form,
//     implied posterior normalization and support, flatten_classes, the EMA normalizer;
//   * parse_loss / loss_name.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "losses/implicit_losses.h"
#include "losses/normalizer.h"

#ifndef IPM_TEST_DATA_DIR
#error "IPM_TEST_DATA_DIR must name the tests/data directory"
#endif

namespace {

ipm::EmaOptions ema_options(double decay, double samples, int64_t warmup) {
  ipm::EmaOptions o;
  o.decay = decay;
  o.samples = samples;
  o.warmup = warmup;
  return o;
}

using ipm::LossKind;
using torch::Tensor;

const std::vector<LossKind> kAllLosses = {LossKind::kCE, LossKind::kNLL, LossKind::kQR,
                                          LossKind::kRQ};

torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

// ---------------------------------------------------------------------------------------------
// Helpers

// |a - e| <= atol + rtol * |e| elementwise; the message names the worst entry.
::testing::AssertionResult AllClose(const Tensor& actual, const Tensor& expected, double rtol,
                                    double atol) {
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " != expected " << expected.sizes();
  }
  const Tensor a = actual.detach().to(torch::kFloat64).contiguous().reshape({-1});
  const Tensor e = expected.detach().to(torch::kFloat64).contiguous().reshape({-1});
  if (!torch::isfinite(a).all().item<bool>()) {
    return ::testing::AssertionFailure() << "non-finite entries in actual: " << actual;
  }
  const Tensor excess = (a - e).abs() - (atol + rtol * e.abs());
  const int64_t worst = excess.argmax().item<int64_t>();
  if (excess[worst].item<double>() > 0.0) {
    std::ostringstream os;
    os.precision(17);
    os << "flat index " << worst << ": actual " << a[worst].item<double>() << " vs expected "
       << e[worst].item<double>() << " (|diff| " << (a[worst] - e[worst]).abs().item<double>()
       << ", rtol " << rtol << ", atol " << atol << ")";
    return ::testing::AssertionFailure() << os.str();
  }
  return ::testing::AssertionSuccess();
}

bool AllFinite(const Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

struct ValueGrad {
  Tensor value;  // per-sample loss [M]
  Tensor grad;   // d(mean_i loss_i)/d log_q [M, L]
};

// log_q is the autograd leaf (not the logits), as in the fixture generator.
ValueGrad value_and_grad(LossKind kind, const Tensor& log_q, const Tensor& prior,
                         ipm::Normalizer& normalizer) {
  Tensor x = log_q.detach().clone().set_requires_grad(true);
  Tensor v = ipm::per_sample_loss(kind, x, prior, normalizer);
  v.mean().backward();
  EXPECT_TRUE(x.grad().defined()) << ipm::loss_name(kind) << ": no gradient reached log_q";
  return {v.detach(), x.grad().defined() ? x.grad().detach() : torch::zeros_like(x)};
}

ValueGrad local_value_and_grad(LossKind kind, const Tensor& log_q, const Tensor& prior) {
  ipm::LocalNormalizer local;
  return value_and_grad(kind, log_q, prior, local);
}

// log Z_l = 0 for all l: the case of App. C where sum_i q_i(l) does not depend on l.
class ConstantNormalizer final : public ipm::Normalizer {
 public:
  Tensor log_z(const Tensor& log_q) override {
    return torch::zeros({log_q.size(1)}, log_q.options().requires_grad(false));
  }
  const char* name() const override { return "constant"; }
};

// Prior rows, each summing to 1: dense, negative labels (k = 1, 2, L - 1), one-hot,
// non-uniform with zeros. L >= 5.
Tensor mixed_prior(int64_t m, int64_t l, uint64_t seed) {
  torch::manual_seed(seed);
  Tensor p = torch::rand({m, l}, f64()) + 0.05;
  for (int64_t i = 0; i < m; ++i) {
    switch (i % 6) {
      case 0: break;                                                    // dense
      case 1: p[i].fill_(1.0); p[i][i % l] = 0.0; break;                // k = 1, uniform
      case 2: p[i][(i + 1) % l] = 0.0; p[i][(i + 3) % l] = 0.0; break;  // 2 zeros, non-uniform
      case 3: p[i].zero_(); p[i][(i * 7) % l] = 1.0; break;             // one-hot
      case 4: p[i].fill_(1.0); p[i].narrow(0, 0, 3).zero_(); break;     // k = 3, uniform
      case 5: p[i].narrow(0, 1, l - 2).zero_(); break;                  // 2 allowed labels
    }
  }
  return p / p.sum(1, /*keepdim=*/true);
}

Tensor random_log_q(int64_t m, int64_t l, double scale, uint64_t seed,
                    torch::Dtype dtype = torch::kFloat64) {
  torch::manual_seed(seed);
  return torch::log_softmax(torch::randn({m, l}, f64()) * scale, 1).to(dtype);
}

// ---------------------------------------------------------------------------------------------
// Fixture file

struct FixtureCase {
  std::string name;
  int64_t m = 0, l = 0;
  Tensor log_q, prior;
  std::map<std::string, ValueGrad> losses;  // by loss_name()
};

class TokenReader {
 public:
  explicit TokenReader(const std::string& path) : path_(path) {
    std::ifstream in(path);
    IPM_CHECK(in, "cannot open fixture " << path);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '#') continue;
      std::istringstream ls(line);
      std::string tok;
      while (ls >> tok) tokens_.push_back(tok);
    }
  }
  bool done() const { return pos_ >= tokens_.size(); }
  std::string word() {
    IPM_CHECK(!done(), path_ << ": unexpected end of file");
    return tokens_[pos_++];
  }
  void expect(const std::string& w) {
    const std::string got = word();
    IPM_CHECK(got == w, path_ << ": expected '" << w << "', got '" << got << "'");
  }
  double number() {
    const std::string tok = word();
    char* end = nullptr;
    const double v = std::strtod(tok.c_str(), &end);
    IPM_CHECK(end && *end == '\0', path_ << ": bad number '" << tok << "'");
    return v;
  }
  int64_t integer() { return static_cast<int64_t>(number()); }
  Tensor matrix(int64_t rows, int64_t cols) {
    Tensor t = torch::empty({rows, cols}, f64());
    auto a = t.accessor<double, 2>();
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) a[i][j] = number();
    return t;
  }

 private:
  std::string path_;
  std::vector<std::string> tokens_;
  size_t pos_ = 0;
};

const std::vector<FixtureCase>& fixtures() {
  static const std::vector<FixtureCase> cases = [] {
    std::vector<FixtureCase> out;
    TokenReader r(std::string(IPM_TEST_DATA_DIR) + "/loss_fixtures.txt");
    while (!r.done()) {
      r.expect("case");
      FixtureCase c;
      c.name = r.word();
      c.m = r.integer();
      c.l = r.integer();
      r.expect("log_q");
      c.log_q = r.matrix(c.m, c.l);
      r.expect("prior");
      c.prior = r.matrix(c.m, c.l);
      for (std::string w = r.word(); w != "end"; w = r.word()) {
        IPM_CHECK(w == "loss", "fixture case " << c.name << ": expected 'loss', got " << w);
        const std::string kind = r.word();
        ValueGrad vg;
        r.expect("value");
        vg.value = r.matrix(1, c.m).reshape({c.m});
        r.expect("grad");
        vg.grad = r.matrix(c.m, c.l);
        c.losses[kind] = vg;
      }
      out.push_back(std::move(c));
    }
    return out;
  }();
  return cases;
}

TEST(LossFixtures, FileHasAllCasesAndLosses) {
  const auto& cases = fixtures();
  ASSERT_GE(cases.size(), 5u);
  bool has_zero_rows = false, has_one_hot = false, has_dense = false;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (LossKind kind : kAllLosses) EXPECT_EQ(c.losses.count(ipm::loss_name(kind)), 1u);
    EXPECT_TRUE(AllClose(c.prior.sum(1), torch::ones({c.m}, f64()), 0, 1e-14));
    EXPECT_TRUE(AllClose(c.log_q.exp().sum(1), torch::ones({c.m}, f64()), 0, 1e-14));
    const Tensor zeros_per_row = (c.prior == 0).sum(1);
    has_dense |= (zeros_per_row == 0).all().item<bool>();
    has_one_hot |= (zeros_per_row == c.l - 1).all().item<bool>();
    has_zero_rows |= (zeros_per_row > 0).any().item<bool>() &&
                     (zeros_per_row < c.l - 1).any().item<bool>();
  }
  EXPECT_TRUE(has_dense);
  EXPECT_TRUE(has_one_hot);
  EXPECT_TRUE(has_zero_rows);
}

// float64 reference vs the C++ losses in float64 with the local normalizer.
constexpr double kRtol64 = 1e-9;
constexpr double kAtol64 = 1e-12;

TEST(LossFixtures, MatchReferenceValuesAndGradientsFloat64) {
  for (const auto& c : fixtures()) {
    for (LossKind kind : kAllLosses) {
      SCOPED_TRACE(c.name + " / " + ipm::loss_name(kind));
      const ValueGrad& ref = c.losses.at(ipm::loss_name(kind));
      const ValueGrad got = local_value_and_grad(kind, c.log_q, c.prior);
      EXPECT_TRUE(AllClose(got.value, ref.value, kRtol64, kAtol64)) << "per-sample loss";
      EXPECT_TRUE(AllClose(got.grad, ref.grad, kRtol64, kAtol64)) << "gradient";
    }
  }
}

// The same inputs rounded to float32: no NaN, and close to the float64 reference.
TEST(LossFixtures, MatchReferenceFloat32) {
  for (const auto& c : fixtures()) {
    for (LossKind kind : kAllLosses) {
      SCOPED_TRACE(c.name + " / " + ipm::loss_name(kind));
      const ValueGrad& ref = c.losses.at(ipm::loss_name(kind));
      const ValueGrad got = local_value_and_grad(kind, c.log_q.to(torch::kFloat32),
                                                 c.prior.to(torch::kFloat32));
      EXPECT_EQ(got.value.scalar_type(), torch::kFloat32);
      EXPECT_TRUE(AllFinite(got.value));
      EXPECT_TRUE(AllFinite(got.grad));
      // float32 inputs are perturbed by ~6e-8 relative; log_q down to -60 amplifies that.
      EXPECT_TRUE(AllClose(got.value, ref.value, 1e-4, 1e-4)) << "per-sample loss";
      EXPECT_TRUE(AllClose(got.grad, ref.grad, 1e-3, 1e-5)) << "gradient";
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Finite differences

// Central differences of f (a scalar function of x [M, L]) entry by entry.
Tensor central_differences(const std::function<double(const Tensor&)>& f, const Tensor& x,
                           double eps) {
  Tensor g = torch::zeros_like(x);
  auto ga = g.accessor<double, 2>();
  for (int64_t i = 0; i < x.size(0); ++i) {
    for (int64_t j = 0; j < x.size(1); ++j) {
      Tensor plus = x.clone(), minus = x.clone();
      plus[i][j] += eps;
      minus[i][j] -= eps;
      ga[i][j] = (f(plus) - f(minus)) / (2 * eps);
    }
  }
  return g;
}

class FiniteDifferences : public ::testing::TestWithParam<LossKind> {};

TEST_P(FiniteDifferences, LocalNormalizerMatchesAutograd) {
  const LossKind kind = GetParam();
  const Tensor log_q = random_log_q(12, 5, 2.0, 7);
  const Tensor prior = mixed_prior(12, 5, 8);
  ASSERT_TRUE((prior == 0).any().item<bool>());
  const ValueGrad vg = local_value_and_grad(kind, log_q, prior);
  auto mean_loss = [&](const Tensor& x) {
    torch::NoGradGuard no_grad;
    ipm::LocalNormalizer local;
    return ipm::per_sample_loss(kind, x, prior, local).mean().item<double>();
  };
  const Tensor fd = central_differences(mean_loss, log_q, 1e-6);
  EXPECT_TRUE(AllClose(vg.grad, fd, 1e-6, 1e-8));
  EXPECT_GT(vg.grad.abs().max().item<double>(), 1e-3) << "gradient vanished";
}

// log Z = this batch's log mean of q plus a fixed offset per class.
class ShiftedLocalNormalizer final : public ipm::Normalizer {
 public:
  explicit ShiftedLocalNormalizer(Tensor offset) : offset_(std::move(offset)) {}
  Tensor log_z(const Tensor& log_q) override {
    return torch::logsumexp(log_q, 0) - std::log(static_cast<double>(log_q.size(0))) + offset_;
  }
  const char* name() const override { return "shifted"; }

 private:
  Tensor offset_;
};

// Past the warm-up the ema normalizer's value is the mixture and its gradient is the batch
// normalizer's: the finite differences of the loss with the batch's log Z shifted by the
// (constant) offset between the two.
TEST_P(FiniteDifferences, WarmEmaGradientIsTheBatchNormalizersAtTheMixedValue) {
  const LossKind kind = GetParam();
  const Tensor log_q = random_log_q(10, 6, 1.5, 11);
  const Tensor prior = mixed_prior(10, 6, 12);
  torch::manual_seed(13);
  const Tensor running = torch::softmax(torch::randn({6}, f64()), 0);
  // Past the warm-up, so the running mean takes part (as 6 samples beside the batch of 10).
  ipm::EmaNormalizer ema(ema_options(0.7, 6.0, 1));
  ema.set_state({running.clone(), 5});
  const ValueGrad vg = value_and_grad(kind, log_q, prior, ema);

  const Tensor batch_mean = log_q.exp().mean(0);
  const Tensor mixed = ((10 * batch_mean + 6 * running) / 16).log();
  ShiftedLocalNormalizer shifted(mixed - batch_mean.log());
  const ValueGrad expect = value_and_grad(kind, log_q, prior, shifted);
  EXPECT_TRUE(AllClose(vg.value, expect.value, 1e-12, 1e-12));
  auto mean_loss = [&](const Tensor& x) {
    return ipm::per_sample_loss(kind, x, prior, shifted).mean().item<double>();
  };
  const Tensor fd = central_differences(mean_loss, log_q, 1e-6);
  EXPECT_TRUE(AllClose(vg.grad, fd, 1e-6, 1e-8));
  EXPECT_GT(vg.grad.abs().max().item<double>(), 1e-3) << "gradient vanished";
}

INSTANTIATE_TEST_SUITE_P(AllLosses, FiniteDifferences,
                         ::testing::Values(LossKind::kCE, LossKind::kNLL, LossKind::kQR,
                                           LossKind::kRQ),
                         [](const ::testing::TestParamInfo<LossKind>& info) {
                           return std::string(ipm::loss_name(info.param));
                         });

// ---------------------------------------------------------------------------------------------
// Zero prior entries: finite values and gradients in both precisions, confident models too.

TEST(ZeroPriors, FiniteValuesAndGradientsFloat32AndFloat64) {
  for (torch::Dtype dtype : {torch::kFloat32, torch::kFloat64}) {
    for (double scale : {1.0, 10.0, 40.0}) {
      Tensor log_q = random_log_q(24, 7, scale, 21, dtype);
      // A class that every sample rules out confidently (q ~ e^-90 underflows in float32).
      log_q.index_put_({torch::indexing::Slice(), 2}, -90.0);
      log_q = torch::log_softmax(log_q, 1);
      const Tensor prior = mixed_prior(24, 7, 22).to(dtype);
      for (LossKind kind : kAllLosses) {
        SCOPED_TRACE(std::string(ipm::loss_name(kind)) + " " + c10::toString(dtype) +
                     " scale " + std::to_string(scale));
        const ValueGrad vg = local_value_and_grad(kind, log_q, prior);
        EXPECT_TRUE(AllFinite(vg.value)) << vg.value;
        EXPECT_TRUE(AllFinite(vg.grad)) << vg.grad;
        EXPECT_TRUE((vg.value >= -1e-5).all().item<bool>()) << "KL / CE / NLL are >= 0";
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Identities

// §2.1 / App. D: with priors on one label, r is that one-hot and RQ is cross-entropy.
TEST(Identities, OneHotPriorRqEqualsCe) {
  for (torch::Dtype dtype : {torch::kFloat64, torch::kFloat32}) {
    SCOPED_TRACE(c10::toString(dtype));
    const Tensor log_q = random_log_q(16, 6, 3.0, 31, dtype);
    torch::manual_seed(32);
    const Tensor labels = torch::randint(0, 6, {16}, torch::kLong);
    const Tensor prior = torch::one_hot(labels, 6).to(dtype);
    const ValueGrad rq = local_value_and_grad(LossKind::kRQ, log_q, prior);
    const ValueGrad ce = local_value_and_grad(LossKind::kCE, log_q, prior);
    const double tol = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    EXPECT_TRUE(AllClose(rq.value, ce.value, tol, tol));
    EXPECT_TRUE(AllClose(rq.grad, ce.grad, tol, tol));
    EXPECT_TRUE(AllClose(ce.value, -log_q.gather(1, labels.unsqueeze(1)).squeeze(1), tol, tol));
  }
}

// App. C made exact. With log Z constant over l, r_il = p_il q_il / sum_l' p_il' q_il', so
//   RQ_i = sum_l r_il log p_il - log sum_l p_il q_il = NLL_i + sum_l r_il log p_il,
// and for priors uniform over L - k allowed labels RQ_i = NLL_i - log(L - k), same gradient.
TEST(Identities, RqIsNllPlusExpectedLogPriorWhenLogZIsConstant) {
  const int64_t m = 18, l = 7;
  const Tensor log_q = random_log_q(m, l, 2.0, 41);
  const Tensor prior = mixed_prior(m, l, 42);
  ConstantNormalizer constant;
  const ValueGrad rq = value_and_grad(LossKind::kRQ, log_q, prior, constant);
  const ValueGrad nll = value_and_grad(LossKind::kNLL, log_q, prior, constant);
  const Tensor pq = prior * log_q.exp();
  const Tensor r = pq / pq.sum(1, true);
  const Tensor support = prior > 0;
  const Tensor r_log_p =
      torch::where(support, r * prior.log(), torch::zeros_like(r)).sum(1);
  EXPECT_TRUE(AllClose(rq.value, nll.value + r_log_p, 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(nll.value, -pq.sum(1).log(), 1e-12, 1e-12)) << "NLL_i = -log sum p q";

  // Uniform over the allowed labels, k = 0 .. L-1 zeros per row.
  Tensor uniform = torch::ones({m, l}, f64());
  Tensor k = torch::zeros({m}, f64());
  for (int64_t i = 0; i < m; ++i) {
    const int64_t zeros = i % l;
    for (int64_t j = 0; j < zeros; ++j) uniform[i][(i + 2 * j) % l] = 0.0;
    k[i] = static_cast<double>((uniform[i] == 0).sum().item<int64_t>());
  }
  uniform = uniform / uniform.sum(1, true);
  const ValueGrad rq_u = value_and_grad(LossKind::kRQ, log_q, uniform, constant);
  const ValueGrad nll_u = value_and_grad(LossKind::kNLL, log_q, uniform, constant);
  EXPECT_TRUE(AllClose(rq_u.value, nll_u.value - (l - k).log(), 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(rq_u.grad, nll_u.grad, 1e-10, 1e-12));
  // The union form: NLL_i - log(L - k) = -log sum_{l allowed} q_il (a constant shift).
  const Tensor union_nll =
      -torch::where(uniform > 0, log_q.exp(), torch::zeros_like(log_q)).sum(1).log();
  EXPECT_TRUE(AllClose(nll_u.value, union_nll + (l - k).log(), 1e-12, 1e-12));
}

// Eq. 4 with r from Eq. 3: log r_il = log q_il - log Z_l + log p~_il - c_i, so
//   QR_i = sum_l q_il (log Z_l - log p~_il) + logsumexp_l(log p~_il + log q_il - log Z_l),
// the per-sample form of Eq. 5 (plus the normalizer of r), with p~ = max(p, 1e-9).
TEST(Identities, QrMatchesEquation5Form) {
  for (uint64_t seed : {51u, 52u, 53u}) {
    const Tensor log_q = random_log_q(20, 6, 2.5, seed);
    const Tensor prior = mixed_prior(20, 6, seed + 100);
    const Tensor log_z = torch::logsumexp(log_q, 0).unsqueeze(0);
    const Tensor log_pt = prior.clamp_min(ipm::kQrPriorFloor).log();
    const Tensor expected = (log_q.exp() * (log_z - log_pt)).sum(1) +
                            torch::logsumexp(log_pt + log_q - log_z, 1);
    const ValueGrad qr = local_value_and_grad(LossKind::kQR, log_q, prior);
    EXPECT_TRUE(AllClose(qr.value, expected, 1e-10, 1e-12)) << "seed " << seed;
  }
}

TEST(Identities, ImpliedPosteriorIsNormalizedAndZeroOffSupport) {
  const Tensor log_q = random_log_q(15, 6, 2.0, 61);
  const Tensor prior = mixed_prior(15, 6, 62);
  const Tensor log_z = torch::logsumexp(log_q, 0);
  const Tensor log_r = ipm::implied_log_posterior(log_q, prior, log_z);
  const Tensor r = log_r.exp();
  EXPECT_TRUE(AllClose(r.sum(1), torch::ones({15}, f64()), 0, 1e-14));
  const Tensor off = prior == 0;
  ASSERT_TRUE(off.any().item<bool>());
  EXPECT_TRUE((r.masked_select(off) == 0).all().item<bool>());
  EXPECT_TRUE(torch::isneginf(log_r.masked_select(off)).all().item<bool>());
  EXPECT_TRUE((r.masked_select(off.logical_not()) > 0).all().item<bool>());
  // Eq. 3 in linear space: r_il proportional to p_il q_il / Z_l.
  const Tensor w = prior * (log_q - log_z.unsqueeze(0)).exp();
  EXPECT_TRUE(AllClose(r, w / w.sum(1, true), 1e-12, 1e-15));
  // Adding a constant to log Z changes nothing (Eq. 3 renormalizes over l).
  EXPECT_TRUE(AllClose(ipm::implied_log_posterior(log_q, prior, log_z + 3.5).exp(), r, 1e-12,
                       1e-15));
  // With the QR floor every entry is positive and finite.
  const Tensor log_r_floor =
      ipm::implied_log_posterior(log_q, prior, log_z, ipm::kQrPriorFloor);
  EXPECT_TRUE(AllFinite(log_r_floor));
  EXPECT_TRUE(AllClose(log_r_floor.exp().sum(1), torch::ones({15}, f64()), 0, 1e-14));
  const Tensor wf = prior.clamp_min(ipm::kQrPriorFloor) * (log_q - log_z.unsqueeze(0)).exp();
  EXPECT_TRUE(AllClose(log_r_floor.exp(), wf / wf.sum(1, true), 1e-12, 1e-15));
}

TEST(FlattenClasses, PixelsBecomeSamples) {
  const int64_t n = 2, l = 4, h = 3, w = 5;
  torch::manual_seed(71);
  const Tensor log_q = torch::log_softmax(torch::randn({n, l, h, w}, f64()) * 2, 1);
  Tensor prior = torch::rand({n, l, h, w}, f64());
  prior.index_put_({0, 1}, 0.0);      // class 1 ruled out on image 0
  prior.index_put_({1, 3, 0}, 0.0);   // class 3 ruled out on row 0 of image 1
  prior = prior / prior.sum(1, true);
  // Sample index (n*H + y)*W + x, class index last; built entry by entry.
  Tensor manual_q = torch::empty({n * h * w, l}, f64());
  Tensor manual_p = torch::empty({n * h * w, l}, f64());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t c = 0; c < l; ++c) {
          manual_q[(b * h + y) * w + x][c] = log_q[b][c][y][x];
          manual_p[(b * h + y) * w + x][c] = prior[b][c][y][x];
        }
  const Tensor flat_q = ipm::flatten_classes(log_q);
  const Tensor flat_p = ipm::flatten_classes(prior);
  EXPECT_TRUE(torch::equal(flat_q, manual_q));
  EXPECT_TRUE(torch::equal(flat_p, manual_p));
  for (LossKind kind : kAllLosses) {
    SCOPED_TRACE(ipm::loss_name(kind));
    ipm::LocalNormalizer a, b;
    const Tensor got = ipm::per_sample_loss(kind, flat_q, flat_p, a);
    const Tensor want = ipm::per_sample_loss(kind, manual_q, manual_p, b);
    EXPECT_TRUE(AllClose(got, want, 1e-14, 1e-14));
  }
  // Gradients flow back through the permute to the [N, L, H, W] tensor.
  Tensor leaf = log_q.clone().set_requires_grad(true);
  ipm::LocalNormalizer local;
  ipm::per_sample_loss(LossKind::kRQ, ipm::flatten_classes(leaf), flat_p, local).mean().backward();
  ASSERT_TRUE(leaf.grad().defined());
  EXPECT_TRUE(AllFinite(leaf.grad()));
  EXPECT_GT(leaf.grad().abs().sum().item<double>(), 0.0);

  const Tensor two_d = torch::zeros({3, 4});
  EXPECT_TRUE(ipm::flatten_classes(two_d).is_same(two_d));
  EXPECT_THROW(ipm::flatten_classes(torch::zeros({2, 3, 4})), ipm::Error);
}

// ---------------------------------------------------------------------------------------------
// EMA normalizer

TEST(EmaNormalizer, LocalDuringWarmupThenCountsTheRunningMeanAsKSamples) {
  const double decay = 0.9, k = 4.0;
  const Tensor q1 = random_log_q(8, 5, 1.5, 81);
  const Tensor q2 = random_log_q(8, 5, 1.5, 82);
  const Tensor q3 = random_log_q(6, 5, 1.5, 83);  // another batch size: means are comparable
  ipm::EmaNormalizer ema(ema_options(decay, k, /*warmup=*/1));
  ipm::LocalNormalizer local;
  EXPECT_FALSE(ema.state().running_mean.defined());
  EXPECT_STREQ(ema.name(), "ema");

  // Step 1 (warm-up): log Z = log mean_i q_i = local log Z - log M; m starts at that mean.
  const Tensor z1 = ema.log_z(q1);
  EXPECT_TRUE(AllClose(z1, local.log_z(q1) - std::log(8.0), 1e-13, 1e-13));
  const Tensor m1 = q1.exp().mean(0);
  ASSERT_TRUE(ema.state().running_mean.defined());
  EXPECT_TRUE(AllClose(ema.state().running_mean, m1, 1e-14, 1e-15));
  EXPECT_EQ(ema.state().steps, 1);

  // Step 2: Z = (B mean_2 + K m_1) / (B + K); then m <- decay m + (1 - decay) mean_2.
  const Tensor m2 = q2.exp().mean(0);
  const Tensor z2 = ema.log_z(q2);
  EXPECT_TRUE(AllClose(z2, ((8 * m2 + k * m1) / (8 + k)).log(), 1e-13, 1e-13));
  EXPECT_FALSE(AllClose(z2, local.log_z(q2) - std::log(8.0), 1e-6, 1e-6)) << "did not mix";
  const Tensor run2 = decay * m1 + (1 - decay) * m2;
  EXPECT_TRUE(AllClose(ema.state().running_mean, run2, 1e-14, 1e-15));

  // A batch of 6 weighs 6 / (6 + K) against the running mean.
  const Tensor z3 = ema.log_z(q3);
  EXPECT_TRUE(AllClose(z3, ((6 * q3.exp().mean(0) + k * run2) / (6 + k)).log(), 1e-13, 1e-13));
  EXPECT_EQ(ema.state().steps, 3);

  // Evaluation (no grad) reads the running mean without moving it or counting a step.
  const Tensor before = ema.state().running_mean.clone();
  {
    torch::NoGradGuard no_grad;
    ema.log_z(q1);
  }
  EXPECT_TRUE(torch::equal(ema.state().running_mean, before));
  EXPECT_EQ(ema.state().steps, 3);
}

TEST(EmaNormalizer, StateRoundTripResumesTheSameSequence) {
  const std::vector<Tensor> batches = {random_log_q(8, 5, 1.5, 84), random_log_q(8, 5, 1.5, 85),
                                       random_log_q(8, 5, 1.5, 86), random_log_q(8, 5, 1.5, 87)};
  const ipm::EmaOptions o = ema_options(0.8, 8.0, /*warmup=*/2);
  ipm::EmaNormalizer straight(o);
  std::vector<Tensor> expect;
  for (const Tensor& b : batches) expect.push_back(straight.log_z(b));
  // Stop after two steps (still warming up the third time), restore into a fresh one.
  ipm::EmaNormalizer first(o);
  first.log_z(batches[0]);
  first.log_z(batches[1]);
  ipm::EmaNormalizer resumed(o);
  resumed.set_state(first.state());
  for (size_t i = 2; i < batches.size(); ++i) {
    EXPECT_TRUE(torch::equal(resumed.log_z(batches[i]), expect[i])) << "step " << i;
  }
  // Without the step count the warm-up would restart and step 3 would differ.
  ipm::EmaNormalizer no_steps(o);
  no_steps.set_state({first.state().running_mean, 0});
  EXPECT_FALSE(torch::equal(no_steps.log_z(batches[2]), expect[2]));
}

TEST(EmaNormalizer, WarmupLossesEqualLocalOnes) {
  // The -log M shift cancels in r, so QR and RQ are the paper's local losses while warming up.
  const Tensor log_q = random_log_q(11, 6, 2.0, 91);
  const Tensor prior = mixed_prior(11, 6, 92);
  for (LossKind kind : {LossKind::kQR, LossKind::kRQ}) {
    SCOPED_TRACE(ipm::loss_name(kind));
    ipm::EmaNormalizer ema(ema_options(0.5, 16.0, 10));
    ema.set_state({torch::softmax(torch::randn({6}, f64()), 0), 3});  // warm, but in warm-up
    const ValueGrad e = value_and_grad(kind, log_q, prior, ema);
    const ValueGrad l = local_value_and_grad(kind, log_q, prior);
    EXPECT_TRUE(AllClose(e.value, l.value, 1e-12, 1e-12));
    EXPECT_TRUE(AllClose(e.grad, l.grad, 1e-10, 1e-12));
  }
}

TEST(EmaNormalizer, GradientFlowsToLogQAndRunningMeanIsDetached) {
  const Tensor prior = mixed_prior(9, 5, 101);
  ipm::EmaNormalizer ema(ema_options(0.8, 9.0, 1));
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    Tensor x = random_log_q(9, 5, 2.0, 102 + step).set_requires_grad(true);
    // Gradient through log Z alone: d/d log_q of sum_l log Z_l.
    Tensor z = ema.log_z(x);
    EXPECT_TRUE(z.requires_grad());
    z.sum().backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
    EXPECT_FALSE(ema.state().running_mean.requires_grad());
    EXPECT_FALSE(ema.state().running_mean.grad_fn());
    // And through a whole RQ loss.
    Tensor y = x.detach().clone().set_requires_grad(true);
    ipm::per_sample_loss(LossKind::kRQ, y, prior, ema).mean().backward();
    ASSERT_TRUE(y.grad().defined());
    EXPECT_TRUE(AllFinite(y.grad()));
    EXPECT_GT(y.grad().abs().sum().item<double>(), 0.0);
    EXPECT_FALSE(ema.state().running_mean.requires_grad());
  }
}

TEST(EmaNormalizer, RejectsBadOptions) {
  EXPECT_THROW(ipm::EmaNormalizer(ema_options(1.0, 16, 0)), ipm::Error);
  EXPECT_THROW(ipm::EmaNormalizer(ema_options(-0.1, 16, 0)), ipm::Error);
  EXPECT_THROW(ipm::EmaNormalizer(ema_options(0.5, 0.0, 0)), ipm::Error);
  EXPECT_THROW(ipm::EmaNormalizer(ema_options(0.5, 16, -1)), ipm::Error);
  EXPECT_NO_THROW(ipm::EmaNormalizer(ema_options(0.0, 16, 0)));
}

// ---------------------------------------------------------------------------------------------
// Names and argument checks

TEST(ParseLoss, RoundTripsKnownNames) {
  for (LossKind kind : kAllLosses) EXPECT_EQ(ipm::parse_loss(ipm::loss_name(kind)), kind);
  EXPECT_STREQ(ipm::loss_name(LossKind::kCE), "ce");
  EXPECT_STREQ(ipm::loss_name(LossKind::kNLL), "nll");
  EXPECT_STREQ(ipm::loss_name(LossKind::kQR), "qr");
  EXPECT_STREQ(ipm::loss_name(LossKind::kRQ), "rq");
}

TEST(ParseLoss, RejectsUnknownNameWithMessageNamingIt) {
  for (const std::string bad : {"kl_divergence", "", "rq "}) {
    try {
      ipm::parse_loss(bad);
      ADD_FAILURE() << "parse_loss('" << bad << "') did not throw";
    } catch (const ipm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("\"" + bad + "\""), std::string::npos) << e.what();
    }
  }
}

// loss_terms: the same per-sample loss, and the r it used (floored for QR, exact for RQ).
TEST(Losses, LossTermsExposeTheImpliedPosterior) {
  const Tensor log_q = random_log_q(10, 5, 2.0, 121);
  const Tensor prior = mixed_prior(10, 5, 122);
  const Tensor log_z = torch::logsumexp(log_q, 0);
  for (LossKind kind : kAllLosses) {
    SCOPED_TRACE(ipm::loss_name(kind));
    ipm::LocalNormalizer a, b;
    const ipm::LossTerms terms = ipm::loss_terms(kind, log_q, prior, a);
    EXPECT_TRUE(AllClose(terms.per_sample, ipm::per_sample_loss(kind, log_q, prior, b), 0, 0));
    if (kind == LossKind::kCE || kind == LossKind::kNLL) {
      EXPECT_FALSE(terms.log_r.defined());
      continue;
    }
    ASSERT_TRUE(terms.log_r.defined());
    const double floor = kind == LossKind::kQR ? ipm::kQrPriorFloor : 0.0;
    const Tensor want = ipm::implied_log_posterior(log_q, prior, log_z, floor);
    EXPECT_TRUE(torch::equal(torch::isneginf(terms.log_r), torch::isneginf(want)));
    const Tensor finite = torch::isfinite(want);
    EXPECT_TRUE(AllClose(terms.log_r.masked_select(finite), want.masked_select(finite), 1e-12,
                         1e-12));
  }
}

TEST(Losses, RejectMismatchedShapes) {
  ipm::LocalNormalizer local;
  const Tensor log_q = random_log_q(4, 3, 1.0, 111);
  EXPECT_THROW(ipm::per_sample_loss(LossKind::kRQ, log_q, torch::ones({4, 4}, f64()) / 4, local),
               ipm::Error);
  EXPECT_THROW(ipm::per_sample_loss(LossKind::kCE, log_q.reshape({12}),
                                    torch::ones({12}, f64()), local),
               ipm::Error);
}

}  // namespace
