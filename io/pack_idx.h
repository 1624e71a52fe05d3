// `ipm-dist pack idx`: MNIST-format IDX files -> an ipm-dist HDF5 data file.
// defines: ipm::pack_idx
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ipm {

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from dir (plain files without .gz
// also work) into /train and /test (x uint8 [N, 1, H, W], y int64 [N]). Labels must be in
// 0..num_classes-1. Writes atomically. class_names may be empty.
void pack_idx(const std::filesystem::path& dir, const std::filesystem::path& out,
              int64_t num_classes, const std::vector<std::string>& class_names);

}  // namespace ipm
