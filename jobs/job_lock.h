// Several launchers (mpirun, the tasks of a Slurm job array) may share one suite output: a
// job is locked while it trains, so each is trained by one launcher at a time.
// defines: ipm::JobLock, ipm::job_locked
//
// The lock is flock(2) on OUTPUT/jobs/<job>/lock: advisory, held by an open file, released
// by the kernel when the process ends however it ends (kill -9 included), so no stale lock
// is ever left to clean up. On NFS, Linux clients map flock to NLM byte-range locks, which
// other nodes see. Only the group's rank 0 takes it.
#pragma once

#include <filesystem>
#include <memory>

namespace ipm {

class JobLock {
 public:
  // Creates dir/lock if missing and takes it without waiting; nullptr when another process
  // holds it. Throws ipm::Error naming the file when it cannot be opened.
  static std::unique_ptr<JobLock> try_acquire(const std::filesystem::path& dir);
  ~JobLock();  // releases the lock
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;

 private:
  explicit JobLock(int fd) : fd_(fd) {}
  int fd_;
};

// Whether another process holds dir/lock right now (creates nothing): for --dry-run.
bool job_locked(const std::filesystem::path& dir);

}  // namespace ipm
