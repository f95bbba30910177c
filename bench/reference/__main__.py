"""`PYTHONPATH=bench python -m reference [--models DIR] [--catalog DIR] IMAGE...`: one JSON object per
image, close to `lookalike search --json` (query, image, categories, route, segmentation, results; its
own `timings_ms` object keyed by stage, which bench/race.py reads)."""

import argparse
import json
import sys

from .pipeline import Reference


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m reference")
    ap.add_argument("--models", default="models")
    ap.add_argument("--catalog", default="catalog/demo")
    ap.add_argument("--category")
    ap.add_argument("images", nargs="+")
    args = ap.parse_args()
    ref = Reference(args.models, args.catalog)
    failed = 0
    for path in args.images:
        try:
            with open(path, "rb") as f:
                result = ref.search(f.read(), category=args.category)
        except Exception as e:  # one bad file does not stop the others (as the CLI)
            failed += 1
            print(f"error: {path}: {e}", file=sys.stderr)
            continue
        print(json.dumps({"query": path, **result}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
