// Ranking supervision (§3 "Joint labels and learning from rankings", §4.2): a fixed set of
// pairs of training rows, what is observed about each pair, and the joint prior p(l1, l2)
// of Eq. 6 that the observation implies.
// defines: ipm::PairOrder, ipm::RankedPairs, ipm::make_ranked_pairs, ipm::pair_order_of,
//          ipm::ranking_joint_prior, ipm::check_ranking_spec
//
// Classes are ordered by their index. The paper tells, for each pair, "which image
// represents the digit which is greater (or equal)", and sets p(l1, l2) to "an upper or a
// lower triangular matrix ... with all nonzero entries equal to 1/55" (L = 10: the
// L(L+1)/2 = 55 cells of a triangle with its diagonal):
//   first greater   p(l1, l2) = 2 / (L(L+1))  for l1 >= l2, else 0
//   second greater  p(l1, l2) = 2 / (L(L+1))  for l1 <= l2, else 0
//   equal           ties = "triangle": the paper's binary observation, a tie reported as
//                   "first >= second" (the triangle above; it holds either way)
//                   ties = "diagonal": the tie itself is observed, p = 1/L on l1 = l2
// Pairs are fixed for the run by prior.seed: a seeded permutation of the training rows cut
// into consecutive couples, so no row is in two pairs (the paper: "each digit appears in
// exactly one pair"); prior.pairs = 0 takes all floor(n/2) of them. With
// prior.pair_source = "file" the pairs and their observations come from the data file
// instead (io/h5_pairs.h; real ranking data, no labels needed), checked by pairs_from_table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "priors/prior_source.h"

namespace ipm {

enum class PairOrder : int8_t { kSecondGreater = -1, kEqual = 0, kFirstGreater = 1 };

struct RankedPairs {
  std::vector<int64_t> a, b;     // row indices of the first and second members
  std::vector<PairOrder> order;  // what is observed about (y_a, y_b)
  int64_t size() const { return static_cast<int64_t>(a.size()); }
};

PairOrder pair_order_of(int64_t y_a, int64_t y_b);

// `count` disjoint pairs of rows [0, n) from `seed` (0 = floor(n/2)), each with the order
// of its labels y [n]. Throws ipm::Error naming prior.pairs when the count cannot fit.
RankedPairs make_ranked_pairs(const torch::Tensor& y, int64_t num_classes, int64_t count,
                              uint64_t seed);

// Pairs from a table int64 [P, 3] (first row, second row, observation in {1, -1, 0}); the
// first `count` rows (0 = all). Throws ipm::Error naming `where` and the table row for a row
// index outside [0, n) (n: the rows the job trains on), a pair of one row with itself, an
// unknown observation, or a count larger than the table.
RankedPairs pairs_from_table(const torch::Tensor& table, int64_t n, int64_t count,
                             const std::string& where);

// The joint prior [P, L, L] (float64) for each order of a batch, after additive smoothing
// eps (p <- (p + eps) / (1 + L^2 eps), App. E.1.3's smoothing on the joint). `reversed`
// transposes every matrix: a deliberately wrong prior, for tests only.
torch::Tensor ranking_joint_prior(const std::vector<PairOrder>& orders, int64_t num_classes,
                                  PairTies ties, double smoothing,
                                  bool reversed = false);

// Validates the ranking keys of the spec; throws ipm::Error naming the key.
void check_ranking_spec(const PriorSpec& spec);

}  // namespace ipm
