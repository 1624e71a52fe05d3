#include "trainer/normalizer_factory.h"

#include "common/error.h"
#include "dist/global_normalizer.h"

namespace ipm {

std::unique_ptr<Normalizer> make_normalizer(const TrainSpec& t, Communicator& comm) {
  switch (t.normalizer) {
    case NormalizerKind::kLocal: return std::make_unique<LocalNormalizer>();
    // One code path for any number of ranks: on one rank the all-reduces are no-ops.
    case NormalizerKind::kGlobal: return std::make_unique<GlobalNormalizer>(comm);
    case NormalizerKind::kEma:
      return std::make_unique<GlobalEmaNormalizer>(
          EmaOptions{t.ema_decay, t.ema_samples, t.ema_warmup}, comm);
  }
  throw Error("train.normalizer: unhandled kind");
}

EmaNormalizer::State ema_state(const Normalizer& n) {
  const auto* ema = dynamic_cast<const EmaNormalizer*>(&n);
  return ema ? ema->state() : EmaNormalizer::State{};
}

void set_ema_state(Normalizer& n, const EmaNormalizer::State& s) {
  auto* ema = dynamic_cast<EmaNormalizer*>(&n);
  IPM_CHECK(ema, "checkpoint has an ema normalizer state but train.normalizer is " << n.name());
  ema->set_state(s);
}

}  // namespace ipm
