#!/usr/bin/env bash
# docs/keys.md is `ipm-dist keys`, the key table of jobs/config_schema.cc as Markdown: a key
# added, removed or changed in the table without regenerating the page fails here.
source "$(dirname "$0")/lib.sh"
d=$(test_dir keys_doc)
"$IPM" keys > "$d/keys.md" || fail "ipm-dist keys exited non-zero"
grep -q '^| `train.lr` | float | (0, 10\] | `0.0001` |' "$d/keys.md" || fail "no train.lr row"
[ "$(grep -c '^| `' "$d/keys.md")" -ge 30 ] || fail "fewer than 30 keys listed"
diff -u "$IPM_SRC/docs/keys.md" "$d/keys.md" >&2 ||
  fail "docs/keys.md differs from 'ipm-dist keys': run scripts/gen-keys-doc.sh and commit it"
pass "docs/keys.md matches ipm-dist keys"
