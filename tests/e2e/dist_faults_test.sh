#!/usr/bin/env bash
# Faults in a multi-rank job: a rank that fails or is killed takes the job down within
# seconds with a message naming the rank (no hang); ranks given different suites are refused
# at start-up; a global batch that does not divide by the ranks trains correctly (uneven
# slices), and ranks_per_job that does not divide the ranks started is refused clearly.
source "$(dirname "$0")/lib.sh"
d=$(test_dir dist_faults)
cd "$d"
small_h5 small.h5 512 200
base() {  # name [extra lines]
  local n=$1
  shift
  { echo "name = \"$n\""; echo "output = \"runs/$n\""; echo "[data]"; echo "file = \"small.h5\""
    echo "[train]"; echo "batch = 64"; echo "epochs = 50"; echo "train_eval = \"running\""
    echo "normalizer = \"global\""
    for line in "$@"; do echo "$line"; done; } > "$n.toml"
}

# 1. One rank killed (SIGKILL) mid-training: mpirun must end the job, quickly.
base killed "[run]" "ranks_per_job = 2"
"${MPIRUN[@]}" -np 2 "$IPM" killed.toml > killed.log 2>&1 &
launcher=$!
for _ in $(seq 300); do
  [ -s runs/killed/jobs/killed/metrics.jsonl ] && break
  sleep 0.1
done
victim=$(pgrep -f "ipm-dist killed.toml" | grep -v "^$launcher$" | tail -n 1)
[ -n "$victim" ] || fail "no rank process found"
kill -9 "$victim"
start=$(date +%s)
rc=0
timeout 60 tail --pid="$launcher" -f /dev/null || fail "the job hung after a rank was killed"
wait "$launcher" || rc=$?
elapsed=$(( $(date +%s) - start ))
[ "$rc" -ne 0 ] || fail "job with a killed rank exited 0"
[ "$elapsed" -le 20 ] || fail "the job took ${elapsed}s to come down"
[ ! -e runs/killed/jobs/killed/DONE ] || fail "job with a killed rank marked DONE"
pass "killed rank: job down in ${elapsed}s, exit $rc"

# 2. One rank throws (an injected error on rank 1 in epoch 2): the error names the rank, and
#    the job ends rather than leaving rank 0 waiting in the next collective.
base throws "[run]" "ranks_per_job = 2"
rc=0
start=$(date +%s)
IPM_TEST_FAIL_RANK=1 timeout 60 "${MPIRUN[@]}" -x IPM_TEST_FAIL_RANK -np 2 "$IPM" throws.toml \
  > throws.log 2>&1 || rc=$?
elapsed=$(( $(date +%s) - start ))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a failing rank: exit $rc (124 = hung)"
grep -q "rank 1: error: .*injected failure on rank 1" throws.log ||
  fail "no error naming the rank: $(cat throws.log)"
[ "$elapsed" -le 20 ] || fail "the job took ${elapsed}s to come down"
pass "failing rank: job down in ${elapsed}s: $(grep -m1 'rank 1: error' throws.log)"

# 3. Ranks started with different suites are refused at start-up.
base same "[run]" "ranks_per_job = 2"
cat > differ.sh <<SH
#!/usr/bin/env bash
if [ "\${OMPI_COMM_WORLD_RANK:-0}" = 1 ]; then
  sed 's/epochs = 50/epochs = 51/' same.toml > other.toml && exec "$IPM" other.toml
fi
exec "$IPM" same.toml
SH
chmod +x differ.sh
rc=0
timeout 60 "${MPIRUN[@]}" -np 2 ./differ.sh > differ.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "different suites: exit $rc"
grep -q "started with different suite files" differ.log || fail "no clear message: $(cat differ.log)"
[ ! -e runs/same/jobs ] || fail "training started despite different suites"
pass "different suites refused"

# 4. A global batch of 50 on 3 ranks (17 + 17 + 16 rows) trains the same model as 1 rank.
base uneven1 "precision = \"float64\"" "[run]" "ranks_per_job = 1"
sed -i -e 's/batch = 64/batch = 50/' -e 's/epochs = 50/epochs = 2/' uneven1.toml
sed -e 's/uneven1/uneven3/g' -e 's/ranks_per_job = 1/ranks_per_job = 3/' uneven1.toml > uneven3.toml
"$IPM" uneven1.toml > uneven1.log
"${MPIRUN[@]}" -np 3 "$IPM" uneven3.toml > uneven3.log
"$IPM_CKPT_DIFF" runs/uneven1/jobs/uneven1/checkpoint.pt runs/uneven3/jobs/uneven3/checkpoint.pt 1e-6 ||
  fail "uneven slices train another model"
pass "batch 50 on 3 ranks == 1 rank"

# 5. ranks_per_job = 2 with 3 ranks started.
base odd "[run]" "ranks_per_job = 2"
rc=0
timeout 60 "${MPIRUN[@]}" -np 3 "$IPM" odd.toml > odd.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "ranks_per_job not dividing: exit $rc"
grep -q "run.ranks_per_job = 2 does not divide the 3 ranks" odd.log || fail "unclear: $(cat odd.log)"
pass "ranks_per_job that does not divide the ranks is refused"
