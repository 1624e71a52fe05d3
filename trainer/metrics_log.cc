#include "trainer/metrics_log.h"

#include "common/error.h"
#include "common/text.h"

namespace ipm {

std::string to_json_line(const EpochMetrics& m) {
  std::string s = "{\"epoch\": " + std::to_string(m.epoch);
  auto add = [&s](const char* key, double v) {
    s += ", \"";
    s += key;
    s += "\": " + json_number(v);
  };
  add("loss", m.loss);
  add("train_acc", m.train_acc);
  add("train_acc_r", m.train_acc_r);
  add("test_acc", m.test_acc);
  add("peak_test_acc", m.peak_test_acc);
  add("samples_per_s", m.samples_per_s);
  add("param_norm", m.param_norm);
  add("step_s", m.step_s);
  add("comm_s", m.comm_s);
  add("epoch_s", m.epoch_s);
  add("read_wait_s", m.read_wait_s);
  add("read_bytes", m.read_bytes);
  if (m.segmentation != 0.0) {
    add("train_miou", m.train_miou);
    add("train_miou_r", m.train_miou_r);
    add("test_acc_r", m.test_acc_r);
    add("test_miou", m.test_miou);
    add("test_miou_r", m.test_miou_r);
  }
  return s + "}";
}

}  // namespace ipm

namespace ipm {
namespace {

// One place lists the fields in order, for both directions.
template <typename M, typename F>
void for_each_field(M& m, F f) {
  f(m.loss); f(m.train_acc); f(m.train_acc_r); f(m.test_acc); f(m.peak_test_acc);
  f(m.samples_per_s); f(m.param_norm); f(m.step_s); f(m.comm_s); f(m.epoch_s);
  // Appended (segmentation): older checkpoints end before these.
  f(m.segmentation); f(m.train_miou); f(m.train_miou_r); f(m.test_acc_r); f(m.test_miou);
  f(m.test_miou_r);
  // Appended (data path).
  f(m.read_wait_s); f(m.read_bytes);
}

}  // namespace

torch::Tensor metrics_to_tensor(const std::vector<EpochMetrics>& history) {
  torch::Tensor t = torch::zeros({static_cast<int64_t>(history.size()), kMetricFields},
                                 torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (size_t i = 0; i < history.size(); ++i) {
    int64_t j = 0;
    a[i][j++] = static_cast<double>(history[i].epoch);
    for_each_field(history[i], [&](double v) { a[i][j++] = v; });
  }
  return t;
}

std::vector<EpochMetrics> metrics_from_tensor(const torch::Tensor& t) {
  IPM_CHECK(t.dim() == 2 &&
                (t.size(1) == kMetricFields || t.size(1) == kMetricFieldsBeforeSegmentation ||
                 t.size(1) == kMetricFieldsBeforeDataPath) &&
                t.scalar_type() == torch::kFloat64,
            "metrics history has shape " << t.sizes() << ", expected [E, " << kMetricFields << "]");
  std::vector<EpochMetrics> out(static_cast<size_t>(t.size(0)));
  auto a = t.accessor<double, 2>();
  const int64_t width = t.size(1);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t j = 0;
    out[i].epoch = static_cast<int64_t>(a[i][j++]);
    for_each_field(out[i], [&](double& v) { v = j < width ? a[i][j++] : 0.0; });
  }
  return out;
}

}  // namespace ipm
