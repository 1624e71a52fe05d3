#!/usr/bin/env bash
# Training does not depend on how many ranks it runs on: with the global normalizer, the same
# seed and global batch, 1, 2 and 4 ranks end with the same parameters after 192 steps
# (float64, so round-off cannot hide a wrong gradient: measured differences ~1e-13). The
# local normalizer (each rank normalizing over its own slice, the paper's Fig. 2 per rank)
# gives a different model on 2 ranks: the test shows the difference is real.
# IPM_BACKEND sets run.backend (default auto); on a GPU node with 4 GPUs and the CUDA build,
# IPM_BACKEND=nccl runs the same check over NCCL (docs/gpu-clusters.md).
source "$(dirname "$0")/lib.sh"
d=$(test_dir dist_invariance)
cd "$d"
small_h5 small.h5 960 500
suite() {  # name ranks normalizer
  {
    echo "name = \"$1\""
    echo "output = \"runs/$1\""
    echo "[data]"; echo "file = \"small.h5\""
    echo "[train]"; echo "loss = \"rq\""; echo "lr = 1e-3"; echo "batch = 30"; echo "epochs = 6"
    echo "normalizer = \"$3\""; echo "precision = \"float64\""; echo "train_eval = \"running\""
    echo "[run]"; echo "ranks_per_job = $2"; echo "backend = \"${IPM_BACKEND:-auto}\""
  } > "$1.toml"
}
suite one 1 global
suite two 2 global
suite four 4 global
suite two_local 2 local
"$IPM" one.toml > one.log
"${MPIRUN[@]}" -np 2 "$IPM" two.toml > two.log
"${MPIRUN[@]}" -np 4 "$IPM" four.toml > four.log
"${MPIRUN[@]}" -np 2 "$IPM" two_local.toml > two_local.log
ck() { echo "runs/$1/jobs/$1/checkpoint.pt"; }
"$IPM_CKPT_DIFF" "$(ck one)" "$(ck two)" 1e-4 || fail "2 ranks trained another model than 1"
"$IPM_CKPT_DIFF" "$(ck one)" "$(ck four)" 1e-4 || fail "4 ranks trained another model than 1"
if "$IPM_CKPT_DIFF" "$(ck one)" "$(ck two_local)" 1e-3; then
  fail "the local normalizer on 2 ranks should train a different model"
fi
# The metrics agree too: accuracies exactly, loss and parameter norm to round-off.
for n in two four; do
  paste -d' ' <(grep -o '"test_acc": [0-9.e-]*' "runs/one/jobs/one/metrics.jsonl") \
              <(grep -o '"test_acc": [0-9.e-]*' "runs/$n/jobs/$n/metrics.jsonl") |
    awk '$2 != $4 { print "test_acc differs: " $0; bad = 1 } END { exit bad }' ||
    fail "$n: test accuracy differs from 1 rank"
  paste -d' ' <(grep -o '"param_norm": [0-9.e-]*' "runs/one/jobs/one/metrics.jsonl") \
              <(grep -o '"param_norm": [0-9.e-]*' "runs/$n/jobs/$n/metrics.jsonl") |
    awk '{ d = $2 - $4; if (d < 0) d = -d; if (d > 1e-9 * $2) { print "param_norm: " $0; bad = 1 } } END { exit bad }' ||
    fail "$n: parameter norm differs from 1 rank"
done
pass "1, 2 and 4 ranks train the same model; local normalization on 2 ranks does not"
