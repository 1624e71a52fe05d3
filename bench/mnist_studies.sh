#!/usr/bin/env bash
# The paper's MNIST studies (docs/mnist.md) with fewer epochs and seeds than the paper's
# 300 epochs x 10 seeds, which this machine cannot afford: the example suites copied with
# train.epochs and train.seed replaced, run, and summarized (`ipm-dist report`: summary.md
# and the plot). Needs data/mnist.h5 (scripts/get-mnist.sh).
#
#   bench/mnist_studies.sh STUDY [EPOCHS] [SEEDS] [BUILD_DIR]     SEEDS: "0 1 2" by default
#
#   fig3       examples/mnist-fig3.toml: k 1,3,5,7,9 x ce,nll,qr,rq, batch 256
#   batch      examples/mnist-batch-local.toml (RQ, NLL at batch 256..2, 1 rank, local) and
#              examples/mnist-batch-ema.toml (RQ, batch 32, 8, 2, 1 rank, ema)
#   scaled     Table B.1 at a budget this machine affords: each batch B of BATCHES (default
#              256 64 32 8 2) gets its own copy of mnist-batch-local (RQ, NLL) and, for B <= 32,
#              mnist-batch-ema (RQ), at Adam lr LR*sqrt(B/256) (LR default 1e-3: Adam's
#              square-root scaling rule; one lr for all batches collapses batch 2, see
#              docs/mnist.md). Prints final/peak test accuracy per job and per epoch.
#              ONLY=ema (or local) runs that suite alone. Mean +- std over seeds:
#              WORK/<suite>-b<B>/summary.md.
#   global     examples/mnist-batch-global.toml under mpirun -np 4 (RANKS=4 to change)
#   ranking    examples/mnist-ranking.toml: RQ, QR from 30,000 ranked pairs
#   fast       examples/mnist-rq-fast.toml: RQ, k = 1, Adam lr 1e-3 (the paper: 1e-4); prints
#              test accuracy per epoch
#   reference  RQ and CE at k = 1, batch 256 and 32, ipm-dist and tools/reference/ipm_reference.py
#              (the paper's Fig. 2 loop) on the same data/mnist.h5, side by side
# DRY_RUN=1 only lists each suite's jobs (ipm-dist run --dry-run) and trains nothing.
# BATCHES="256 8 2" and LOSSES="rq" replace a suite's "train.batch" / "train.loss" sweep (where
# it has one), to run a few rows of Table B.1 when all of them do not fit. LR=1e-3 replaces
# train.lr (the paper's 1e-4 needs ~300 epochs; 1e-3 converges at batch 256 in ~10), and
# NORMALIZERS="global" the global study's "train.normalizer" sweep; EMA_SAMPLES=256 and
# EMA_DECAY=0.999 set train.ema_samples / train.ema_decay (examples/mnist-batch-ema.toml: 256,
# 0.999; the key defaults: 16, 0.99).
# Results go to ${WORK:-runs/mnist-studies}/<suite>/ (a rerun resumes: finished jobs stay).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
usage="bench/mnist_studies.sh fig3|batch|scaled|global|ranking|fast|reference [EPOCHS] [SEEDS] [BUILD_DIR]"
study=${1:?usage: $usage}
epochs=${2:-5}
seeds=${3:-0 1 2}
build=${4:-$here/build}
ipm=$build/tools/ipm-dist
data=${MNIST_H5:-$here/data/mnist.h5}
work=$(realpath -m "${WORK:-$here/runs/mnist-studies}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -s "$data" ] || { echo "mnist_studies: $data missing: run scripts/get-mnist.sh" >&2; exit 1; }
mkdir -p "$work"
dry=${DRY_RUN:+--dry-run}

# "a b c" -> a, b, c (a TOML array's body); QUOTE=1 quotes each item.
list() { echo "$1" | tr -s ' ' '\n' | sed '/^$/d' | sed "${QUOTE:+s/.*/\"&\"/}" | paste -sd, | sed 's/,/, /g'; }

# suite EXAMPLE NAME [sed expressions...]: examples/EXAMPLE.toml as WORK/NAME.toml, writing
# to WORK/NAME, with our data, epochs, seeds, and BATCHES / LOSSES when given.
suite() {
  local example=$1 name=$2 over=()
  shift 2
  [ -z "${BATCHES:-}" ] || over+=(-e "s|^\"train.batch\" = .*|\"train.batch\" = [$(list "$BATCHES")]|")
  [ -z "${NORMALIZERS:-}" ] ||
    over+=(-e "s|^\"train.normalizer\" = .*|\"train.normalizer\" = [$(QUOTE=1 list "$NORMALIZERS")]|")
  [ -z "${EMA_SAMPLES:-}" ] ||
    over+=(-e "/^ema_samples = /d" -e "/^normalizer = /a ema_samples = $EMA_SAMPLES")
  [ -z "${EMA_DECAY:-}" ] || over+=(-e "/^ema_decay = /d" -e "/^normalizer = /a ema_decay = $EMA_DECAY")
  [ -z "${LR:-}" ] || over+=(-e "s|^lr = [^ ]*|lr = $LR|")
  [ -z "${LOSSES:-}" ] || over+=(-e "s|^\"train.loss\" = .*|\"train.loss\" = [$(QUOTE=1 list "$LOSSES")]|")
  sed -e "s|^file = .*|file = \"$data\"|" -e "s|^output = .*|output = \"$work/$name\"|" \
      -e "s|^name = .*|name = \"$name\"|" \
      -e "s|^epochs = .*|epochs = $epochs|" \
      -e "s|^\"train.seed\" = .*|\"train.seed\" = [$(list "$seeds")]|" \
      "${over[@]}" "$@" "$here/examples/$example.toml" > "$work/$name.toml"
  echo "$work/$name.toml"
}

# Final and peak test accuracy of the last line of each metrics.jsonl under DIR.
table() {
  local m
  shopt -s nullglob
  for m in "$1"/jobs/*/metrics.jsonl; do
    printf "%-40s %s\n" "$(basename "$(dirname "$m")")" \
      "$(tail -n 1 "$m" | grep -o '"\(test_acc\|peak_test_acc\)": [0-9.]*' | tr '\n' ' ')"
  done
}

# Test accuracy per epoch of each job under DIR.
curves() {
  local m
  shopt -s nullglob
  for m in "$1"/jobs/*/metrics.jsonl; do
    echo "test accuracy per epoch ($(basename "$(dirname "$m")")):"
    grep -o '"test_acc": [0-9.]*' "$m" | awk '{ printf "%.4f ", $2 } END { print "" }'
  done
}

case $study in
  fig3 | ranking)
    f=$(suite "mnist-$study" "mnist-$study")
    "$ipm" run $dry "$f"
    [ -n "$dry" ] || "$ipm" report "$work/mnist-$study" > /dev/null
    table "$work/mnist-$study" ;;
  fast)
    f=$(suite mnist-rq-fast mnist-rq-fast)
    "$ipm" run $dry "$f"
    table "$work/mnist-rq-fast"
    [ -n "$dry" ] || curves "$work/mnist-rq-fast" ;;
  batch)
    for s in mnist-batch-local mnist-batch-ema; do
      f=$(suite "$s" "$s")
      "$ipm" run $dry "$f"
      table "$work/$s"
    done ;;
  scaled)
    for b in ${BATCHES:-256 64 32 8 2}; do
      lr=$(awk -v l="${LR:-1e-3}" -v b="$b" 'BEGIN { printf "%.3g", l * sqrt(b / 256) }')
      for s in mnist-batch-local mnist-batch-ema; do
        [ "$s" = mnist-batch-ema ] && [ "$b" -gt 32 ] && continue
        [ -z "${ONLY:-}" ] || [ "$s" = "mnist-batch-$ONLY" ] || continue
        f=$(BATCHES=$b LR=$lr suite "$s" "$s-b$b")
        "$ipm" run $dry "$f"
        [ -n "$dry" ] && continue
        "$ipm" report "$work/$s-b$b" > /dev/null   # mean +- std over seeds: summary.md
        table "$work/$s-b$b"
        curves "$work/$s-b$b"
      done
    done ;;
  global)
    f=$(suite mnist-batch-global mnist-batch-global \
              -e "s|^ranks_per_job = [0-9]*|ranks_per_job = ${RANKS:-4}|")
    mpirun --oversubscribe -np "${RANKS:-4}" "$ipm" run $dry "$f"
    table "$work/mnist-batch-global" ;;
  reference)
    sweep='"train.loss" = ["ce", "rq"]\n"train.batch" = [256, 32]'
    f=$(suite mnist-fig3 mnist-reference -e 's|^"prior.k" = .*|"prior.k" = [1]|' \
                                         -e "s|^\"train.loss\" = .*|$sweep|")
    "$ipm" run $dry "$f"
    [ -z "$dry" ] || exit 0
    for seed in $seeds; do
      for loss in rq ce; do
        for batch in 256 32; do
          out=$work/mnist-reference/python_loss=${loss}_batch=${batch}_seed=$seed.jsonl
          [ -s "$out" ] && [ "$(wc -l < "$out")" -ge "$epochs" ] && continue
          /usr/bin/python3 "$here/tools/reference/ipm_reference.py" --h5 "$data" --loss "$loss" \
            --k 1 --batch "$batch" --lr 1e-4 --epochs "$epochs" --seed "$seed" --threads 1 \
            --no-train-acc > "$out"
        done
      done
    done
    echo "ipm-dist:"
    table "$work/mnist-reference"
    echo "python reference loop:"
    for out in "$work"/mnist-reference/python_*.jsonl; do
      printf "%-40s %s\n" "$(basename "$out" .jsonl)" \
        "$(tail -n 1 "$out" | grep -o '"\(test_acc\|peak_test_acc\)": [0-9.]*' | tr '\n' ' ')"
    done ;;
  *) echo "mnist_studies: unknown study '$study' (fig3, batch, scaled, global, ranking, fast, reference)" >&2
     exit 2 ;;
esac
