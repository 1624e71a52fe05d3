// Every value of a split that training would trust, checked before anything trains: labels
// within 0..num_classes-1 and float images finite. Found mid-run, either costs the epochs
// before it (a label) or silently turns the run into NaN (an image).
// defines: ipm::check_split_values
#pragma once

#include "io/h5_split.h"

namespace ipm {

// Reads the split in chunks of rows (x only when stored as float32: uint8 is always finite)
// and throws ipm::Error naming the file, dataset and first bad row.
void check_split_values(const H5Split& split);

}  // namespace ipm
