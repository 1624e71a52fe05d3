#include "trainer/fcn.h"

#include <string>

#include "common/error.h"

namespace ipm {

FcnImpl::FcnImpl(const std::vector<int64_t>& sample_shape, int64_t num_classes,
                 int64_t width) {
  IPM_CHECK(sample_shape.size() == 3,
            "model 'fcn' needs image samples [C, H, W]; the data has " << sample_shape.size()
                                                                       << "-dimensional samples");
  IPM_CHECK(width >= 1, "model.width = " << width << " must be >= 1");
  const int64_t in[5] = {sample_shape[0], width, width, width, width};
  const int64_t out[5] = {width, width, width, width, num_classes};
  for (int i = 0; i < 5; ++i) {
    convs_.push_back(register_module(
        "c" + std::to_string(i + 1),
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in[i], out[i], 3).stride(1).padding(1))));
  }
}

torch::Tensor FcnImpl::forward(torch::Tensor x) {
  // Leaky ReLU (slope 0.01, PyTorch's default) between layers, none after the last: the
  // output is logits. In place is safe: a convolution's backward needs its input only.
  for (size_t i = 0; i + 1 < convs_.size(); ++i) {
    x = convs_[i]->forward(x);
    torch::leaky_relu_(x, 0.01);
  }
  return convs_.back()->forward(x);
}

}  // namespace ipm
