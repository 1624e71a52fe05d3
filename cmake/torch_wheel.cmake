# LibTorch from PyPI's torch wheel finds its CUDA libraries (cuBLAS, cuDNN, NCCL, ...) through
# DT_RPATH entries $ORIGIN/../../nvidia/<lib>/lib, i.e. in the NVIDIA wheels installed beside
# it. The dynamic loader expands $ORIGIN, the linker does not: without help it checks
# libtorch_cuda.so against whatever libnccl.so.2 it finds first (a CUDA toolkit's in
# ld.so.conf, possibly older), and the link fails. -rpath-link points it at the wheel's ones,
# the libraries the loader will use; -rpath puts them first in our binaries' run path too, so
# that libcudart.so.13 is the wheel's (the CUDA version LibTorch was built with) rather than
# the compiling toolkit's. Included after find_package(Torch); no-op otherwise.
get_filename_component(_ipm_wheel_nvidia "${TORCH_INSTALL_PREFIX}/../nvidia" ABSOLUTE)
if(TORCH_INSTALL_PREFIX AND IS_DIRECTORY "${_ipm_wheel_nvidia}")
  file(GLOB _ipm_wheel_lib_dirs LIST_DIRECTORIES true "${_ipm_wheel_nvidia}/*/lib")
  string(REPLACE ";" ":" _ipm_wheel_rpath_link "${_ipm_wheel_lib_dirs}")
  add_link_options("LINKER:-rpath-link,${_ipm_wheel_rpath_link}"
                   "LINKER:-rpath,${_ipm_wheel_rpath_link}")
  message(STATUS "LibTorch from a wheel: its NVIDIA libraries in ${_ipm_wheel_nvidia}")
endif()
