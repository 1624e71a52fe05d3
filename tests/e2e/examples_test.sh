#!/usr/bin/env bash
# Every example suite that trains on 28x28 digits or clothes (data/fashion-mnist.h5 or
# data/mnist.h5: the same layout, 10 classes) is valid: with the Fashion-MNIST fixture in
# place of its data file, `ipm-dist run --dry-run` accepts it and lists one job per point of
# its [sweep] (the product of the list lengths). A key misspelled or a value out of range in
# an example fails here, where users would meet it first.
source "$(dirname "$0")/lib.sh"
d=$(test_dir examples)
checked=0
for example in "$IPM_SRC"/examples/*.toml; do
  grep -Eq '^file = "\.\./data/(fashion-)?mnist\.h5"' "$example" || continue
  name=$(basename "$example" .toml)
  sed -e "s|^file = .*|file = \"$FM_H5\"|" -e "s|^output = .*|output = \"$d/$name\"|" \
    "$example" > "$d/$name.toml"
  # Jobs expected: the product of the [sweep] lists' lengths (1 without a sweep).
  expected=$(awk '/^\[sweep\]/ { s = 1; next } /^\[/ { s = 0 }
                  s && /^"[^"]+" = \[/ { n = split($0, a, ","); p *= n }
                  BEGIN { p = 1 } END { print p }' "$example")
  out=$("$IPM" run --dry-run "$d/$name.toml" 2>&1) || fail "$name: dry run failed: $out"
  jobs=$(echo "$out" | grep -c '^todo' || true)
  [ "$jobs" -eq "$expected" ] || fail "$name: $jobs jobs listed, its [sweep] makes $expected"
  pass "$name: $jobs jobs"
  checked=$((checked + 1))
done
[ "$checked" -ge 10 ] || fail "only $checked example suites on 28x28 data found; examples/ has 12"
pass "$checked example suites accepted"
