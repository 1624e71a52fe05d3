#include "dist/gpu_assignment.h"

#include <map>
#include <sstream>
#include <utility>

#include "common/error.h"
#include "common/text.h"  // join

namespace ipm {
namespace {

constexpr const char* kFix =
    "run one rank per GPU: srun --gpus-per-task=1 (or --gpu-bind=single:1), or "
    "--ntasks-per-node equal to --gpus-per-node; under mpirun, -npernode = GPUs per node";

}  // namespace

std::vector<int> assign_gpus(const std::vector<RankGpus>& ranks) {
  std::vector<int> device(ranks.size(), -1);
  // (node, visible set) -> ranks in the order given (world-rank order).
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> sets;
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (ranks[i].bus_ids.empty()) continue;
    sets[{ranks[i].node, join(ranks[i].bus_ids, ",")}].push_back(i);
  }
  for (const auto& [key, members] : sets) {
    const size_t n = ranks[members.front()].bus_ids.size();
    if (members.size() > n) {
      std::ostringstream who;
      for (size_t k = 0; k < members.size(); ++k) {
        who << (k ? (k + 1 == members.size() ? " and " : ", ") : "") << ranks[members[k]].rank;
      }
      throw Error("ranks " + who.str() + " on node " + key.first + " see the same " +
                  std::to_string(n) + " GPU" + (n == 1 ? "" : "s") + " (" + key.second +
                  "): more ranks than GPUs; " + kFix);
    }
    for (size_t k = 0; k < members.size(); ++k) device[members[k]] = static_cast<int>(k);
  }
  // Different but overlapping sets (a --gpu-bind map that hands one GPU to two ranks).
  std::map<std::pair<std::string, std::string>, size_t> taken;  // (node, bus id) -> rank index
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (device[i] < 0) continue;
    const std::string& bus = ranks[i].bus_ids[static_cast<size_t>(device[i])];
    const auto [it, fresh] = taken.emplace(std::make_pair(ranks[i].node, bus), i);
    IPM_CHECK(fresh,
              "ranks " << ranks[it->second].rank << " and " << ranks[i].rank << " on node "
                       << ranks[i].node << " would both use GPU " << bus
                       << " (their visible GPUs overlap: " << join(ranks[it->second].bus_ids, ",")
                       << " and " << join(ranks[i].bus_ids, ",") << "); " << kFix);
  }
  return device;
}

}  // namespace ipm
