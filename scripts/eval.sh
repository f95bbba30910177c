#!/usr/bin/env bash
# Retrieval quality on the labelled query sets (bench/queries, built by scripts/make-queries.sh):
# `lookalike eval --tune` per set (blend weights fitted on the `tune` split, every row reported on
# the `test` split), JSON to bench/results/eval-<set>.json, tables on stdout.
#
#   bash scripts/eval.sh [SET...]        # default: photo multiview emoji
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/make-queries.sh >&2
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$PWD/models/runtime/libonnxruntime.so.1.31.1}"
sets=("$@")
[[ ${#sets[@]} -gt 0 ]] || sets=(photo multiview emoji)
mkdir -p bench/results
for set in "${sets[@]}"; do
  csv=".cache/queries/$set/queries.csv"
  catalog=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["catalog"])' ".cache/queries/$set/about.json")
  echo "== $set (catalog $catalog) =="
  target/release/lookalike eval --catalog "$catalog" --queries "$csv" --tune \
    --out "bench/results/eval-$set.json"
  echo
done
