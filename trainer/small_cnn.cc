#include "trainer/small_cnn.h"

#include "common/error.h"
#include "trainer/fcn.h"

namespace ipm {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}

int64_t after_stride2(int64_t n) { return (n + 1) / 2; }  // 3x3, stride 2, padding 1

}  // namespace

SmallCnnImpl::SmallCnnImpl(const std::vector<int64_t>& sample_shape, int64_t num_classes,
                           int64_t width) {
  IPM_CHECK(sample_shape.size() == 3,
            "model 'small_cnn' needs image samples [C, H, W]; the data has "
                << sample_shape.size() << "-dimensional samples");
  const int64_t h = after_stride2(after_stride2(after_stride2(sample_shape[1])));
  const int64_t w = after_stride2(after_stride2(after_stride2(sample_shape[2])));
  c1_ = register_module("c1", conv3x3(sample_shape[0], width, 1));
  c2_ = register_module("c2", conv3x3(width, width, 2));
  c3_ = register_module("c3", conv3x3(width, width, 2));
  c4_ = register_module("c4", conv3x3(width, width, 2));
  fc_ = register_module("fc", torch::nn::Linear(width * h * w, num_classes));
}

torch::Tensor SmallCnnImpl::forward(torch::Tensor x) {
  // In-place ReLU: a convolution's backward needs its input, not its output, so the output
  // can be overwritten (one fewer activation-sized allocation per layer).
  x = c1_->forward(x).relu_();
  x = c2_->forward(x).relu_();
  x = c3_->forward(x).relu_();
  x = c4_->forward(x).relu_();
  // flatten(1) of a channels-last tensor orders features (h, w, c); contiguous() first so
  // the linear layer sees (c, h, w) as in PyTorch's nn.Flatten on NCHW.
  return fc_->forward(x.contiguous().flatten(1));
}

torch::nn::AnyModule make_model(Arch arch, const std::vector<int64_t>& sample_shape,
                                int64_t num_classes, int64_t width) {
  if (arch == Arch::kFcn) {
    return torch::nn::AnyModule(
        Fcn(sample_shape, num_classes, width > 0 ? width : kFcnDefaultWidth));
  }
  return torch::nn::AnyModule(SmallCnn(sample_shape, num_classes, width > 0 ? width : 32));
}

torch::Tensor to_model_layout(const torch::Tensor& x) {
  if (x.dim() != 4) return x;
  torch::Tensor out =
      torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  return out.copy_(x);
}

int64_t parameter_count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace ipm
