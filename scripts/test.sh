#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test (unit and end to end).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/install-deps.sh"
"$src/scripts/build.sh"
cd "${BUILD_DIR:-$src/build}"
ctest --output-on-failure --timeout 900 "$@"
