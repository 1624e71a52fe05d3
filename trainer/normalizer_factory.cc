#include "trainer/normalizer_factory.h"

#include "common/error.h"
#include "dist/global_normalizer.h"

namespace ipm {

std::unique_ptr<Normalizer> make_normalizer(const std::string& name, double ema_decay,
                                            Communicator& comm) {
  if (name == "local") return std::make_unique<LocalNormalizer>();
  // One code path for any number of ranks: on one rank the all-reduces are no-ops.
  if (name == "global") return std::make_unique<GlobalNormalizer>(comm);
  if (name == "ema") return std::make_unique<GlobalEmaNormalizer>(ema_decay, comm);
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
