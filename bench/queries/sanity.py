#!/usr/bin/env python3
"""Rough sanity check of a query set: search a seeded sample of its queries with
`target/release/lookalike search --json` and print how often the expected product is the top-1
and in the top-10, and which category the router chose. This only checks that a set is usable;
`lookalike eval` is the measurement (recall@k, MRR, ablations).

    .cache/bench-venv/bin/python bench/queries/sanity.py photo [--sample 60] [--seed 0]
    .cache/bench-venv/bin/python bench/queries/sanity.py emoji --sample 0      # every query
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set")
    ap.add_argument("--sample", type=int, default=60, help="queries to search (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=50, help="images per lookalike call")
    args = ap.parse_args()
    d = common.QUERIES_DIR / args.set
    about = json.loads((d / "about.json").read_text())
    rows = list(csv.DictReader(open(d / "queries.csv", newline="")))
    if args.sample and args.sample < len(rows):
        idx = np.random.default_rng(args.seed).choice(len(rows), args.sample, replace=False)
        rows = [rows[i] for i in sorted(idx)]
    catalog = common.ROOT / about["catalog"]
    cat_of = {p["id"]: p["category"] for p in json.loads((catalog / "catalog.json").read_text())["products"]}
    top1 = top10 = routed = 0
    per_cat = collections.defaultdict(lambda: [0, 0, 0])
    per_dir = collections.defaultdict(lambda: [0, 0, 0])
    misses = []
    for i in range(0, len(rows), args.batch):
        chunk = rows[i:i + args.batch]
        proc = subprocess.run([str(common.LOOKALIKE), "search", "--json", "--catalog", str(catalog),
                               *[str(d / r["image"]) for r in chunk]], stdout=subprocess.PIPE, text=True)
        answers = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        if len(answers) != len(chunk):
            print(f"error: {len(chunk)} queries, {len(answers)} answers (exit {proc.returncode})", file=sys.stderr)
            return 1
        for r, a in zip(chunk, answers):
            ids = [x["id"] for x in a["results"]]
            cat = cat_of[r["product"]]
            hit1, hit10 = ids[:1] == [r["product"]], r["product"] in ids
            top1 += hit1
            top10 += hit10
            routed_ok = a["categories"][0]["name"] == cat
            routed += routed_ok
            for pc in (per_cat[cat], per_dir[str(Path(r["image"]).parent)]):
                pc[0] += 1
                pc[1] += hit1
                pc[2] += hit10
            if not hit10:
                misses.append(f"{r['image']} -> {ids[:3]} (routed {a['categories'][0]['name']})")
        print(f"  {min(i + args.batch, len(rows))}/{len(rows)}", file=sys.stderr, flush=True)
    n = len(rows)
    print(f"{args.set} on {about['catalog']}: {n} queries: top-1 {top1}/{n} ({top1 / n:.0%}), "
          f"top-10 {top10}/{n} ({top10 / n:.0%}), router's first category right {routed}/{n} ({routed / n:.0%})")
    for cat, (q, h1, h10) in sorted(per_cat.items()):
        print(f"  {cat:<12} {q:>4} queries  top-1 {h1 / q:>4.0%}  top-10 {h10 / q:>4.0%}")
    if len(per_dir) > 1:
        for folder, (q, h1, h10) in sorted(per_dir.items()):
            print(f"  {folder:<20} {q:>4} queries  top-1 {h1 / q:>4.0%}  top-10 {h10 / q:>4.0%}")
    for m in misses[:15]:
        print(f"  miss: {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
