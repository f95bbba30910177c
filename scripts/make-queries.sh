#!/usr/bin/env bash
# Build the labelled query sets for `lookalike eval` (see bench/queries/README.md):
#
#   bash scripts/make-queries.sh [--force] [SET...]      SET: photo, multiview, emoji (default: all)
#
#   .cache/queries/photo/       photo-like queries from the demo catalog's images      (catalog/demo)
#   .cache/queries/multiview/   Saleor's other views of demo products                  (catalog/demo)
#   .cache/queries/emoji/       other vendors' drawings of Google's object emoji        (catalog/emoji,
#                               built here too from .cache/queries/emoji/catalog-src/)
#
# Each folder has queries.csv (image,product,split) and about.json. Runs scripts/setup.sh (models,
# demo sources, CLI, catalog/demo) and scripts/setup-bench.sh (the Python venv) first. Idempotent:
# a set whose about.json matches the generator's inputs (code, seed, source checksums) and whose
# images are intact is kept; anything else is rebuilt. --force rebuilds every named set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

force=()
sets=()
for arg in "$@"; do
  case "$arg" in
    --force) force=(--force) ;;
    photo|multiview|emoji) sets+=("$arg") ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "make-queries: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#sets[@]} -gt 0 ] || sets=(photo multiview emoji)

t0=$EPOCHREALTIME
bash scripts/setup.sh >/dev/null
bash scripts/setup-bench.sh
PY=.cache/bench-venv/bin/python
for s in "${sets[@]}"; do
  "$PY" "bench/queries/$s.py" "${force[@]}"
done
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "make-queries: done in %.0f s\n", b - a }'
