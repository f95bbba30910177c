#!/usr/bin/env bash
# The long soak (issue 16, item 2): one app process (`AppState`, as the app manages it), two
# threads, LOOKALIKE_SOAK_SEARCHES (default 5000) searches over the bench photos and the
# hostile-file corpus mixed; every answer must equal the sequential one, open fds and threads
# must not grow, and the mean resident memory of the last 1,000 searches must be within 5% of
# the 1,000 before. Samples (every 250 searches) go to bench/results/soak.json. The test is
# src-tauri/tests/soak.rs (`the_long_soak`, ignored by a plain `cargo test`; the short soak there
# runs in `cargo xtask test`). Needs `scripts/setup.sh core`.
#
#   bash scripts/soak.sh                       # or: cargo xtask soak
#   LOOKALIKE_SOAK_SEARCHES=2000 bash scripts/soak.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
for f in models/manifest.toml models/u2netp_int8.onnx catalog/demo/catalog.json "$ORT_DYLIB_PATH"; do
  [ -e "$f" ] || { echo "soak: $f is missing: run \`bash scripts/setup.sh core\` first" >&2; exit 1; }
done
# release build: the searches as the shipped app runs them
exec cargo test --release -p lookalike-app --test soak -- --ignored --exact the_long_soak --nocapture
