#include "io/idx_file.h"

#include <zlib.h>

#include <memory>

#include "common/error.h"

namespace ipm {
namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

// Reads exactly n bytes (gzread transparently reads uncompressed files too).
void read_exact(gzFile f, void* dst, size_t n, const std::filesystem::path& file) {
  auto* p = static_cast<unsigned char*>(dst);
  while (n > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    const int got = gzread(f, p, chunk);
    IPM_CHECK(got > 0, file.string() << ": truncated or corrupt IDX file");
    p += got;
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

torch::Tensor read_idx(const std::filesystem::path& file) {
  IPM_CHECK(std::filesystem::exists(file), file.string() << ": no such file");
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(file.c_str(), "rb"));
  IPM_CHECK(f, file.string() << ": cannot open");
  unsigned char magic[4];
  read_exact(f.get(), magic, 4, file);
  IPM_CHECK(magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08,
            file.string() << ": not an IDX file of unsigned bytes (magic "
                          << int(magic[0]) << "," << int(magic[1]) << "," << int(magic[2])
                          << ")");
  const int ndim = magic[3];
  IPM_CHECK(ndim >= 1 && ndim <= 4, file.string() << ": IDX with " << ndim << " dimensions");
  std::vector<int64_t> dims;
  int64_t total = 1;
  for (int i = 0; i < ndim; ++i) {
    unsigned char b[4];
    read_exact(f.get(), b, 4, file);
    const int64_t d = (int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    IPM_CHECK(d > 0 && d < (int64_t{1} << 31), file.string() << ": bad dimension " << d);
    dims.push_back(d);
    total *= d;
  }
  IPM_CHECK(total < (int64_t{1} << 34), file.string() << ": IDX too large");
  torch::Tensor out = torch::empty(dims, torch::kUInt8);
  read_exact(f.get(), out.data_ptr(), static_cast<size_t>(total), file);
  unsigned char extra;
  IPM_CHECK(gzread(f.get(), &extra, 1) == 0, file.string() << ": trailing bytes after the data");
  return out;
}

}  // namespace ipm
