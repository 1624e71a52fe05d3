#!/usr/bin/env bash
# The second build: ipm-dist against PyPI's CUDA-enabled LibTorch, with the NCCL backend
# (-DIPM_WITH_NCCL=ON), into BUILD_DIR (default: build-cuda/). No GPU is needed to build.
#
# LibTorch comes from the torch wheel, installed once into IPM_TORCH_PREFIX (default
# /opt/ipm-torch-cuda; a stamp file makes reruns free) with --no-deps plus exactly the NVIDIA
# runtime wheels LibTorch links against: ~2.5 GB instead of the full ~2.8 GB dependency set
# (no triton, no Python packages: LibTorch needs none of them). The CUDA toolkit for
# compiling is CUDA_HOME (default /usr/local/cuda, major version 13 like the wheel's).
# Pass extra CMake arguments after the script's name. CMAKE_PREFIX_PATH is the wheel's torch/
# directory itself, not torch.utils.cmake_prefix_path (its share/cmake): only then do the
# wheel's Caffe2Config and libtorch.so win over a system LibTorch (Debian's libtorch-dev).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build-cuda}
prefix=${IPM_TORCH_PREFIX:-/opt/ipm-torch-cuda}
cuda_home=${CUDA_HOME:-/usr/local/cuda}
# Any Python with pip (Debian's python3-pip, from scripts/install-deps.sh, by default): only
# LibTorch's C++ files are used, never the Python package.
python=${IPM_PIP_PYTHON:-/usr/bin/python3}

# torch 2.15.0 (CUDA 13.2) and the versions of its NVIDIA dependencies, from
# `pip install --dry-run --report - torch==2.15.0`. Change them together.
wheels=(
  torch==2.15.0
  nvidia-cuda-runtime==13.2.86 nvidia-cuda-nvrtc==13.2.86 nvidia-cuda-cupti==13.2.86
  nvidia-nvtx==13.2.86 nvidia-nvjitlink==13.5.37 nvidia-cublas==13.4.1.3
  nvidia-cufft==12.2.0.57 nvidia-cufile==1.17.1.22 nvidia-cusolver==12.2.0.11
  nvidia-cusparse==12.7.10.12 nvidia-cusparselt-cu13==0.8.1 nvidia-cudnn-cu13==9.26.0.51
  nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.7.2
)
stamp="$prefix/.ipm-installed"
if [ "$(cat "$stamp" 2>/dev/null)" != "${wheels[*]}" ]; then
  echo "build-cuda: installing ${wheels[0]} (+ NVIDIA runtime wheels) into $prefix"
  rm -rf "$prefix.tmp"
  "$python" -m pip install --quiet --no-deps --no-compile --target "$prefix.tmp" "${wheels[@]}"
  echo "${wheels[*]}" > "$prefix.tmp/.ipm-installed"
  rm -rf "$prefix" && mv "$prefix.tmp" "$prefix"  # a half-finished install is never used
fi

[ -x "$cuda_home/bin/nvcc" ] || {
  echo "build-cuda: no CUDA toolkit at $cuda_home (set CUDA_HOME; CUDA 13 like the wheel)" >&2
  exit 1
}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix/torch" \
  -DCUDAToolkit_ROOT="$cuda_home" -DCMAKE_CUDA_COMPILER="$cuda_home/bin/nvcc" \
  -DIPM_WITH_NCCL=ON "$@"
cmake --build "$build" -j "$(nproc)"
