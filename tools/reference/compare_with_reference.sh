#!/usr/bin/env bash
# The foundation issue's end-to-end comparison, side by side: ipm-dist and the paper's Fig. 2
# PyTorch loop (ipm_reference.py), same recipe — Fashion-MNIST, one negative label per image,
# batch 256, Adam lr 1e-3, 10 epochs, 1 thread — for RQ and CE. ipm-dist runs
# examples/rq-vs-ce.toml while the Python loop runs beside it (2 cores: ~15-20 minutes).
#
#   tools/reference/compare_with_reference.sh [BUILD_DIR] [EPOCHS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
epochs=${2:-10}
work=$(mktemp -d)
idx=${IDX_DIR:-/usr/share/datasets/fashion-mnist}
"$build/tools/ipm-dist" pack idx "$idx" -o "$work/fm.h5" >/dev/null
sed -e "s|^file = .*|file = \"$work/fm.h5\"|" -e "s|^output = .*|output = \"$work/cpp\"|" \
    -e "s|^epochs = .*|epochs = $epochs|" "$src/examples/rq-vs-ce.toml" > "$work/suite.toml"
"$build/tools/ipm-dist" "$work/suite.toml" > "$work/cpp.log" &
cpp=$!
for loss in rq ce; do
  /usr/bin/python3 "$src/tools/reference/ipm_reference.py" --idx "$idx" --loss "$loss" --k 1 \
    --batch 256 --lr 1e-3 --epochs "$epochs" --threads 1 > "$work/py_$loss.jsonl"
done
wait "$cpp"
acc() { grep -o '"test_acc": [0-9.]*' "$1" | awk '{ a[NR] = $2; if ($2 > p) p = $2 } END { printf "%.4f %.4f", a[NR], p }'; }
printf "%-6s %-22s %-22s\n" loss "ipm-dist final/peak" "python final/peak"
for loss in rq ce; do
  printf "%-6s %-22s %-22s\n" "$loss" "$(acc "$work/cpp/jobs/loss=$loss/metrics.jsonl")" \
    "$(acc "$work/py_$loss.jsonl")"
done
echo "logs and metrics: $work"
