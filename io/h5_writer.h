// Writes ipm-dist HDF5 data files (the layout of h5_split.h), all or nothing.
// defines: ipm::H5Writer
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/atomic_file.h"
#include "io/h5_handle.h"

namespace ipm {

// Builds the file under a temporary name; commit() renames it into place, so an
// interrupted pack never leaves a file that looks complete. Datasets are chunked along N.
class H5Writer {
 public:
  explicit H5Writer(const std::filesystem::path& file);
  // x uint8 or float32 [N, ...]; y int64 [N, ...]; prior float32 [N, L, ...] (optional).
  void write_split(const std::string& split, const torch::Tensor& x, const torch::Tensor& y,
                   const torch::Tensor& prior = {});
  // Any extra dataset, e.g. "/train/coarse" or "/cooccurrence" (its group must exist:
  // write_split creates /<split>).
  void add_dataset(const std::string& path, const torch::Tensor& t);
  // Streaming importers grow a split in blocks instead: create_split makes /<split>, then
  // create_rows an empty dataset (path e.g. "/train/x", rows of shape `row_shape`) that
  // append_rows extends along N. The caller makes sure no split stays empty.
  void create_split(const std::string& split);
  void create_rows(const std::string& path, torch::ScalarType type,
                   const std::vector<int64_t>& row_shape);
  void append_rows(const std::string& path, const torch::Tensor& rows);  // [B, row_shape...]
  void set_attributes(int64_t num_classes, const std::vector<std::string>& class_names,
                      const std::string& source);
  void commit();

 private:
  void write_dataset(hid_t group, const char* name, const torch::Tensor& t);
  std::filesystem::path file_;
  AtomicPath out_;
  H5Id fid_;
};

}  // namespace ipm
