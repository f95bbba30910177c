#!/usr/bin/env python3
"""Race candidate lite models in `lookalike eval` on the TUNE split (issue #13, item 2).

Each candidate is one EfficientNet-Lite ONNX file playing every part of the lite profile
(router logits, embedding, texture), optionally with the GeM-pooled embedding as the expert:

  lite0        models/efficientnet_lite0.onnx      (Lite0, average-pooled: the model before the race)
  lite0_gem    models/efficientnet_lite0_gem.onnx  (same graph + embedding_gem)
  lite2        models/efficientnet_lite2.onnx      (EfficientNet-Lite2, 260 px)
  lite2_gem    models/efficientnet_lite2_gem.onnx
  lite2_int8   models/efficientnet_lite2_int8.onnx (static QDQ, where quantize_lite.py made it)
  lite0_isnet  Lite0 GeM, with ISNet (models/isnet_fp16.onnx, `setup.sh --with-isnet`) as the catalog
               segmenter in place of U2Netp (index time only: searches still segment with U2Netp)

`python models/export/export_efficientnet_lite.py --variant lite2 [--gem]` and `quantize_lite.py --model efficientnet_lite2` (the torch export
venv, models/export/README.md) writes the files; a candidate whose file is absent is skipped.

For each candidate this writes models/race/manifest.toml (the committed manifest plus the
candidate entries and a `race_<name>` profile with lite's search segmenter, U2Net/U2Netp as the
index segmenters (ISNet only for lite0_isnet) and the scoring and match rule committed before the
race, fitted on average-pooled Lite0, so only the model differs), indexes the demo and emoji catalogs with it into .cache/race/<name>/,
and runs one `lookalike eval --split tune` over the photo, multiview and emoji sets (and the
outside set for `match`). Results: bench/results/model-race.json and a table on stdout.
Nothing is tuned here. `lite0` reads the `embedding` output (average pooling) of whatever
models/efficientnet_lite0.onnx is (since the race, the GeM export: same `embedding` values).

  python3 bench/race_models.py [--only lite2,lite2_gem]
Needs `cargo xtask make-queries` (the query sets) and target/release/lookalike.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
RACE_MODELS = MODELS / "race"
CACHE = ROOT / ".cache" / "race"
QUERIES = ROOT / ".cache" / "queries"
LOOKALIKE = ROOT / "target" / "release" / "lookalike"
OUT = ROOT / "bench" / "results" / "model-race.json"

LITE_INPUT = ('{{ name = "input", width = {s}, height = {s}, resize = "stretch", interpolation = "bilinear", '
              'scale = "unit", mean = [0.498, 0.498, 0.498], std = [0.502, 0.502, 0.502], background = [255, 255, 255] }}')

# name: (file, input size, texture dims, has GeM output, expert output[, index segmenter file])
CANDIDATES = {
    "lite0": ("efficientnet_lite0.onnx", 224, 240, False, "embedding"),
    "lite0_gem": ("efficientnet_lite0_gem.onnx", 224, 240, True, "embedding_gem"),
    "lite2": ("efficientnet_lite2.onnx", 260, 272, False, "embedding"),
    "lite2_gem": ("efficientnet_lite2_gem.onnx", 260, 272, True, "embedding_gem"),
    "lite2_int8": ("efficientnet_lite2_int8.onnx", 260, 272, False, "embedding"),
    "lite0_isnet": ("efficientnet_lite0_gem.onnx", 224, 240, True, "embedding_gem", "isnet_fp16.onnx"),
}


def sha256(path: Path) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# The lite scoring and match rule committed before the race (fitted on average-pooled Lite0):
# every candidate runs these, so that the race compares models, not fits.
RACE_SCORING = """scoring = { blend = { semantic = 0.80, texture = 0.05, color = 0.15 }, frame = 1.0, route_prior = 0.10 }
match = { weights = [2.074, 17.748, 3.039, 5.288], bias = -8.268, same_at = 0.594, none_semantic = 0.258 }"""


def lite_profile(text: str) -> dict[str, str]:
    """The committed lite profile's segmenter line, as TOML."""
    block = re.search(r"^\[profiles\.lite\]\n(.*?)(?=^\[|\Z)", text, flags=re.S | re.M)
    if not block:
        sys.exit("models/manifest.toml has no [profiles.lite]")
    keep = {}
    for line in block.group(1).splitlines():
        m = re.match(r"^(segmenter)\s*=", line)
        if m:
            keep[m.group(1)] = line
    return keep


def race_manifest(names: list[str]) -> str:
    text = (MODELS / "manifest.toml").read_text()
    lite = lite_profile(text)
    # the race folder holds no overlays
    text = re.sub(r"^overlays = .*$", "overlays = []", text, flags=re.M)
    parts = [text, "\n# ---- model race (bench/race_models.py): candidates and one profile each ----\n"]
    for name in names:
        file, size, tex, gem, expert = CANDIDATES[name][:5]
        # the committed manifest's [models.isnet]; every other candidate indexes without it, so
        # that only the model differs
        segmenters = 'index_segmenters = ["u2net", "u2netp"]'
        if len(CANDIDATES[name]) > 5:
            segmenters = 'index_segmenters = ["isnet"]'

        model = f"race_{name}"
        outputs = [
            '  { name = "logits", kind = "logits", dims = [1, 1000] },',
            '  { name = "embedding", kind = "embedding", dims = [1, 1280] },',
            f'  {{ name = "texture", kind = "texture", dims = [1, {tex}] }},',
        ]
        if gem:
            outputs.append('  { name = "embedding_gem", kind = "embedding", dims = [1, 1280] },')
        parts.append(f"""
[models.{model}]
file = "{file}"
sha256 = "{sha256(MODELS / file)}"
source = "race candidate {name} (models/export/export_efficientnet_lite.py)"
license = "Apache-2.0"
weights = "pretrained"
input = {LITE_INPUT.format(s=size)}
outputs = [
{chr(10).join(outputs)}
]

[profiles.race_{name}]
description = "model race: {name} as router, embedding and texture"
{lite['segmenter']}
{segmenters}
router = {{ kind = "class_table", model = "{model}", output = "logits" }}
texture = {{ model = "{model}", output = "texture" }}
experts.fashion = {{ model = "{model}", output = "{expert}" }}
experts.general = {{ model = "{model}", output = "{expert}" }}
{RACE_SCORING}
""")
    return "".join(parts)


def run(cmd: list[str]) -> str:
    t = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-3000:]}")
    print(f"  {time.monotonic() - t:5.0f} s  {' '.join(cmd[1:4])} ...", flush=True)
    return proc.stdout


def catalog_sources(set_name: str) -> tuple[Path, Path]:
    about = json.loads((QUERIES / set_name / "about.json").read_text())
    if set_name == "emoji":
        src = ROOT / Path(about["catalog_products"]).parent
        return src / "images", src / "products.json"
    demo = ROOT / ".cache" / "demo-sources"
    return demo / "images", demo / "products.json"


def row(rows: list[dict], name: str) -> dict:
    for r in rows:
        if r["name"] == name:
            return r["metrics"]
    return {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated candidates (default: every one whose file exists)")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        sys.exit(f"unknown candidates {unknown}: choose from {', '.join(CANDIDATES)}")
    present = [n for n in names if all((MODELS / f).is_file() for f in CANDIDATES[n][:1] + CANDIDATES[n][5:])]
    for n in sorted(set(names) - set(present)):
        print(f"skip {n}: models/{CANDIDATES[n][0]} (or its segmenter) not found (export or fetch it first)")
    if not LOOKALIKE.is_file():
        sys.exit("target/release/lookalike not found: cargo build --release -p lookalike-cli")
    for s in ("photo", "multiview", "emoji", "outside"):
        if not (QUERIES / s / "queries.csv").is_file():
            sys.exit(f".cache/queries/{s} missing: run `cargo xtask make-queries` first")

    RACE_MODELS.mkdir(parents=True, exist_ok=True)
    # every candidate whose files exist, raced now or not: a race of some candidates leaves the
    # others' catalogs usable
    available = [n for n in CANDIDATES if all((MODELS / f).is_file() for f in CANDIDATES[n][:1] + CANDIDATES[n][5:])]
    (RACE_MODELS / "manifest.toml").write_text(race_manifest(available))
    for entry in os.listdir(MODELS):
        p = MODELS / entry
        link = RACE_MODELS / entry
        if entry in ("manifest.toml", "race") or not (p.suffix == ".onnx" or entry == "runtime"):
            continue
        if link.is_symlink() and not link.exists():
            link.unlink()  # dangling: its target was moved or deleted
        if not link.exists():
            link.symlink_to(p)

    results = {}
    for name in present:
        print(f"== {name}", flush=True)
        out = CACHE / name
        profile = f"race_{name}"
        catalogs = {}
        for cat, set_name in (("demo", "photo"), ("emoji", "emoji")):
            images, products = catalog_sources(set_name)
            catalogs[cat] = out / cat
            report = json.loads(run([str(LOOKALIKE), "index", "--models", str(RACE_MODELS), "--profile", profile,
                                     "--images", str(images), "--products", str(products),
                                     "--out", str(catalogs[cat]), "--json"]))
            print(f"        {cat}: {report['products']} products, {report['seconds']:.0f} s")
        cmd = [str(LOOKALIKE), "eval", "--models", str(RACE_MODELS), "--profile", profile, "--split", "tune",
               "--json", "--out", str(out / "eval.json")]
        for cat, set_name in (("demo", "photo"), ("demo", "multiview"), ("emoji", "emoji")):
            cmd += ["--catalog", str(catalogs[cat]), "--queries", str(QUERIES / set_name / "queries.csv")]
        cmd += ["--outside", str(QUERIES / "outside" / "queries.csv")]
        run(cmd)
        results[name] = json.loads((out / "eval.json").read_text())

    summary = {"split": "tune", "note": "every candidate runs lite's committed scoring and match rule (fitted on Lite0)",
               "candidates": {}}
    print(f"\n{'candidate':<11} {'set':<10} {'plain R@1/R@10':>15} {'cut-out R@1':>11} {'full R@1/R@10':>14} {'MRR':>6} "
          f"{'route':>6} {'same':>6}")
    for name, ev in results.items():
        per = {}
        for s in ev["sets"]:
            plain, cut = row(s["rows"], "plain embedding (baseline)"), row(s["rows"], "cut-out cosine")
            full = row(s["rows"], "+ colour (full)")
            per[s["set"]] = {"plain": plain, "cutout": cut, "full": full, "route_accuracy": s["route_accuracy"],
                             "same_rate": s["match"].get("same_rate"), "outside_same_rate": s["match"].get("outside_same_rate")}
            print(f"{name:<11} {s['set']:<10} {plain['recall_at_1']:6.3f}/{plain['recall_at_10']:.3f} "
                  f"{cut['recall_at_1']:11.3f} {full['recall_at_1']:7.3f}/{full['recall_at_10']:.3f} {full['mrr']:6.3f} "
                  f"{s['route_accuracy']:6.3f} {s['match'].get('same_rate', 0):6.3f}")
        summary["candidates"][name] = {"file": CANDIDATES[name][0], "sha256": sha256(MODELS / CANDIDATES[name][0]),
                                       "sets": per}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(OUT.read_text()) if OUT.is_file() else {"candidates": {}}
    existing["candidates"].update(summary["candidates"])
    summary["candidates"] = existing["candidates"]
    OUT.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(f"\nwrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
