#!/usr/bin/env bash
# The scale bench (issue 15, item 5): Lookalike's catalog-vector retrievers against FAISS and
# USearch on the same seeded random unit vectors, the same queries and the same cores.
# `lookalike bench-scale` writes the vectors, queries and the exact top-10 into .cache/scale/SET/
# and times the exact f32 scan, int8 + re-score, its HNSW graph (kept there: a rerun reuses it)
# and its IVF; bench/scale.py times FAISS (IndexFlatIP,
# IndexHNSWFlat) and USearch (HNSW, i8) on the same files; the combined table goes to
# bench/results/scale-SET.json (bench/render_readme.py puts it in README). Needs
# `bash scripts/setup.sh bench`; ~5 GB of disk and memory per 1M x 768.
#
#   bash scripts/bench-scale.sh                 # or: cargo xtask bench-scale
#   LOOKALIKE_SCALE_SETS="200000x768" bash scripts/bench-scale.sh
#
# A set is ROWSxDIMS[-clustered][:PEERS]: random unit vectors (the worst case for an index), or
# groups of near rows (closer to a real catalog); PEERS is a comma list of faiss-flat, faiss-ivf,
# faiss-hnsw, usearch (Lookalike's IVF and HNSW run where FAISS's do). HNSW builds take the longest (efConstruction 64 unless
# LOOKALIKE_SCALE_EF_CONSTRUCTION says otherwise), so the largest set runs the exact ones only.
# The first set also runs the in-memory control and the catalog open (a catalog of as many
# products as the set has rows); LOOKALIKE_SCALE_CONTROLS=0 leaves them out (running the
# 10M x 256 set alone, for one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sets=${LOOKALIKE_SCALE_SETS:-"1000000x768:faiss-flat,faiss-ivf,faiss-hnsw 1000000x768-clustered 10000000x256:faiss-flat"}
py=.cache/bench-venv/bin/python
[ -x "$py" ] || { echo "bench-scale: $py is missing: run \`bash scripts/setup.sh bench\`" >&2; exit 1; }
cargo build --release -p lookalike-cli >&2
for set in $sets; do
  name=${set%%:*}
  peers=faiss-flat,faiss-ivf,faiss-hnsw,usearch
  [[ "$set" == *:* ]] && peers=${set#*:}
  data=random
  [[ "$name" == *-clustered ]] && data=clustered
  shape=${name%-clustered}
  rows=${shape%x*}
  dims=${shape#*x}
  dir=.cache/scale/$name
  # Lookalike's IVF only where FAISS's IVF runs too; the in-memory control and the catalog open
  # once, on the first set
  extra=()
  [[ ",$peers," == *,faiss-ivf,* ]] || extra+=(--lists 0)
  [[ ",$peers," == *,faiss-hnsw,* ]] || extra+=(--hnsw-m 0)
  [[ "$set" == "${sets%% *}" && "${LOOKALIKE_SCALE_CONTROLS:-1}" != 0 ]] \
    && extra+=(--in-memory-control --catalog-open)
  echo "== $name ($peers)" >&2
  target/release/lookalike bench-scale --rows "$rows" --dims "$dims" --data "$data" --dir "$dir" \
    "${extra[@]}" --json "$dir/lookalike.json"
  "$py" bench/scale.py --dir "$dir" --lookalike "$dir/lookalike.json" --only "$peers" \
    --ef-construction "${LOOKALIKE_SCALE_EF_CONSTRUCTION:-64}" --ef 16,64,256,512 --json "bench/results/scale-$name.json"
done
