// Fixtures shared by the segmentation tests of several libraries: image-shaped losses and
// coarse priors against PyTorch float64 (tests/data/seg_fixtures.txt, written by
// tools/reference/make_seg_fixtures.py).
// defines: f64, SegCase, ReadSegFixtures
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#ifndef IPM_TEST_DATA_DIR
#error "IPM_TEST_DATA_DIR must name the tests/data directory"
#endif

inline torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

struct SegCase {
  std::string name;
  int64_t n, l, h, w, c, ch, cw;
  torch::Tensor cooc, coarse, prior, logits;
  double sigma, eps;
  std::vector<std::pair<std::string, double>> values;
  std::vector<torch::Tensor> grads;
};

inline std::vector<SegCase> ReadSegFixtures() {
  std::ifstream in(std::string(IPM_TEST_DATA_DIR) + "/seg_fixtures.txt");
  EXPECT_TRUE(in.good());
  std::vector<SegCase> out;
  std::string w;
  auto skip_comments = [&]() {
    while (in >> w) {
      if (w[0] != '#') return true;
      std::getline(in, w);
    }
    return false;
  };
  auto read = [&](std::vector<int64_t> shape) {
    int64_t k = 1;
    for (auto s : shape) k *= s;
    std::vector<double> v(static_cast<size_t>(k));
    for (auto& x : v) in >> x;
    return torch::tensor(v, f64()).view(shape);
  };
  while (skip_comments()) {
    EXPECT_EQ(w, "seg_case");
    SegCase c;
    in >> c.name >> c.n >> c.l >> c.h >> c.w >> c.c >> c.ch >> c.cw;
    in >> w;  // cooccurrence
    c.cooc = read({c.c, c.l});
    in >> w;  // coarse
    c.coarse = read({c.n, c.ch, c.cw}).round().to(torch::kInt64);
    in >> w >> c.sigma >> w >> c.eps;
    in >> w;
    c.prior = read({c.n, c.l, c.h, c.w});
    in >> w;
    c.logits = read({c.n, c.l, c.h, c.w});
    while (in >> w && w == "loss") {
      std::string kind;
      double v;
      in >> kind >> v;
      c.values.emplace_back(kind, v);
      c.grads.push_back(read({c.n, c.l, c.h, c.w}));
    }
    EXPECT_EQ(w, "end");
    EXPECT_EQ(c.values.size(), 6u) << c.name;  // ce hard_ce nll qr rq free_energy
    out.push_back(c);
  }
  return out;
}
