#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

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

// A new, empty file beside `target` that no other writer has: "<target>.tmp.<pid>.<random>",
// created with O_EXCL. The PID alone is not unique: ranks on different nodes of a shared
// file system (and containers) often have equal PIDs, and one process may write one target
// from two threads. Like mkstemp, but with mode 0666 & ~umask, so the renamed file gets the
// permissions a plain write would give it (mkstemp's 0600 would hide results from a group).
std::filesystem::path create_unique_tmp(const std::filesystem::path& target) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<uint64_t>(::getpid()) << 32)};
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[40];
    std::snprintf(suffix, sizeof(suffix), ".tmp.%ld.%012llx", static_cast<long>(::getpid()),
                  static_cast<unsigned long long>((rng() ^ counter++) & 0xffffffffffffULL));
    std::filesystem::path tmp = target;
    tmp += suffix;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      ::close(fd);
      return tmp;
    }
    IPM_CHECK(errno == EEXIST,
              "cannot create " << tmp.string() << ": " << std::strerror(errno));
  }
  throw Error("cannot create a unique temporary file beside " + target.string());
}

}  // namespace

AtomicPath::AtomicPath(std::filesystem::path target)
    : target_(std::move(target)), tmp_(create_unique_tmp(target_)) {}

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
