#!/usr/bin/env bash
# The main job: installs dependencies, builds, packs the real Fashion-MNIST and runs
# examples/quickstart.toml (four losses x k = 1, 5, 9 negative labels) on 2 MPI ranks (two
# groups of one rank taking jobs as they free up), printing progress, the summary table and
# where the plot is.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/install-deps.sh"
"$src/scripts/build.sh"
ipm="${BUILD_DIR:-$src/build}/tools/ipm-dist"
data="$src/data/fashion-mnist.h5"
if [ ! -s "$data" ]; then
  mkdir -p "$src/data"
  "$ipm" pack idx /usr/share/datasets/fashion-mnist -o "$data" --class-names T-shirt/top \
    Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot"
fi
ranks=${RANKS:-2}
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe -np "$ranks" "$ipm" run "$src/examples/quickstart.toml"
# The run ends by printing the summary table (also in runs/quickstart/summary.md); to
# rebuild it later: build/tools/ipm-dist report runs/quickstart
