#include "priors/pair_prior.h"

#include <numeric>
#include <utility>

#include "common/error.h"
#include "common/hash_rng.h"

namespace ipm {

PairOrder pair_order_of(int64_t y_a, int64_t y_b) {
  if (y_a > y_b) return PairOrder::kFirstGreater;
  if (y_a < y_b) return PairOrder::kSecondGreater;
  return PairOrder::kEqual;
}

void check_ranking_spec(const PriorSpec& spec) {
  IPM_CHECK(spec.pairs >= 0, "prior.pairs = " << spec.pairs << " must be >= 0 (0 = all)");
}

RankedPairs make_ranked_pairs(const torch::Tensor& y, int64_t num_classes, int64_t count,
                              uint64_t seed) {
  IPM_CHECK(y.dim() == 1, "prior.kind = \"ranking\" needs one label per row, y has shape "
                              << y.sizes());
  const int64_t n = y.size(0);
  IPM_CHECK(count >= 0, "prior.pairs = " << count << " must be >= 0 (0 = all)");
  const int64_t want = count == 0 ? n / 2 : count;
  IPM_CHECK(want >= 1 && 2 * want <= n,
            "prior.pairs = " << count << " needs " << 2 * want << " distinct training rows, "
                             << "there are " << n << " (at most " << n / 2 << " pairs)");
  // Fisher-Yates on the ranking stream of the seed: the pairs are the same on every rank,
  // epoch and restart.
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  HashRng rng(seed, kStreamRankingPairs, 0);
  for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);

  const torch::Tensor yc = y.to(torch::kInt64).contiguous();
  const int64_t* yp = yc.data_ptr<int64_t>();
  RankedPairs p;
  p.a.reserve(static_cast<size_t>(want));
  p.b.reserve(static_cast<size_t>(want));
  p.order.reserve(static_cast<size_t>(want));
  for (int64_t j = 0; j < want; ++j) {
    const int64_t ra = perm[static_cast<size_t>(2 * j)], rb = perm[static_cast<size_t>(2 * j + 1)];
    for (int64_t r : {ra, rb}) {
      IPM_CHECK(yp[r] >= 0 && yp[r] < num_classes,
                "row " << r << " has label " << yp[r] << " outside 0.." << num_classes - 1);
    }
    p.a.push_back(ra);
    p.b.push_back(rb);
    p.order.push_back(pair_order_of(yp[ra], yp[rb]));
  }
  return p;
}

RankedPairs pairs_from_table(const torch::Tensor& table, int64_t n, int64_t count,
                             const std::string& where) {
  IPM_CHECK(table.dim() == 2 && table.size(1) == 3, where << ": shape must be [P, 3]");
  const int64_t rows = table.size(0);
  IPM_CHECK(count >= 0 && count <= rows,
            "prior.pairs = " << count << " exceeds the " << rows << " pairs in " << where);
  const int64_t want = count == 0 ? rows : count;
  const torch::Tensor t = table.to(torch::kInt64).contiguous();
  const int64_t* p = t.data_ptr<int64_t>();
  RankedPairs out;
  for (int64_t j = 0; j < want; ++j) {
    const int64_t a = p[3 * j], b = p[3 * j + 1], o = p[3 * j + 2];
    IPM_CHECK(a >= 0 && a < n && b >= 0 && b < n,
              where << ": pair " << j << " = (" << a << ", " << b << ") references a row "
                    << "outside the " << n << " training rows");
    IPM_CHECK(a != b, where << ": pair " << j << " pairs row " << a << " with itself");
    IPM_CHECK(o == 1 || o == -1 || o == 0,
              where << ": pair " << j << " has observation " << o
                    << " (expected 1: first greater, -1: second greater, 0: equal)");
    out.a.push_back(a);
    out.b.push_back(b);
    out.order.push_back(static_cast<PairOrder>(o));
  }
  return out;
}

torch::Tensor ranking_joint_prior(const std::vector<PairOrder>& orders, int64_t num_classes,
                                  PairTies ties, double smoothing, bool reversed) {
  const int64_t l = num_classes;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  // Lower triangle with diagonal (l1 >= l2), every cell 2 / (L(L+1)): 1/55 for L = 10.
  const torch::Tensor lower = torch::ones({l, l}, opts).tril() * (2.0 / static_cast<double>(l * (l + 1)));
  const torch::Tensor upper = lower.t().contiguous();
  const torch::Tensor diag = torch::eye(l, opts) / static_cast<double>(l);
  const torch::Tensor equal = ties == PairTies::kDiagonal ? diag : lower;
  std::vector<torch::Tensor> rows;
  rows.reserve(orders.size());
  for (PairOrder o : orders) {
    rows.push_back(o == PairOrder::kFirstGreater ? lower
                   : o == PairOrder::kSecondGreater ? upper : equal);
  }
  torch::Tensor p = rows.empty() ? torch::zeros({0, l, l}, opts) : torch::stack(rows);
  if (reversed) p = p.transpose(1, 2).contiguous();
  if (smoothing > 0.0) p = (p + smoothing) / (1.0 + static_cast<double>(l * l) * smoothing);
  return p;
}

}  // namespace ipm
