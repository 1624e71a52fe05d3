#!/usr/bin/env bash
# Rewrites docs/keys.md from the key table (`ipm-dist keys`); run after changing a key in
# jobs/config_schema.cc. tests/e2e/keys_doc_test.sh fails while the page is stale.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"${IPM:-${BUILD_DIR:-$src/build}/tools/ipm-dist}" keys > "$src/docs/keys.md"
echo "wrote $src/docs/keys.md"
