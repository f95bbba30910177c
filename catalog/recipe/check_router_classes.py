#!/usr/bin/env python3
"""Check categories.json's imagenet_classes against what EfficientNet-Lite0 really says about the demo images.

Not part of setup (needs `pip install onnxruntime==1.31.1 numpy pillow`, e.g. in a throwaway venv).
For every demo product image and query view it runs models/efficientnet_lite0.onnx on the whole image
(composited on white, stretched to 224x224 bilinear, (x/255-0.498)/0.502, as models/manifest.toml
says), sums the softmax over each category's classes, and reports the images whose best category is
not their own, with their top-5 ImageNet classes (* = claimed by some category). Use it when
editing categories.json.

    python catalog/recipe/check_router_classes.py [--all]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / ".cache" / "demo-sources"


def prep(path: Path) -> np.ndarray:
    im = Image.open(path)
    if im.mode != "RGB":
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        bg.alpha_composite(im)
        im = bg.convert("RGB")
    x = (np.asarray(im.resize((224, 224), Image.BILINEAR), np.float32) / 255 - 0.498) / 0.502
    return x.transpose(2, 0, 1)[None]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="print every image, not only misrouted ones")
    args = ap.parse_args()
    doc = json.loads((DEMO / "products.json").read_text())
    cats = doc["categories"]
    labels = [line.split(",")[0] for line in (ROOT / "models" / "imagenet_labels.txt").read_text().splitlines()]
    owned = {i for c in cats for i in c["imagenet_classes"]}
    items = [(p["id"], p["category"], DEMO / "images" / p["image"]) for p in doc["products"]]
    cat_of = {p["id"]: p["category"] for p in doc["products"]}
    qpath = DEMO / "queries.json"
    if qpath.is_file():
        items += [(q["image"], cat_of[q["product"]], DEMO / "queries" / q["image"])
                  for q in json.loads(qpath.read_text())["queries"]]
    sess = ort.InferenceSession(str(ROOT / "models" / "efficientnet_lite0.onnx"), providers=["CPUExecutionProvider"])
    good = 0
    below = 0
    for name, cat, path in items:
        logits = sess.run(["logits"], {"input": prep(path)})[0][0]
        p = np.exp(logits - logits.max())
        p /= p.sum()
        score = {c["name"]: float(p[c["imagenet_classes"]].sum()) for c in cats}
        best = max(score, key=score.get)
        good += best == cat
        below += score[best] < doc["router"]["min_confidence"]
        if args.all or best != cat:
            top = ", ".join(f"{i}:{labels[i]}{'*' if i in owned else ''}={p[i]:.2f}" for i in np.argsort(-p)[:5])
            print(f"{'ok ' if best == cat else 'BAD'} {name:<40} {cat:<11} -> {best:<11} {score[best]:.2f} "
                  f"(own {score[cat]:.2f}) | {top}")
    print(f"{good}/{len(items)} images: best category is their own; "
          f"{below} below min_confidence {doc['router']['min_confidence']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
