# Shared pieces of the benchmark scripts (sourced): one job of the paper's CNN on the first
# rows of Fashion-MNIST, RQ with one negative label, Adam lr 1e-3 (1 thread per rank unless said).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
IDX_DIR=${IDX_DIR:-/usr/share/datasets/fashion-mnist}

# bench_pack BUILD WORK: WORK/fm.h5 from the IDX files (once).
bench_pack() {
  [ -s "$2/fm.h5" ] || "$1/tools/ipm-dist" pack idx "$IDX_DIR" -o "$2/fm.h5" >/dev/null
}

# bench_suite FILE NAME ROWS EPOCHS BATCH NORMALIZER RANKS [THREADS]: a one-job suite writing to NAME/
# beside FILE (training accuracy "running": evaluation stays out of the step timings).
bench_suite() {
  cat > "$1" <<TOML
name = "$2"
output = "$2"
[data]
file = "fm.h5"
[prior]
kind = "negative"
k = 1
[train]
loss = "rq"
lr = 1e-3
batch = $5
epochs = $4
train_subset = $3
train_eval = "running"
normalizer = "$6"
[run]
ranks_per_job = $7
threads_per_rank = ${8:-1}
TOML
}

# bench_run BUILD FILE RANKS: runs the suite on that many MPI ranks (1: no mpirun).
bench_run() {
  if [ "$3" -eq 1 ]; then
    "$1/tools/ipm-dist" "$2" >/dev/null
  else
    mpirun --oversubscribe -np "$3" "$1/tools/ipm-dist" "$2" >/dev/null
  fi
}

# last_metric METRICS.JSONL KEY: KEY's value in the last epoch.
last_metric() {
  tail -n 1 "$1" | sed "s/.*\"$2\": \([^,}]*\).*/\1/"
}
