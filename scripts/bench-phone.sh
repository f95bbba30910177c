#!/usr/bin/env bash
# Phone-sized photos (issue 15, item 1): whole lite searches of the first PHONE_BENCH_PHOTOS (3)
# bench photos at their own size (1600x1200, 2 MP), as 12 MP (4000x3000) and as 48 MP (8000x6000)
# JPEGs made from them (`cargo run -p lookalike-tests --example phone_photos`, the same bytes on
# every machine, cached in .cache/phone-photos/), each size in its own `lookalike bench` process
# (so peak RSS is that size's), with the scaled JPEG decode and with `--full-decode`. Writes
# bench/results/phone.json and prints decode and total p50, the ratio to 2 MP, and peak RSS.
# Needs `scripts/setup.sh core`.
#
#   bash scripts/bench-phone.sh          # or: cargo xtask bench-phone
#   PHONE_BENCH_RUNS=10 bash scripts/bench-phone.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
RUNS=${PHONE_BENCH_RUNS:-5}
COUNT=${PHONE_BENCH_PHOTOS:-3}
OUT=.cache/phone-photos
RESULT=bench/results/phone.json
for f in models/manifest.toml catalog/demo/catalog.json "$ORT_DYLIB_PATH"; do
  [ -e "$f" ] || { echo "bench-phone: $f is missing: run \`bash scripts/setup.sh core\` first" >&2; exit 1; }
done
cargo build --release --quiet -p lookalike-cli
cargo run --release --quiet -p lookalike-tests --example phone_photos -- "$OUT" "$COUNT"
mapfile -t base < <(bench_photos | head -n "$COUNT")
stems=()
for p in "${base[@]}"; do stems+=("$(basename "$p" .jpg)"); done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # NAME DECODE-FLAG FILES...
  local name=$1 flag=$2; shift 2
  echo "bench-phone: $name ($# photos x $RUNS runs)" >&2
  # shellcheck disable=SC2086
  target/release/lookalike bench --catalog catalog/demo --runs "$RUNS" --json $flag "$@" >"$tmp/$name.json"
}
run 2mp "" "${base[@]}"
for size in 12mp 48mp; do
  files=()
  for s in "${stems[@]}"; do files+=("$OUT/$s-$size.jpg"); done
  run "$size" "" "${files[@]}"
  run "$size-full-decode" --full-decode "${files[@]}"
done
python3 - "$tmp" "$RESULT" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, os, sys
tmp, result, cores, load = sys.argv[1:5]
names = ["2mp", "12mp", "12mp-full-decode", "48mp", "48mp-full-decode"]
runs = {n: json.load(open(os.path.join(tmp, n + ".json"))) for n in names}
rows = []
base = runs["2mp"]["stages_ms"]["total"]["p50"]
for n in names:
    r = runs[n]
    rows.append({
        "set": n,
        "images": r["images"],
        "runs": r["runs"],
        "scaled_jpeg_decode": r["scaled_jpeg_decode"],
        "decode_p50_ms": r["stages_ms"]["decode"]["p50"],
        "total_p50_ms": r["stages_ms"]["total"]["p50"],
        "total_vs_2mp": r["stages_ms"]["total"]["p50"] / base,
        "peak_rss_mib": r["peak_rss_mib"],
    })
json.dump({"machine_cores": int(cores), "load_average_end": load, "rows": rows,
           "runs": runs}, open(result, "w"), indent=1)
print(f"{'set':<18} {'decode p50':>11} {'total p50':>10} {'vs 2 MP':>8} {'peak RSS':>9}")
for r in rows:
    print(f"{r['set']:<18} {r['decode_p50_ms']:>8.1f} ms {r['total_p50_ms']:>7.1f} ms "
          f"{r['total_vs_2mp']:>7.2f}x {r['peak_rss_mib']:>5.0f} MiB")
print(f"({cores} cores, load average {load}; {result})")
PY
