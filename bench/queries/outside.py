#!/usr/bin/env python3
"""Query set `outside`: things neither catalog sells, for calibrating and checking a search's
`match` ("same" / "similar" / "none"). Every query should come back "similar" or "none", never
"same". (The other out-of-catalog case, a photo of a product like the catalog's but not in it, needs
no images: `lookalike eval` leaves each photo query's own product out of its results.)

  .cache/queries/outside/{queries.csv,about.json,images/}

queries.csv has the header `image,product,split` with an empty `product` (nothing to find): give it
to `lookalike eval --outside`. Two kinds of query, split by subject (seeded, 40% `tune`):
  photos    the scikit-image sample photos that show no shop product (an astronaut, a cat, coins,
            the moon, a motorcycle, a rocket...), each as is and in 3 photo-like variants (crop,
            light, blur, noise, downscale, JPEG: the transforms of photo.py)
  drawings  emoji of animals, vehicles and buildings (emoji.json categories), never one that
            emoji.py maps to a catalog category, each drawn by Google, Twitter, OpenMoji and
            Fluent 3D, rendered as emoji.py renders its queries (white 256 x 256 canvas)

    .cache/bench-venv/bin/python bench/queries/outside.py [--seed N] [--force]
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import emoji  # noqa: E402
import photo  # noqa: E402

NAME = "outside"
DEFAULT_SEED = 6
# scikit-image sample photos of things no demo or emoji category sells (the texture photos brick,
# grass and gravel are backgrounds of photo.py; camera.png shows a film camera, left out)
PHOTOS = ["astronaut", "chelsea", "coins", "hubble_deep_field", "ihc", "moon", "motorcycle_left",
          "motorcycle_right", "page", "retina", "rocket", "text", "horse", "cell"]
PHOTO_VARIANTS = [[], ["crop", "light"], ["blur", "noise", "jpeg"], ["crop", "downscale", "light"]]
# emoji.json (category, subcategory) pairs whose emoji no shop category here sells
DRAWING_GROUPS = {("Animals & Nature", s) for s in
                  ("animal-mammal", "animal-bird", "animal-amphibian", "animal-reptile", "animal-marine",
                   "animal-bug")} | {("Travel & Places", s) for s in
                                     ("transport-ground", "transport-air", "transport-water", "place-building",
                                      "place-map", "place-geographic")}
DRAWINGS = 60  # subjects drawn (seeded sample), each by every vendor that has it


def photo_member(name: str, members: set[str]) -> str:
    for ext in ("png", "jpg"):
        m = f"skimage/data/{name}.{ext}"
        if m in members:
            return m
    raise common.QueryError(f"the scikit-image wheel has no sample photo {name}")


def photo_variant(img: Image.Image, plan: list[str], rng) -> tuple[Image.Image, int, list[dict]]:
    """photo.py's steps on a whole photo (the "product" mask is the whole frame)."""
    s = photo.WORK / max(img.size)
    img = img.resize((max(16, round(img.width * s)), max(16, round(img.height * s))), Image.LANCZOS)
    mask = np.ones((img.height, img.width), np.float32)
    done = []
    for name in plan:
        if name in photo.STEPS:
            img, mask, p = photo.STEPS[name](img, mask, rng)
            done.append(p)
    quality = photo.FINAL_JPEG_QUALITY
    if "jpeg" in plan:
        quality = int(rng.integers(12, 36))
        done.append({"name": "jpeg", "quality": quality})
    return img, quality, done


def split_of(subject: str, seed: int) -> str:
    rng = np.random.default_rng([seed, common.stable_int("outside:" + subject)])
    return "tune" if rng.random() < common.TUNE_FRACTION else "test"


def build(seed: int, force: bool) -> dict:
    import PIL
    import resvg_py

    sk_pkg, sk_archive = common.ensure_package("scikit-image")
    src = emoji.Sources()
    sold = {n for names in emoji.EMOJI.values() for n in names}
    candidates = sorted(name for name, e in src.emoji.items()
                        if (e.get("category"), e.get("subcategory")) in DRAWING_GROUPS and name not in sold
                        and e.get("has_img_google"))
    fingerprint = common.sha256_json({
        "generator": common.code_fingerprint(Path(__file__), Path(common.__file__), Path(emoji.__file__),
                                             Path(photo.__file__)),
        "seed": seed,
        "packages": {v: src.pkgs[v]["sha256"] for v in emoji.VENDORS} | {"scikit-image": sk_pkg["sha256"]},
        "emoji_json": src.emoji_json_sha256,
        "libraries": {"numpy": np.__version__, "pillow": PIL.__version__, "resvg_py": resvg_py.__version__},
    })
    if not force:
        have = common.up_to_date(NAME, fingerprint)
        if have:
            common.log(f"{NAME}: {have['counts']['queries']} queries: up to date")
            return have
    t0 = time.monotonic()
    out = common.SetWriter(NAME)

    import zipfile

    with zipfile.ZipFile(sk_archive) as z:
        members = set(z.namelist())
        for name in PHOTOS:
            m = photo_member(name, members)
            img = Image.open(io.BytesIO(z.read(m))).convert("RGB")
            for v, plan in enumerate(PHOTO_VARIANTS):
                rng = np.random.default_rng([seed, common.stable_int(f"{name}:{v}")])
                q, quality, steps = photo_variant(img, plan, rng)
                rel = f"images/photo-{name}--v{v}.jpg"
                common.save_image(q, out.dir / rel, quality=quality)
                out.add(rel, "", split_of(name, seed), kind="photo", subject=name, source=m, transforms=plan,
                        steps=steps, size=list(q.size))

    rng = np.random.default_rng([seed, common.stable_int("outside:drawings")])
    picked = [candidates[i] for i in sorted(rng.choice(len(candidates), min(DRAWINGS, len(candidates)),
                                                       replace=False))]
    src.list_members()
    wanted = {}
    for name in picked:
        for vendor in emoji.VENDORS:
            m = src.member(vendor, src.emoji[name])
            if m:
                wanted.setdefault(vendor, {})[m] = name
    for vendor, by_member in wanted.items():
        data = common.read_members(src.archives[vendor], lambda n, b=by_member: n in b)
        for m, name in sorted(by_member.items(), key=lambda kv: kv[1]):
            rel = f"images/drawing-{emoji.product_id(name)}--{vendor}.png"
            common.save_image(emoji.render(vendor, data[m]), out.dir / rel)
            out.add(rel, "", split_of(name, seed), kind="drawing", subject=name, vendor=vendor, source=m)

    rows = out.rows
    c = {"queries": len(rows), "products": 0}
    for s in ("tune", "test"):
        c[f"{s}_queries"] = sum(r["split"] == s for r in rows)
        c[f"{s}_products"] = 0
    c["per_kind"] = {k: sum(r["kind"] == k for r in rows) for k in ("photo", "drawing")}
    about = {
        "catalog": "any (things neither catalog/demo nor catalog/emoji sells)",
        "generator": "bench/queries/outside.py",
        "seed": seed,
        "split": {"by": "subject", "tune_fraction": common.TUNE_FRACTION, "seed": seed},
        "inputs_sha256": fingerprint,
        "photos_from": f"PyPI {sk_pkg['spec']} ({sk_pkg['archive']}, sha256 {sk_pkg['sha256']})",
        "drawing_groups": sorted(f"{a} / {b}" for a, b in DRAWING_GROUPS),
        "counts": c,
    }
    res = out.commit(about)
    common.log(f"{NAME}: {c['queries']} queries ({c['per_kind']['photo']} photos, {c['per_kind']['drawing']} "
               f"drawings; tune {c['tune_queries']}, test {c['test_queries']}): built in {res['build_seconds']} s "
               f"({time.monotonic() - t0:.0f} s)")
    return res


def main() -> int:
    return common.cli(__doc__, DEFAULT_SEED, lambda a: build(a.seed, a.force))


if __name__ == "__main__":
    sys.exit(main())
