#include "common/process_tuning.h"

#include <malloc.h>

namespace ipm {

void tune_process_for_training() {
  // Blocks up to 1 GiB come from the heap (not mmap) and freed memory stays mapped.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, -1);  // never trim (negative: disabled; -1 as size_t max)
  // One arena: the batch reader thread (trainer/batch_reader.h) allocates batches that the
  // training thread frees; with an arena of its own, untrimmed, that arena grew with the
  // epoch (measured: +100 MiB peak RSS over 700 steps of Fashion-MNIST x3, none with one).
  mallopt(M_ARENA_MAX, 1);
}

}  // namespace ipm
