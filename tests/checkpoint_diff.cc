// Test helper (not a test): the largest relative difference between the model parameters of
// two checkpoints, max_k |a_k - b_k| / max(|a_k|, |b_k|, 1e-3) over every scalar. Prints it
// and exits 0 when it is <= TOL, 1 otherwise. Used by the rank-invariance tests.
//
//   checkpoint_diff A/checkpoint.pt B/checkpoint.pt TOL
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include <torch/torch.h>

namespace {

// Every tensor of a module archive, by dotted name (submodules are nested archives).
void collect(torch::serialize::InputArchive& ar, const std::string& prefix,
             std::map<std::string, torch::Tensor>& out) {
  for (const auto& k : ar.keys()) {
    torch::Tensor t;
    if (ar.try_read(k, t) || ar.try_read(k, t, /*is_buffer=*/true)) {
      out[prefix + k] = t;
      continue;
    }
    torch::serialize::InputArchive sub;
    if (ar.try_read(k, sub)) collect(sub, prefix + k + ".", out);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: checkpoint_diff A.pt B.pt TOL\n");
    return 2;
  }
  std::map<std::string, torch::Tensor> pa, pb;
  for (int i = 1; i <= 2; ++i) {
    torch::serialize::InputArchive ar, model;
    ar.load_from(argv[i]);
    ar.read("model", model);
    collect(model, "", i == 1 ? pa : pb);
  }
  if (pa.empty() || pa.size() != pb.size()) {
    std::fprintf(stderr, "checkpoints hold different models (%zu vs %zu tensors)\n", pa.size(),
                 pb.size());
    return 1;
  }
  double worst = 0.0;
  std::string where = "(none)";
  for (const auto& [k, a] : pa) {
    const auto it = pb.find(k);
    if (it == pb.end() || it->second.sizes() != a.sizes()) {
      std::fprintf(stderr, "%s: missing or of another shape in %s\n", k.c_str(), argv[2]);
      return 1;
    }
    const torch::Tensor ta = a.to(torch::kFloat64), tb = it->second.to(torch::kFloat64);
    const torch::Tensor scale = torch::maximum(torch::maximum(ta.abs(), tb.abs()),
                                               torch::full_like(ta, 1e-3));
    const double d = ((ta - tb).abs() / scale).max().item<double>();
    if (d > worst) {
      worst = d;
      where = k;
    }
  }
  const double tol = std::atof(argv[3]);
  std::printf("max relative parameter difference %.3g (at %s) over %zu tensors, tolerance %.3g\n",
              worst, where.c_str(), pa.size(), tol);
  return worst <= tol ? 0 : 1;
}
