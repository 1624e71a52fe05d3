// Counter-based randomness: a value is a pure function of (seed, stream, index), so every
// rank, restart and LibTorch version sees the same priors and data order.
// defines: ipm::mix64, ipm::HashRng, ipm::shuffled_order
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipm {

// SplitMix64 finalizer: a bijective avalanche of 64 bits.
inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A small generator whose state starts from (seed, stream, index). Cheap to construct, so
// one is made per sample where per-sample determinism matters.
class HashRng {
 public:
  HashRng(uint64_t seed, uint64_t stream, uint64_t index)
      : state_(mix64(mix64(mix64(seed) ^ stream) ^ index)) {}
  uint64_t next() { return state_ = mix64(state_); }
  // Uniform in [0, n) by Lemire's multiply-shift with rejection (no modulo bias).
  uint64_t below(uint64_t n) {
    while (true) {
      __extension__ using u128 = unsigned __int128;  // GCC/Clang: the 64x64->128 product
      const u128 m = static_cast<u128>(next()) * n;
      const uint64_t low = static_cast<uint64_t>(m);
      if (low >= n || low >= (-n) % n) return static_cast<uint64_t>(m >> 64);
    }
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// Streams in use, so two consumers of the same seed never share random numbers.
enum RngStream : uint64_t {
  kStreamDataOrder = 1,
  kStreamNegativePrior = 2,
  kStreamPartialPrior = 3,
  kStreamRankingPairs = 4,
  kStreamLsrTrain = 101,  // datasets/lsr_benchmark.h: one generator per image of each split
  kStreamLsrTest = 102,
};

// A permutation of [0, n) determined by (seed, epoch): Fisher-Yates on a HashRng.
std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, uint64_t epoch);

}  // namespace ipm
