#!/usr/bin/env bash
# The data path read from the file (preload = "never"): with the chunk-aware order
# (data.order = "chunked", windows of 1 chunk) and the reader thread, 1, 2 and 4 ranks train
# the same model in float64 with the global normalizer; a job stopped mid-epoch resumes to
# the metrics and parameters of an uninterrupted run, bit for bit; a read that fails
# (IPM_TEST_FAIL_READ_AT_STEP, as a corrupt chunk would) takes the job down on 1 and 2 ranks
# with one line naming the file, the step and the rows, non-zero, without a hang.
source "$(dirname "$0")/lib.sh"
d=$(test_dir data_path)
cd "$d"
small_h5 small.h5 960 300   # 3 chunks of 334 rows (256 KiB of 28x28 images)
suite() {  # name ranks [more TOML lines]
  local name=$1 ranks=$2
  shift 2
  {
    echo "name = \"$name\""
    echo "output = \"runs/$name\""
    echo "[data]"; echo "file = \"small.h5\""; echo "preload = \"never\""
    echo "order = \"chunked\""; echo "shuffle_window = 1"; echo "prefetch = 2"
    echo "[train]"; echo "loss = \"rq\""; echo "lr = 1e-3"; echo "batch = 30"; echo "epochs = 3"
    echo 'normalizer = "global"'; echo 'precision = "float64"'; echo 'train_eval = "running"'
    echo "[run]"; echo "ranks_per_job = $ranks"
    for line in "$@"; do echo "$line"; done
  } > "$name.toml"
}
ck() { echo "runs/$1/jobs/$1/checkpoint.pt"; }

# 1. Rank-count invariance with the chunked order.
suite one 1
suite two 2
suite four 4
"$IPM" one.toml > one.log 2>&1 || fail "one: $(tail -n 5 one.log)"
"${MPIRUN[@]}" -np 2 "$IPM" two.toml > two.log 2>&1 || fail "two: $(tail -n 5 two.log)"
"${MPIRUN[@]}" -np 4 "$IPM" four.toml > four.log 2>&1 || fail "four: $(tail -n 5 four.log)"
"$IPM_CKPT_DIFF" "$(ck one)" "$(ck two)" 1e-4 || fail "chunked: 2 ranks trained another model than 1"
"$IPM_CKPT_DIFF" "$(ck one)" "$(ck four)" 1e-4 || fail "chunked: 4 ranks trained another model than 1"
grep -q '"read_bytes": [1-9]' "runs/one/jobs/one/metrics.jsonl" ||
  fail "read_bytes is 0 though the split is read from the file: $(head -n 1 runs/one/jobs/one/metrics.jsonl)"
grep -q '"read_wait_s": ' "runs/one/jobs/one/metrics.jsonl" || fail "no read_wait_s in metrics.jsonl"
pass "chunked order from the file: 1, 2 and 4 ranks train the same model"

# 2. Mid-epoch stop (step 40 = step 8 of epoch 2 of 32 steps) and resume on 2 ranks.
suite stopped 2
rc=0
"${MPIRUN[@]}" -np 2 -x IPM_TEST_STOP_AT_STEP=40 "$IPM" stopped.toml > stop1.log 2>&1 || rc=$?
[ "$rc" -eq 75 ] || fail "stopped run exited $rc, not 75: $(tail -n 5 stop1.log)"
"${MPIRUN[@]}" -np 2 "$IPM" stopped.toml > stop2.log 2>&1 || fail "resume: $(tail -n 5 stop2.log)"
grep -q "resuming after epoch 1, at step 8/32 of epoch 2" stop2.log || fail "no resume: $(cat stop2.log)"
diff <(timeless runs/two/jobs/two/metrics.jsonl) <(timeless runs/stopped/jobs/stopped/metrics.jsonl) ||
  fail "the resumed run's metrics differ from the uninterrupted run's"
"$IPM_CKPT_DIFF" "$(ck two)" "$(ck stopped)" 0 > /dev/null ||
  fail "the resumed run's parameters differ from the uninterrupted run's"
pass "chunked order, stopped at step 8 of epoch 2 and resumed: identical metrics and parameters"

# 3. A failed read on 1 and 2 ranks: one line naming the file, step and rows; no hang.
for np in 1 2; do
  suite "fail$np" "$np"
  rc=0
  IPM_TEST_FAIL_READ_AT_STEP=5 timeout 60 "${MPIRUN[@]}" -x IPM_TEST_FAIL_READ_AT_STEP -np "$np" \
    "$IPM" "fail$np.toml" > "fail$np.log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$np ranks: a failed read exited $rc (124 = hung)"
  grep -Eq "small.h5:/train/x: read failed .*step 5: rows [0-9]+, " "fail$np.log" ||
    fail "$np ranks: no error naming the file, step and rows: $(cat "fail$np.log")"
  pass "$np ranks: $(grep -m1 -o 'small.h5:/train/x: read failed.*' "fail$np.log")"
done
