#!/usr/bin/env python3
"""Write models/imagenet_labels.txt: the 1000 ImageNet-1k class labels, one per line, line i = class id i.

Source: PyPI timm==1.0.31 (Apache-2.0), fetched and sha256-checked by scripts/fetch.py (group
`labels`): timm/data/_info/imagenet_synsets.txt gives the 1000 WordNet synsets in the standard
class-id order (sorted wnids, as used by every ImageNet-1k classifier), and
imagenet_synset_to_lemma.txt gives each synset's lemmas ("tench, Tinca tinca"). Each line of the
output is the full lemma list; the first comma-separated name is the short label.

    python3 catalog/recipe/build_imagenet_labels.py           # (re)write the file
    python3 catalog/recipe/build_imagenet_labels.py --check   # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / ".cache" / "sources" / "timm-1.0.31"
OUT = ROOT / "models" / "imagenet_labels.txt"


def build() -> str:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch.py"), "--only", "labels", "-q"], check=True)
    synsets = [s.strip() for s in (SRC / "imagenet_synsets.txt").read_text().splitlines() if s.strip()]
    lemma = dict(line.split("\t", 1) for line in (SRC / "imagenet_synset_to_lemma.txt").read_text().splitlines() if line)
    if len(synsets) != 1000 or len(set(synsets)) != 1000 or synsets != sorted(synsets):
        raise SystemExit("error: imagenet_synsets.txt is not 1000 sorted, distinct synsets")
    return "".join(lemma[s].strip() + "\n" for s in synsets)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = ap.parse_args()
    text = build()
    if args.check:
        if OUT.is_file() and OUT.read_text() == text:
            print(f"{OUT.relative_to(ROOT)} matches timm==1.0.31")
            return 0
        print(f"{OUT.relative_to(ROOT)} differs from timm==1.0.31: rerun without --check", file=sys.stderr)
        return 1
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} (1000 labels; 0: {text.splitlines()[0]!r}, 999: {text.splitlines()[-1]!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
