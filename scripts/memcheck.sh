#!/usr/bin/env bash
# Valgrind memcheck on the CLI's search of the whole hostile-file corpus (issue 16, item 4): one
# `lookalike search` process (the release build, with line tables) over every file in
# tests/bad-inputs/ against catalog/demo. Fails on any memcheck error outside the suppressions in
# scripts/valgrind.supp (each says why it is not Lookalike's) and on any definitely or indirectly
# lost block. Log: target/memcheck/memcheck.log. Needs `scripts/setup.sh core`; Debian's valgrind.
#
#   bash scripts/memcheck.sh        # about 10 minutes on 2 cores: valgrind runs ~50x slower
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
command -v valgrind >/dev/null || { echo "memcheck: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
for f in target/release/lookalike catalog/demo/catalog.json "$ORT_DYLIB_PATH"; do
  [ -e "$f" ] || { echo "memcheck: $f is missing: run \`bash scripts/setup.sh core\` first" >&2; exit 1; }
done
mapfile -t FILES < <(find tests/bad-inputs -maxdepth 1 -type f | sort | grep -v -E '/(SHA256SUMS|expected\.toml|make_corpus\.py)$')
out=target/memcheck
mkdir -p "$out"
set +e
valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --suppressions=scripts/valgrind.supp \
  --log-file="$out/memcheck.log" \
  target/release/lookalike search --catalog catalog/demo --json "${FILES[@]}" \
  > "$out/search.jsonl" 2> "$out/search.stderr"
rc=$?
set -e
answered=$(grep -c . "$out/search.jsonl" || true)
refused=$(grep -c '^error: ' "$out/search.stderr" || true)
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|suppressed:" "$out/memcheck.log" | sed 's/^==[0-9]*== */  /'
echo "  ${#FILES[@]} files: $answered answered, $refused refused"
# the CLI exits 1 when some file was refused (expected here); 99 is valgrind's own verdict
if [ "$rc" = 99 ]; then
  echo "memcheck: valgrind found errors (see $out/memcheck.log)" >&2
  exit 1
fi
[ "$((answered + refused))" = "${#FILES[@]}" ] || { echo "memcheck: not every file was answered or refused (rc $rc)" >&2; exit 1; }
echo "== memcheck: ok"
