#!/usr/bin/env bash
# `ipm-dist pack csv` end to end: 300 + 100 Fashion-MNIST images written out as an MNIST-style
# CSV (header, label first, 784 pixels) pack back to exactly the rows they came from, and a
# tiny job trains on the packed file; bad CSVs exit non-zero with one line naming file:line and
# leave no output file.
source "$(dirname "$0")/lib.sh"
d=$(test_dir pack_csv)
cd "$d"
small_h5 small.h5 300 100
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = h5py.File("small.h5", "r")
for split in ("train", "test"):
    x = f[split]["x"][...].reshape(len(f[split]["y"]), -1)
    y = f[split]["y"][...]
    with open(f"{split}.csv", "w") as out:
        names = (f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
        out.write("label," + ",".join(names) + "\n")
        for label, row in zip(y, x):
            out.write(f"{label}," + ",".join(str(v) for v in row) + "\n")
PY
"$IPM" pack csv train.csv test.csv -o csv.h5 --shape 1,28,28 > pack.log
grep -q "300 train and 100 test samples" pack.log || fail "pack said: $(cat pack.log)"
/usr/bin/python3 - <<'PY' || fail "csv.h5 differs from the rows it was written from"
import h5py, numpy as np, sys
a, b = h5py.File("small.h5", "r"), h5py.File("csv.h5", "r")
for split in ("train", "test"):
    for name in ("x", "y"):
        u, v = a[split][name][...], b[split][name][...]
        if u.dtype != v.dtype or u.shape != v.shape or not np.array_equal(u, v):
            sys.exit(f"{split}/{name}: {u.dtype}{u.shape} vs {v.dtype}{v.shape}")
if int(b.attrs["num_classes"]) != 10:
    sys.exit("num_classes")
PY
pass "pack csv reproduces x (uint8 [N,1,28,28]) and y exactly"

SUITE_DATA=$d/csv.h5 write_suite tiny.toml tiny "[prior]" 'kind = "negative"' "k = 1" \
  "[train]" 'loss = "rq"' "batch = 50" "epochs = 1"
"$IPM" tiny.toml > tiny.log
acc=$(last_field runs/tiny/jobs/tiny test_acc)
[[ $acc =~ ^[01](\.[0-9]+)?$ ]] || fail "no test_acc after training: '$acc'"
pass "a job trained on the packed CSV (test_acc $acc)"

head -n 40 train.csv > bad.csv
sed -i '23s/,[0-9]*$//' bad.csv
expect_error "ragged row" "bad.csv:23: ragged row: 784 cells, expected 785" \
  "$IPM" pack csv bad.csv test.csv -o bad.h5
head -n 40 train.csv | sed '31s/^[0-9]/12/' > bad.csv
expect_error "label out of range" "bad.csv:31: label '12' is outside 0..9" \
  "$IPM" pack csv bad.csv test.csv -o bad.h5
head -n 40 train.csv | sed '7s/,0,/,zero,/' > bad.csv
expect_error "non-numeric cell" "bad.csv:7: column [0-9]+: 'zero' is not a number" \
  "$IPM" pack csv bad.csv test.csv -o bad.h5
head -n 40 train.csv | sed '9s/,0,/,300,/' > bad.csv
expect_error "pixel outside uint8" "bad.csv:9: column [0-9]+: '300' does not fit uint8" \
  "$IPM" pack csv bad.csv test.csv -o bad.h5
: > bad.csv
expect_error "empty file" "bad.csv: empty file" "$IPM" pack csv bad.csv test.csv -o bad.h5
expect_error "shape" "--shape holds 900 values" \
  "$IPM" pack csv train.csv test.csv -o bad.h5 --shape 1,30,30
expect_error "unknown dtype" "dtype" "$IPM" pack csv train.csv test.csv -o bad.h5 --dtype int8
[ -z "$(ls bad.h5* 2>/dev/null)" ] || fail "a refused pack left $(ls bad.h5*)"
pass "bad CSVs refused, nothing written"
