#include "common/process_tuning.h"

#include <malloc.h>

namespace ipm {

void tune_process_for_training() {
  // Blocks up to 1 GiB come from the heap (not mmap) and freed memory stays mapped.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, -1);  // never trim (negative: disabled; -1 as size_t max)
}

}  // namespace ipm
