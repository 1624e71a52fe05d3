// Reads one split (/train, /test, ...) of an ipm-dist HDF5 data file, any rows at a time.
// defines: ipm::H5Split, ipm::read_cooccurrence
//
// Layout (../shared/DESIGN.md): /<split>/x uint8 or float32 [N, C, H, W] or [N, D];
// /<split>/y int64 [N] (or [N, H, W]); optional /<split>/prior float32 [N, L, ...];
// optional /<split>/coarse int32 or int64 [N] or [N, h, w] (coarse labels); optional
// /cooccurrence float32 [C, L] at the root (read_cooccurrence); file attribute num_classes. Rows are read with a hyperslab selection of just the rows
// asked for, so no split is loaded whole unless `preload` asks for it (then every read is
// an in-memory gather). Not thread-safe: one H5Split per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "io/h5_handle.h"

namespace ipm {

class H5Split {
 public:
  // HDF5's chunk cache per dataset (each of x, y, prior, coarse has its own).
  static constexpr int64_t kChunkCacheBytes = int64_t{64} << 20;

  // Opens and validates the split; throws ipm::Error naming the file and dataset.
  H5Split(const std::filesystem::path& file, const std::string& split, bool preload);

  int64_t size() const { return n_; }
  int64_t num_classes() const { return num_classes_; }
  const std::vector<int64_t>& sample_shape() const { return x_shape_; }  // e.g. {1, 28, 28}
  bool has_prior() const { return prior_.valid() || prior_mem_.defined(); }
  bool preloaded() const { return x_mem_.defined(); }  // every read gathers from memory
  bool x_is_uint8() const { return x_uint8_; }  // x stored as uint8 (x() scales it by 1/255)
  bool has_coarse() const { return coarse_.valid(); }
  const std::vector<int64_t>& label_shape() const { return y_shape_; }  // {} or {H, W}
  std::string where() const;  // "file.h5:/train" for messages
  // Rows per HDF5 chunk of x (the unit the file is read in); for a contiguous x, the rows
  // of 256 KiB, as ipm::H5Writer chunks. The chunked epoch order groups rows by it.
  int64_t chunk_rows() const { return chunk_rows_; }

  // Rows in the order given (duplicates allowed). x as float32 (uint8 scaled by 1/255)
  // [B, sample_shape...]; y int64 [B, ...]; prior float32 [B, L, ...].
  torch::Tensor x(const std::vector<int64_t>& rows) const;
  torch::Tensor y(const std::vector<int64_t>& rows) const;
  torch::Tensor y_unchecked(const std::vector<int64_t>& rows) const;  // y without the range check
  torch::Tensor prior(const std::vector<int64_t>& rows) const;
  torch::Tensor coarse(const std::vector<int64_t>& rows) const;  // int64 [B] or [B, h, w]

  // Bytes that preloading the split would take (x as stored, y, prior).
  static int64_t preload_bytes(const std::filesystem::path& file, const std::string& split);

 private:
  torch::Tensor read_rows(const H5Id& dset, const torch::Tensor& mem, torch::ScalarType type,
                          const std::vector<int64_t>& item_shape,
                          const std::vector<int64_t>& rows, const char* name) const;
  torch::Tensor read_all(const H5Id& dset, torch::ScalarType type,
                         const std::vector<int64_t>& item_shape, const char* name) const;

  std::filesystem::path file_;
  std::string split_;
  H5Id fid_, x_, y_, prior_, coarse_;
  int64_t n_ = 0, num_classes_ = 0, chunk_rows_ = 1;
  bool x_uint8_ = false;
  std::vector<int64_t> x_shape_, y_shape_, prior_shape_, coarse_shape_;  // per-row shapes
  torch::Tensor x_mem_, y_mem_, prior_mem_, coarse_mem_;  // when preloaded (x as stored)
};

// The co-occurrence matrix /cooccurrence [C, L] of a data file (counts or p(l | c) rows) as
// float64, for prior.kind = "coarse"; throws ipm::Error naming the file when it is missing
// or not a 2-D numeric dataset.
torch::Tensor read_cooccurrence(const std::filesystem::path& file);

}  // namespace ipm
