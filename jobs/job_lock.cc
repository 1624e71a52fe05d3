#include "jobs/job_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace ipm {

std::unique_ptr<JobLock> JobLock::try_acquire(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  IPM_CHECK(fd >= 0, file.string() << ": cannot open the job's lock file: " << std::strerror(errno));
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return std::unique_ptr<JobLock>(new JobLock(fd));
  const int err = errno;
  ::close(fd);
  IPM_CHECK(err == EWOULDBLOCK, file.string() << ": cannot lock: " << std::strerror(err));
  return nullptr;
}

JobLock::~JobLock() { ::close(fd_); }  // closing the last descriptor releases the flock

bool job_locked(const std::filesystem::path& dir) {
  const int fd = ::open((dir / "lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // (a shared lock taken here goes with the descriptor)
  return held;
}

}  // namespace ipm
