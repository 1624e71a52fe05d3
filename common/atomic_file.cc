#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/error.h"

namespace ipm {
namespace {

void fsync_path(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  IPM_CHECK(fd >= 0, "cannot open " << p.string() << " to sync: " << std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  IPM_CHECK(rc == 0, "cannot sync " << p.string() << ": " << std::strerror(errno));
}

}  // namespace

AtomicPath::AtomicPath(std::filesystem::path target) : target_(std::move(target)) {
  tmp_ = target_;
  tmp_ += ".tmp." + std::to_string(::getpid());
}

AtomicPath::~AtomicPath() {
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
}

void AtomicPath::commit() {
  fsync_path(tmp_);
  std::error_code ec;
  std::filesystem::rename(tmp_, target_, ec);
  IPM_CHECK(!ec, "cannot rename " << tmp_.string() << " to " << target_.string() << ": "
                                  << ec.message());
  committed_ = true;
}

void write_file_atomic(const std::filesystem::path& path, const std::string& contents) {
  AtomicPath out(path);
  {
    std::ofstream f(out.tmp(), std::ios::binary | std::ios::trunc);
    IPM_CHECK(f, "cannot write " << out.tmp().string() << ": " << std::strerror(errno));
    f << contents;
    f.flush();
    IPM_CHECK(f, "cannot write " << out.tmp().string() << ": " << std::strerror(errno));
  }
  out.commit();
}

}  // namespace ipm
