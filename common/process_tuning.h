// Process-wide settings that training throughput depends on.
// defines: ipm::tune_process_for_training
#pragma once

namespace ipm {

// glibc returns large freed blocks (activations, gradients: megabytes each) to the kernel
// and page-faults them back on the next step; measured here, that was a third of a
// training step's time (sys time ~40%). Keeping freed memory in the heap removes it.
// Call once at start-up, before large allocations.
void tune_process_for_training();

}  // namespace ipm
