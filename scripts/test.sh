#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test (unit and end to end).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/install-deps.sh"
"$src/scripts/build.sh"
cd "${BUILD_DIR:-$src/build}"
# One test per core: most tests are one single-threaded process (the multi-rank ones
# oversubscribe anyway), so this halves the wall time on the 2-core CI machine.
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
