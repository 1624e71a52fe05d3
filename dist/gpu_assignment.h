// Which GPU each rank of a run takes, from what every rank sees: a pure function of the
// ranks' nodes and visible devices, so that any launcher layout can be tested without one.
// defines: ipm::RankGpus, ipm::assign_gpus
//
// Ranks on one node that see the same set of devices (same PCI bus ids, in the same order)
// share that set: they are numbered 0, 1, ... in world-rank order and rank k takes device k.
// This covers every launcher: mpirun (all ranks see all GPUs), srun --gpus-per-task=1 (each
// sees its own one), --gpus-per-task=2 or --gpu-bind (each sees a few, maybe overlapping).
// The PCI bus ids are what makes the choice safe: a device's index differs between ranks
// whose visible sets differ, its bus id does not. Two ranks that would take the same bus id
// are refused with one line naming both and the Slurm options that fix it.
#pragma once

#include <string>
#include <vector>

namespace ipm {

struct RankGpus {
  int rank = 0;                      // world rank
  std::string node;                  // host name
  std::vector<std::string> bus_ids;  // visible devices in CUDA order; empty: no GPU wanted
};

// One entry per rank of `ranks` (same order): the device index it uses, -1 for ranks with no
// bus ids. Throws ipm::Error when a set has more ranks than devices or two ranks would use
// one GPU.
std::vector<int> assign_gpus(const std::vector<RankGpus>& ranks);

}  // namespace ipm
