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
