#include "trainer/normalizer_factory.h"

#include "common/error.h"

namespace ipm {

std::unique_ptr<Normalizer> make_normalizer(const std::string& name, double ema_decay,
                                            Communicator& comm) {
  if (name == "local") return std::make_unique<LocalNormalizer>();
  if (name == "global") {
    IPM_CHECK(comm.size() == 1, "train.normalizer = \"global\" over " << comm.size()
                                    << " ranks needs the distributed normalizer");
    return std::make_unique<LocalNormalizer>();
  }
  if (name == "ema") return std::make_unique<EmaNormalizer>(ema_decay);
  throw Error("train.normalizer = '" + name + "' is unknown (expected local, global or ema)");
}

torch::Tensor ema_state(const Normalizer& n) {
  const auto* ema = dynamic_cast<const EmaNormalizer*>(&n);
  return ema ? ema->running_mean() : torch::Tensor();
}

void set_ema_state(Normalizer& n, const torch::Tensor& running) {
  auto* ema = dynamic_cast<EmaNormalizer*>(&n);
  IPM_CHECK(ema, "checkpoint has an ema normalizer state but train.normalizer is " << n.name());
  ema->set_running_mean(running);
}

}  // namespace ipm
