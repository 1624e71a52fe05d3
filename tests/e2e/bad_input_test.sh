#!/usr/bin/env bash
# Bad input is refused before anything trains: one clear line naming the file, key or value,
# a non-zero exit, and no output that looks complete.
source "$(dirname "$0")/lib.sh"
d=$(test_dir bad_input)
cd "$d"
base=("[prior]" "kind = \"negative\"" "k = 1" "[train]" "epochs = 1" "batch = 64"
      "train_subset = 256" "train_eval = \"running\"")

# Data files.
write_suite missing.toml missing "${base[@]}"
sed -i "s|file = .*|file = \"$d/nope.h5\"|" missing.toml
expect_error "missing data file" "nope.h5: no such data file" "$IPM" missing.toml

head -c 4096 /dev/urandom > garbage.h5
write_suite garbage.toml garbage "${base[@]}"
sed -i "s|file = .*|file = \"$d/garbage.h5\"|" garbage.toml
expect_error "corrupt data file" "garbage.h5: not a readable HDF5 file" "$IPM" garbage.toml

head -c 100000 "$FM_H5" > truncated.h5
write_suite truncated.toml truncated "${base[@]}"
sed -i "s|file = .*|file = \"$d/truncated.h5\"|" truncated.toml
expect_error "truncated data file" "truncated.h5: " "$IPM" truncated.toml

write_suite nosplit.toml nosplit "${base[@]}" 
sed -i 's|^\[data\]$|[data]\ntest = "validation"|' nosplit.toml
expect_error "missing split" "no group '/validation'" "$IPM" nosplit.toml

# Stored priors and shapes, written with h5py from Debian's python3-h5py.
/usr/bin/python3 - "$d" <<'PY'
import sys, h5py, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(0)
def make(name, prior=None, x_shape=(64, 1, 28, 28), y_rows=64, drop=None):
    with h5py.File(f"{d}/{name}.h5", "w") as f:
        f.attrs["num_classes"] = np.int64(10)
        for split in ("train", "test"):
            g = f.create_group(split)
            if drop != "x":
                g["x"] = rng.integers(0, 255, size=x_shape, dtype=np.uint8)
            g["y"] = rng.integers(0, 10, size=(y_rows,), dtype=np.int64)
            if prior is not None and split == "train":
                g["prior"] = prior.astype(np.float32)
uniform = np.full((64, 10), 0.1)
make("good", uniform)
neg = uniform.copy(); neg[5, 0] = -0.1; neg[5, 1] = 0.3; make("negative_prior", neg)
nan = uniform.copy(); nan[7, 3] = np.nan; make("nan_prior", nan)
zero = uniform.copy(); zero[9] = 0; make("zero_prior", zero)
half = uniform.copy(); half[11] *= 0.5; make("unnormalized_prior", half)
make("wrong_prior_shape", np.full((64, 7), 1 / 7))
make("rows_mismatch", uniform, y_rows=50)
make("vector_x", uniform, x_shape=(64, 784))
make("no_x", uniform, drop="x")
PY
stored=("[prior]" "kind = \"stored\"" "[train]" "epochs = 1" "batch = 32" "train_eval = \"running\"")
check_stored() {  # name pattern what
  write_suite "$1.toml" "$1" "${stored[@]}"
  sed -i "s|file = .*|file = \"$d/$1.h5\"|" "$1.toml"
  expect_error "$3" "$2" "$IPM" "$1.toml"
  [ ! -e "runs/$1" ] || fail "$3: output directory created for a suite that was refused"
}
check_stored negative_prior "negative_prior.h5.*sample 5: prior\[0\] is negative" "negative prior"
check_stored nan_prior "sample 7: prior\[3\] is not finite" "NaN prior"
check_stored zero_prior "sample 9: prior is all zero" "all-zero prior"
check_stored unnormalized_prior "sample 11: prior sums to 0.5" "prior not summing to 1"
check_stored wrong_prior_shape "wrong_prior_shape.h5:/train/prior: shape must be \[64, 10" "prior of wrong shape"
check_stored rows_mismatch "rows_mismatch.h5:/train/y: has 50 rows but x has 64" "rows mismatch"
check_stored vector_x "small_cnn' needs image samples" "vector data for a CNN"
check_stored no_x "no_x.h5: missing dataset '/train/x'" "missing dataset"
write_suite good.toml good "${stored[@]}"
sed -i "s|file = .*|file = \"$d/good.h5\"|" good.toml
"$IPM" good.toml > good.log || fail "a valid stored prior was refused"
pass "valid stored prior trains"

# Priors and settings.
write_suite k0.toml k0 "[prior]" "k = 0"
expect_error "k = 0" "k0.toml:[0-9]+: prior.k = 0 is outside 1..num_classes-1" "$IPM" k0.toml
write_suite k10.toml k10 "[prior]" "k = 10"
expect_error "k = 10 for 10 classes" "prior.k = 10 is outside 1..9 for 10 classes" "$IPM" k10.toml
write_suite ksweep.toml ksweep "[sweep]" '"prior.k" = [1, 9, 10]'
expect_error "k swept out of range (third job)" "job 'k=10'.*prior.k = 10 is outside 1..9" "$IPM" ksweep.toml
[ ! -e runs/ksweep ] || fail "jobs of a refused sweep started"
write_suite unknown.toml unknown "[train]" "lr = 1e-3" "bacth = 64"
expect_error "unknown key" "unknown.toml:7: unknown key 'train.bacth' \(did you mean 'train.batch'\?\)" "$IPM" unknown.toml
write_suite badloss.toml badloss "[train]" 'loss = "kl"'
expect_error "unknown loss" "train.loss = \"kl\" is not one of ce, nll, qr, rq" "$IPM" badloss.toml
printf 'name = "x"\n[data\nfile = "a.h5"\n' > malformed.toml
expect_error "malformed TOML" "malformed.toml:2" "$IPM" malformed.toml
write_suite emptysweep.toml emptysweep "[sweep]" '"train.loss" = []'
expect_error "empty sweep" "sweep \"train.loss\" is an empty list" "$IPM" emptysweep.toml
write_suite bigbatch.toml bigbatch "[train]" "batch = 100000"
expect_error "batch larger than the data" "train.batch = 100000 exceeds the 60000 training rows" "$IPM" bigbatch.toml
expect_error "missing suite file" "nothere.toml: no such suite file" "$IPM" nothere.toml
expect_error "pack from a missing directory" "not a directory" "$IPM" pack idx "$d/none" -o "$d/out.h5"
[ ! -e "$d/out.h5" ] || fail "failed pack left an output file"
