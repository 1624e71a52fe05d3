// Files that are either complete or absent: write beside the target, fsync, rename.
// defines: ipm::write_file_atomic, ipm::AtomicPath
#pragma once

#include <filesystem>
#include <string>

namespace ipm {

// Writes `contents` to `path` so that a reader never sees a truncated file: a crash
// leaves either the old file or the new one (and maybe a stray "*.tmp.<pid>.<random>").
// Writers of one target never share a temporary file, whatever their host, PID or thread:
// the last rename wins, and the target is always one writer's complete contents.
void write_file_atomic(const std::filesystem::path& path, const std::string& contents);

// For writers that need a path (HDF5, torch::save): write to tmp(), then commit().
// Destroyed without commit(), it removes the temporary file.
class AtomicPath {
 public:
  explicit AtomicPath(std::filesystem::path target);  // creates tmp() (empty)
  ~AtomicPath();
  AtomicPath(const AtomicPath&) = delete;
  AtomicPath& operator=(const AtomicPath&) = delete;
  const std::filesystem::path& tmp() const { return tmp_; }
  void commit();  // fsyncs tmp() and renames it over the target

 private:
  std::filesystem::path target_, tmp_;
  bool committed_ = false;
};

}  // namespace ipm
