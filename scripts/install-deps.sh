#!/usr/bin/env bash
# Installs everything ipm-dist needs to build, test and run on Debian 12 (as root, or with
# sudo). Idempotent: a machine that has it all only pays for one dpkg query.
set -euo pipefail
packages=(
  build-essential cmake pkg-config zlib1g-dev
  ccache                            # compiler cache: rebuilds on the same machine are cheap
  libtorch-dev                      # LibTorch 1.13 (CPU)
  libopenblas0-pthread              # the BLAS LibTorch calls: ~100x the reference libblas3
  libopenmpi-dev openmpi-bin        # MPI
  libhdf5-dev hdf5-tools            # data files
  libtomlplusplus-dev libcli11-dev   # suite files, command line
  libgtest-dev                      # unit tests
  dataset-fashion-mnist             # the real data of the examples and end-to-end tests
  gnuplot-nox                       # plots of `ipm-dist report`
  slurm-wlm munge                   # srun and sbatch; the tests start a real single-node Slurm
  python3-torch python3-numpy python3-h5py  # reference loop, fixtures, bad-input test files
  python3-sklearn                   # tools/make_digits_idx.py: its bundled digits (UCI optdigits)
  python3-pip                       # scripts/build-cuda.sh: PyPI's CUDA LibTorch (torch wheel)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
