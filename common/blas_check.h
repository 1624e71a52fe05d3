// Which BLAS the process's sgemm comes from. LibTorch on Debian calls the system BLAS
// (libblas.so.3, chosen by update-alternatives): the reference BLAS does a 512x512 float
// matrix product at 1.4-4 GFLOP/s, OpenBLAS (libopenblas0-pthread) at 100-150 on one
// thread of the same machines, so a training step is many times slower with the former.
// defines: ipm::sgemm_library, ipm::is_reference_blas
#pragma once

#include <string>

namespace ipm {

// The file (symlinks resolved) that defines sgemm_ in this process, or "" if none is loaded.
std::string sgemm_library();

// Whether that file is Debian's reference BLAS (/usr/lib/<arch>/blas/libblas.so.3).
bool is_reference_blas(const std::string& library);

}  // namespace ipm
