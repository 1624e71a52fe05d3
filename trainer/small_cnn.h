// The paper's classifier for 28x28 images (§4.1): four ReLU 3x3 convolutions, 32 channels,
// strides 1,2,2,2 (padding 1), then a linear map 32*4*4 = 512 -> L logits.
// 33,194 parameters for 1x28x28 inputs and 10 classes.
// defines: ipm::SmallCnn, ipm::make_model, ipm::to_model_layout, ipm::parameter_count
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/job_spec.h"

namespace ipm {

class SmallCnnImpl : public torch::nn::Module {
 public:
  // sample_shape = {C, H, W}.
  SmallCnnImpl(const std::vector<int64_t>& sample_shape, int64_t num_classes,
               int64_t width = 32);
  torch::Tensor forward(torch::Tensor x);  // x [B, C, H, W] -> logits [B, L]

 private:
  torch::nn::Conv2d c1_{nullptr}, c2_{nullptr}, c3_{nullptr}, c4_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(SmallCnn);

// model.arch -> a module mapping [B, sample_shape...] to logits [B, L] (small_cnn) or
// per-pixel logits [B, L, H, W] (fcn, trainer/fcn.h). width = model.width, 0 = the
// architecture's default (small_cnn 32, fcn 64). Throws ipm::Error naming the architecture
// when it cannot take this sample shape.
torch::nn::AnyModule make_model(Arch arch, const std::vector<int64_t>& sample_shape,
                                int64_t num_classes, int64_t width = 0);

// Images [B, C, H, W] in the layout the network runs fastest in: channels-last, with the
// strides set explicitly. (contiguous(ChannelsLast) leaves NCHW strides when C == 1, since
// both layouts coincide; oneDNN then runs the first convolution on its NCHW path and
// reorders at every layer after it: measured 1.4x slower per step, see bench/README.md.)
// Other shapes are returned as they are.
torch::Tensor to_model_layout(const torch::Tensor& x);

// Number of trainable scalars (33,194 for the paper's CNN on 1x28x28, 10 classes).
int64_t parameter_count(const torch::nn::Module& m);

}  // namespace ipm
