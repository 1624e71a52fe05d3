// Where one training step's time goes: the paper's CNN, batch 256, RQ loss, Adam, on
// random images, profiled with LibTorch's autograd profiler (chrome trace). Prints the
// trace path; bench/summarize_trace.py aggregates it by operator.
//
//   build/bench/step_profile [STEPS] [nchw|channels_last] [TRACE.json]
#include <cstdio>
#include <cstdlib>
#include <string>

#include <torch/torch.h>

#include "common/process_tuning.h"
#include "losses/implicit_losses.h"
#include "trainer/small_cnn.h"

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 20;
  const bool channels_last = argc > 2 ? std::string(argv[2]) != "nchw" : true;
  const std::string trace = argc > 3 ? argv[3] : "step_profile.json";
  ipm::tune_process_for_training();
  torch::set_num_threads(1);
  at::globalContext().setFlushDenormal(true);
  torch::manual_seed(0);
  ipm::SmallCnn model(std::vector<int64_t>{1, 28, 28}, 10);
  for (auto& p : model->parameters()) {
    if (p.dim() == 4 && channels_last) p.set_data(ipm::to_model_layout(p));
  }
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor images = torch::rand({256, 1, 28, 28});
  const torch::Tensor x = channels_last ? ipm::to_model_layout(images) : images;
  const torch::Tensor prior = torch::full({256, 10}, 0.1);
  ipm::LocalNormalizer norm;
  auto step = [&] {
    const torch::Tensor log_q = torch::log_softmax(model->forward(x), 1);
    const torch::Tensor loss = ipm::per_sample_loss(ipm::LossKind::kRQ, log_q, prior, norm).mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  for (int i = 0; i < 5; ++i) step();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %.1f ms/step, %.0f samples/s (unprofiled)\n",
              channels_last ? "channels_last" : "nchw", 1e3 * dt / steps, 256.0 * steps / dt);
  {
    torch::autograd::profiler::RecordProfile guard(trace);
    for (int i = 0; i < steps; ++i) step();
  }
  std::printf("trace: %s\n", trace.c_str());
  return 0;
}
