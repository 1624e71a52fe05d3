#!/usr/bin/env bash
# The command line of the contract: ipm-dist [run] FILE.toml [--dry-run], pack, --help, --version.
source "$(dirname "$0")/lib.sh"
d=$(test_dir cli)
cd "$d"
"$IPM" --version | grep -Eq '^ipm-dist [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
"$IPM" --help | grep -q "pack" || fail "--help lists no pack"
rc=0; "$IPM" frobnicate >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "unknown subcommand should exit 2, got $rc"
write_suite s.toml s "[train]" "epochs = 1" "[sweep]" '"train.loss" = ["ce", "rq"]' '"prior.k" = [1, 3]'
out=$("$IPM" run s.toml --dry-run)
[ "$(echo "$out" | wc -l)" -eq 4 ] || fail "dry run should list 4 jobs: $out"
echo "$out" | grep -q "^todo	k=3_loss=rq	" || fail "dry run lacks job k=3_loss=rq: $out"
[ ! -e runs/s/jobs ] || fail "dry run created job directories"
pass "dry run lists the sweep"

# A tiny real run ends with the summary of the contract; `report` rebuilds it.
small_h5 small.h5 256 100
cat > tiny.toml <<TOML
name = "tiny"
output = "runs/tiny"
[data]
file = "small.h5"
[train]
batch = 64
epochs = 1
train_eval = "running"
[sweep]
"train.loss" = ["ce", "rq"]
"prior.k" = [1, 3]
"train.seed" = [0, 1]
TOML
"$IPM" tiny.toml > tiny.log
grep -q "| train.loss | n | final test acc (%) | peak test acc (%) |" tiny.log || fail "no table printed"
head -n 1 runs/tiny/summary.csv | grep -qx \
  "prior.k,train.loss,n,final_test_acc_mean,final_test_acc_std,peak_test_acc_mean,peak_test_acc_std" ||
  fail "summary.csv header: $(head -n 1 runs/tiny/summary.csv)"
[ "$(grep -c '^[13],[a-z]*,2,' runs/tiny/summary.csv)" -eq 4 ] || fail "expected 4 rows with n = 2"
# The Fig. 3-style plot against the numeric swept key is a real PNG.
[ "$(head -c 8 runs/tiny/plot_prior.k.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
  fail "plot_prior.k.png is not a PNG"
rm runs/tiny/summary.csv
"$IPM" report runs/tiny > report.log
[ -s runs/tiny/summary.csv ] || fail "report did not rewrite summary.csv"
pass "run prints the summary and plots; report rewrites them"

# A job that fails (its checkpoint is unreadable) is reported; the others still run; the
# run ends non-zero with the list of failures.
cp tiny.toml broken.toml
sed -i 's/name = "tiny"/name = "broken"/; s#runs/tiny#runs/broken#' broken.toml
mkdir -p "runs/broken/jobs/k=3_loss=rq_seed=1"
echo "not a checkpoint" > "runs/broken/jobs/k=3_loss=rq_seed=1/checkpoint.pt"
rc=0
"$IPM" broken.toml > broken.log 2> broken.err || rc=$?
[ "$rc" -eq 1 ] || fail "a suite with a failed job should exit 1, got $rc"
grep -q "7 trained, 0 already done, 1 failed" broken.log || fail "summary line: $(tail -n 1 broken.log)"
grep -q "failed job k=3_loss=rq_seed=1: .*checkpoint.pt: cannot resume" broken.err ||
  fail "failure not listed: $(cat broken.err)"
[ ! -e "runs/broken/jobs/k=3_loss=rq_seed=1/DONE" ] || fail "failed job marked DONE"
[ "$(find runs/broken/jobs -name DONE | wc -l)" -eq 7 ] || fail "the other 7 jobs did not finish"
pass "a failed job is listed, the others finish, exit 1"
