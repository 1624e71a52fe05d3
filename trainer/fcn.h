// The fully convolutional network of App. E.1.3: five 3x3 convolutions (padding 1, stride 1)
// with leaky ReLUs between them; the last one maps `width` channels to L logits per pixel.
// Receptive field 1 + 5 * 2 = 11 x 11 pixels ("the receptive field of this model is only
// 11 x 11 pixels"). The paper uses 128 filters (E.1.3) and 64 (F.2); `model.width` picks it.
// Parameters: (9C + 1) w + 3 (9w + 1) w + (9w + 1) L.
// defines: ipm::Fcn, ipm::kFcnDefaultWidth
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace ipm {

constexpr int64_t kFcnDefaultWidth = 64;  // App. F.2's width; E.1.3 uses 128

class FcnImpl : public torch::nn::Module {
 public:
  // sample_shape = {C, H, W}; any H, W (the output keeps them).
  FcnImpl(const std::vector<int64_t>& sample_shape, int64_t num_classes, int64_t width);
  torch::Tensor forward(torch::Tensor x);  // x [B, C, H, W] -> logits [B, L, H, W]

 private:
  std::vector<torch::nn::Conv2d> convs_;
};
TORCH_MODULE(Fcn);

}  // namespace ipm
