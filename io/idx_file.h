// The IDX format of MNIST and Fashion-MNIST (big-endian dims, uint8 data), gzip or plain.
// defines: ipm::read_idx
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <torch/torch.h>

namespace ipm {

// uint8 tensor with the file's dimensions (e.g. [60000, 28, 28] or [60000]).
// Throws ipm::Error naming the file for a bad magic number, type or length.
torch::Tensor read_idx(const std::filesystem::path& file);

}  // namespace ipm
