# IPM_WITH_NCCL: the NCCL communicator (dist/nccl_communicator.cc) for GPU clusters.
#   AUTO (default): on when LibTorch has CUDA (torch_cuda), the CUDA toolkit and NCCL are found;
#   ON: the same, and configuring fails with the reason when one is missing;
#   OFF: never (an MPI-only build; run.backend = "nccl" then fails at start-up).
# Sets IPM_NCCL_ENABLED and the target ipm_nccl (INTERFACE: NCCL's headers and library).
# Included after find_package(Torch).
set(IPM_WITH_NCCL AUTO CACHE STRING "NCCL backend: AUTO, ON or OFF")
set_property(CACHE IPM_WITH_NCCL PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${IPM_WITH_NCCL}" _ipm_nccl_mode)
if(NOT _ipm_nccl_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "IPM_WITH_NCCL = ${IPM_WITH_NCCL}: expected AUTO, ON or OFF")
endif()

# A CUDA LibTorch defines the imported target torch_cuda (PyPI's wheel, a CUDA libtorch zip);
# Debian's libtorch-dev is CPU only.
if(TARGET torch_cuda)
  set(IPM_TORCH_HAS_CUDA 1)
else()
  set(IPM_TORCH_HAS_CUDA 0)
endif()

set(IPM_NCCL_ENABLED OFF)
set(_ipm_nccl_missing "")
if(NOT _ipm_nccl_mode STREQUAL "OFF")
  if(NOT IPM_TORCH_HAS_CUDA)
    string(CONCAT _ipm_nccl_missing "LibTorch at ${TORCH_INSTALL_PREFIX} has no CUDA (no "
           "torch_cuda target); point CMAKE_PREFIX_PATH at a CUDA LibTorch, e.g. PyPI's torch "
           "wheel: scripts/build-cuda.sh")
  else()
    find_package(CUDAToolkit QUIET)  # found already by a CUDA LibTorch's Caffe2Config
    # Prefer the NCCL that ships beside the wheel (the one LibTorch itself was linked with),
    # then NCCL_ROOT, then the CUDA toolkit's.
    get_filename_component(_ipm_site "${TORCH_INSTALL_PREFIX}/.." ABSOLUTE)
    set(_ipm_nccl_hints "${_ipm_site}/nvidia/nccl" "${NCCL_ROOT}" "$ENV{NCCL_ROOT}"
                        "${CUDAToolkit_LIBRARY_ROOT}" "${CUDAToolkit_TARGET_DIR}")
    find_path(IPM_NCCL_INCLUDE_DIR nccl.h HINTS ${_ipm_nccl_hints} PATH_SUFFIXES include)
    # NAMES_PER_DIR: the wheel ships only libnccl.so.2 (no libnccl.so); its directory wins.
    find_library(IPM_NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
                 HINTS ${_ipm_nccl_hints} PATH_SUFFIXES lib lib64)
    if(NOT CUDAToolkit_FOUND)
      set(_ipm_nccl_missing "no CUDA toolkit found (set CUDAToolkit_ROOT, e.g. /usr/local/cuda)")
    elseif(NOT IPM_NCCL_INCLUDE_DIR OR NOT IPM_NCCL_LIBRARY)
      string(CONCAT _ipm_nccl_missing "NCCL not found (nccl.h: ${IPM_NCCL_INCLUDE_DIR}, "
             "libnccl: ${IPM_NCCL_LIBRARY}); set NCCL_ROOT")
    else()
      set(IPM_NCCL_ENABLED ON)
    endif()
  endif()
endif()

if(IPM_NCCL_ENABLED)
  add_library(ipm_nccl INTERFACE)
  target_include_directories(ipm_nccl SYSTEM INTERFACE ${IPM_NCCL_INCLUDE_DIR})
  target_link_libraries(ipm_nccl INTERFACE ${IPM_NCCL_LIBRARY} CUDA::cudart)
  message(STATUS "IPM_WITH_NCCL=${IPM_WITH_NCCL}: NCCL backend on (${IPM_NCCL_LIBRARY}, "
                 "CUDA ${CUDAToolkit_VERSION})")
elseif(_ipm_nccl_mode STREQUAL "ON")
  message(FATAL_ERROR "IPM_WITH_NCCL=ON but ${_ipm_nccl_missing}")
elseif(_ipm_nccl_mode STREQUAL "AUTO")
  message(STATUS "IPM_WITH_NCCL=AUTO: NCCL backend off (${_ipm_nccl_missing})")
endif()
