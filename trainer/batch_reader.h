// Hands the driver each step's batch (this rank's units of one global batch, read and
// converted by the task: trainer/task.h TaskRun::load) and counts what that cost: the time
// the training thread waited and the bytes read from the data file.
// defines: ipm::BatchReader, ipm::thread_read_bytes
//
// With prefetch > 0 one background thread reads up to `prefetch` batches ahead through a
// bounded queue while the steps compute; with 0 each batch is read when asked for, in the
// caller's thread. Only one thread reads at a time (the reader, or the caller when there is
// none), so an HDF5 built without thread safety is safe as long as the caller reads
// nothing else from HDF5 while a BatchReader lives (the driver evaluates after destroying
// it). A read error (any exception of load) is kept and rethrown by next() for that step,
// naming the file and the rows: the job fails with it, no hang. The destructor stops the
// thread after the batch it is reading (within a step) and joins it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "trainer/task.h"

namespace ipm {

// Bytes this thread has read through read()/pread() since it started (Linux
// /proc/thread-self/io rchar: page-cache hits included), up to this call; -1 where that is
// unavailable. The call reads that file too: `own` gets the bytes it read, which the next
// call will count.
int64_t thread_read_bytes(int64_t* own = nullptr);

class BatchReader {
 public:
  // Step s's units: `units_of(s)`; its batch: `load(units)`. Steps [start, end).
  using UnitsOf = std::function<std::vector<int64_t>(int64_t step)>;
  using Load = std::function<Batch(int64_t step, const std::vector<int64_t>& units)>;
  // `unit_name` ("rows", "pairs") names the units in error messages.
  BatchReader(UnitsOf units_of, Load load, int64_t start, int64_t end, int64_t prefetch,
              const char* unit_name);
  ~BatchReader();
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // The next step's batch; rethrows the reader's error for that step.
  Batch next();

  double wait_s() const { return wait_s_; }  // the caller's total wait in next()
  // Bytes read from files by load so far (either thread); 0 where not measurable.
  int64_t bytes() const;

 private:
  // Reads step s's batch, adding to bytes_; throws with the step and rows named.
  Batch read_step(int64_t s);
  void run();  // the background thread

  UnitsOf units_of_;
  Load load_;
  int64_t next_step_, end_, prefetch_;
  const char* unit_name_;
  int threads_;  // the caller's intra-op threads, for the reader's conversions
  double wait_s_ = 0.0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;           // read, not yet taken
  std::exception_ptr error_;          // the reader's error, after the batches before it
  bool stop_ = false;
  int64_t bytes_ = 0;
  std::thread thread_;
};

}  // namespace ipm
