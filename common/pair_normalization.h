// How the pair loss (losses/pair_losses.h, §4.2 Eq. 6) takes its per-class normalizers:
// a setting of the ranking prior (`prior.pair_normalizer`, priors/prior_source.h) that only
// the loss uses. It lives here because priors/ and losses/ do not depend on each other.
// defines: ipm::PairNormalization
#pragma once

#include <vector>

#include "common/enum_names.h"

namespace ipm {

// kPosition: Za over the first members, Zb over the second ones (Eq. 6 as printed);
// kPooled: both over all 2P images of the batch.
enum class PairNormalization { kPosition, kPooled };

inline const std::vector<EnumName<PairNormalization>>& enum_names(PairNormalization) {
  static const std::vector<EnumName<PairNormalization>> names = {
      {PairNormalization::kPosition, "position"}, {PairNormalization::kPooled, "pooled"}};
  return names;
}

}  // namespace ipm
