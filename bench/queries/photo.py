#!/usr/bin/env python3
"""Query set `photo`: photo-like queries made from the demo catalog's own images.

For catalog/demo. Reads .cache/demo-sources/{products.json,images/} (scripts/setup.sh builds them)
and writes .cache/queries/photo/{queries.csv,about.json,images/}.

Each product gets 3 or 4 queries. The first has one transform, the others a seeded random
combination of two to four of:

  crop         a window of 35-80% of the frame that keeps >= 70% of the product
  rotate       5-30 degrees: the cut-out before it is pasted, else the whole frame, cropped to
               the largest upright rectangle (no empty corners)
  perspective  a keystone tilt of the camera (6-20%) plus corner jitter
  light        gamma, exposure, a warm/cool/green colour cast, and sometimes light from one side
  paste        the product cut out (its own alpha, else U2Netp: models/u2netp.onnx with the
               preprocessing of models/manifest.toml) and pasted, with a soft shadow, onto a
               procedural texture (wood, fabric, wall, tiles, marble, concrete, bokeh) or a
               scikit-image sample photo (brick, grass, gravel; the rocket launch pad out of
               focus); never onto another catalog product
  blur         Gaussian (defocus) or motion blur
  noise        sensor noise (luminance and chroma)
  downscale    to 128-320 px on the long side
  jpeg         recompression at quality 12-35 (otherwise queries are saved at quality 88)

The geometric steps are drawn again (up to 8 times) while they leave under 60% of the product in
the frame. The second query of a product always pastes when the product has a usable cut-out. Products that
come as cut-outs (most Saleor renders) are always placed on a background: a plain studio backdrop
unless `paste` picks a textured one. Everything is drawn from numpy Generators seeded with
(seed, product id), so one product's queries do not change when another product is added.
The split (tune/test) is by product, seeded and stratified by category (common.split_products),
the same split as the `multiview` set when both use the same seed.

    .cache/bench-venv/bin/python bench/queries/photo.py [--seed N] [--force]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import backgrounds  # noqa: E402
import common  # noqa: E402

NAME = "photo"
CATALOG = "catalog/demo"
DEFAULT_SEED = common.DEMO_SEED
WORK = 1024  # long side of the working image
FINAL_JPEG_QUALITY = 88
TRANSFORMS = ("paste", "perspective", "rotate", "crop", "light", "blur", "noise", "downscale", "jpeg")
WEIGHTS = {"paste": 1.4, "perspective": 1.0, "rotate": 1.0, "crop": 1.2, "light": 1.3, "blur": 1.0,
           "noise": 0.7, "downscale": 0.9, "jpeg": 0.9}
# a U2Netp mask is good enough to cut the product out when its foreground covers this share of the
# photo and the mask is decisive (mean |2m - 1|, 1 = every pixel clearly in or out)
MASK_AREA = (0.02, 0.85)
MASK_DECISIVE = 0.8


# ---------------------------------------------------------------------------------------------
# sources


class Source:
    """One catalog image at working size: RGB, product mask in [0, 1], and a cut-out if usable."""

    def __init__(self, product: dict, path: Path, u2: common.U2Netp):
        im = Image.open(path)
        im.load()
        if im.mode == "P" and "transparency" in im.info:
            im = im.convert("RGBA")
        if max(im.size) > WORK:
            s = WORK / max(im.size)
            im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS)
        self.alpha_cutout = False
        if im.mode in ("RGBA", "LA"):
            a = np.asarray(im.getchannel("A"), np.float32) / 255.0
            if (a < 0.5).mean() > 0.01:
                self.alpha_cutout = True
        if self.alpha_cutout:
            self.mask = a
            self.rgba = im.convert("RGBA")
            white = Image.new("RGBA", im.size, (255, 255, 255, 255))
            self.rgb = Image.alpha_composite(white, self.rgba).convert("RGB")
            self.mask_source = "alpha"
            self.mask_ok = True
            self.area = float((a > 0.5).mean())
            self.decisive = 1.0
        else:
            self.rgb = im.convert("RGB")
            m = u2.saliency(self.rgb)
            self.area = float((m > 0.5).mean())
            self.decisive = float(np.abs(2 * m - 1).mean())
            self.mask_ok = MASK_AREA[0] < self.area < MASK_AREA[1] and self.decisive > MASK_DECISIVE
            self.mask_source = "u2netp"
            soft = np.clip((m - 0.35) / 0.3, 0, 1)
            self.mask = m
            self.rgba = self.rgb.copy()
            self.rgba.putalpha(Image.fromarray((soft * 255).astype(np.uint8)))
        if not self.mask_ok or self.area <= 0:
            # a poor mask still has to say roughly where the product is (for `crop`): a central blob
            h, w = self.mask.shape
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            self.mask = np.exp(-(((xx / w - 0.5) / 0.3) ** 2 + ((yy / h - 0.5) / 0.3) ** 2)).astype(np.float32)

    def cutout(self) -> Image.Image:
        """The product as a tight RGBA crop."""
        a = np.asarray(self.rgba.getchannel("A"))
        ys, xs = np.nonzero(a > 127)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        return self.rgba.crop((int(x0), int(y0), int(x1), int(y1)))


# ---------------------------------------------------------------------------------------------
# transforms: each takes and returns (image, mask) plus a dict of the parameters drawn


def r3(x: float) -> float:
    return round(float(x), 3)


def frame_size(rng) -> tuple[int, int]:
    aspect = [(4, 3), (3, 4), (1, 1), (16, 9), (9, 16)][rng.choice(5, p=[0.3, 0.35, 0.15, 0.1, 0.1])]
    s = WORK / max(aspect)
    return round(aspect[0] * s), round(aspect[1] * s)


def paste(src: Source, rng, photos: backgrounds.Photos, studio: bool,
          angle: float | None = None) -> tuple[Image.Image, np.ndarray, dict]:
    w, h = frame_size(rng)
    if studio:
        bg, kind = backgrounds.studio(rng, w, h), "studio"
        scale = rng.uniform(0.55, 0.85)
    else:
        bg, kind = backgrounds.draw(rng, w, h, photos)
        scale = rng.uniform(0.45, 0.8)
    obj = src.cutout()
    if angle is not None:  # the product lies turned on the surface (the background stays level)
        obj = obj.rotate(angle, Image.BICUBIC, expand=True, fillcolor=(0, 0, 0, 0))
    s = scale * min(w, h) / max(obj.size)
    obj = obj.resize((max(1, round(obj.width * s)), max(1, round(obj.height * s))), Image.LANCZOS)
    x = int(rng.integers(0, max(1, w - obj.width + 1)))
    y = int(rng.integers(0, max(1, h - obj.height + 1)))
    alpha = np.zeros((h, w), np.float32)
    a = np.asarray(obj.getchannel("A"), np.float32) / 255.0
    alpha[y:y + obj.height, x:x + obj.width] = a[: h - y, : w - x]
    # soft shadow: the alpha, blurred, shifted down and sideways, darkening the background
    size = max(obj.size)
    dx, dy = rng.uniform(-0.04, 0.04) * size, rng.uniform(0.01, 0.05) * size
    opacity = rng.uniform(0.2, 0.5)
    sh = Image.fromarray((alpha * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.02, 0.05) * size))
    sh = sh.transform(sh.size, Image.AFFINE, (1, 0, -dx, 0, 1, -dy), Image.BILINEAR)
    base = np.asarray(bg, np.float32) * (1 - opacity * np.asarray(sh, np.float32)[..., None] / 255.0)
    scene = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    scene.alpha_composite(obj, (x, y))
    return scene.convert("RGB"), alpha, {
        "name": "backdrop" if studio else "paste", "background": kind, "frame": [w, h],
        "scale": r3(scale), "at": [x, y], "shadow_opacity": r3(opacity), "cutout": src.mask_source,
    }


def perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """PIL PERSPECTIVE coefficients mapping output points dst to input points src."""
    A, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(A, np.float64), np.array(b, np.float64))]


def perspective(img, mask, rng):
    w, h = img.size
    side = ["top", "bottom", "left", "right"][rng.integers(4)]
    k = rng.uniform(0.06, 0.2)
    jit = rng.uniform(0, 0.04, (4, 2))
    # input-space quad (inside the image, so the output has no empty areas): tl, tr, br, bl
    q = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64)
    inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float64)
    q += inward * jit
    if side == "top":
        q[0, 0] += k; q[1, 0] -= k
    elif side == "bottom":
        q[3, 0] += k; q[2, 0] -= k
    elif side == "left":
        q[0, 1] += k; q[3, 1] -= k
    else:
        q[1, 1] += k; q[2, 1] -= k
    srcq = [(float(x * w), float(y * h)) for x, y in q]
    c = perspective_coeffs([(0, 0), (w, 0), (w, h), (0, h)], srcq)
    out = img.transform((w, h), Image.PERSPECTIVE, c, Image.BICUBIC)
    m = Image.fromarray((mask * 255).astype(np.uint8)).transform((w, h), Image.PERSPECTIVE, c, Image.BILINEAR)
    return out, np.asarray(m, np.float32) / 255.0, {"name": "perspective", "tilt": side, "strength": r3(k),
                                                    "quad": [[r3(x), r3(y)] for x, y in q]}


def inner_rect(w: int, h: int, angle_deg: float) -> tuple[int, int]:
    """Largest axis-aligned rectangle inside a w x h rectangle rotated by angle (same centre)."""
    a = math.radians(abs(angle_deg)) % math.pi
    if a > math.pi / 2:
        a = math.pi - a
    sin_a, cos_a = math.sin(a), math.cos(a)
    long_side, short_side = (w, h) if w >= h else (h, w)
    if short_side <= 2 * sin_a * cos_a * long_side or abs(sin_a - cos_a) < 1e-10:
        x = 0.5 * short_side
        wr, hr = (x / sin_a, x / cos_a) if w >= h else (x / cos_a, x / sin_a)
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        wr, hr = (w * cos_a - h * sin_a) / cos_2a, (h * cos_a - w * sin_a) / cos_2a
    return int(wr), int(hr)


def rotate(img, mask, rng):
    angle = draw_angle(rng)
    w, h = img.size
    wr, hr = inner_rect(w, h, angle)
    box = ((w - wr) // 2, (h - hr) // 2, (w - wr) // 2 + wr, (h - hr) // 2 + hr)
    out = img.rotate(angle, Image.BICUBIC).crop(box)
    m = Image.fromarray((mask * 255).astype(np.uint8)).rotate(angle, Image.BILINEAR).crop(box)
    return out, np.asarray(m, np.float32) / 255.0, {"name": "rotate", "degrees": r3(angle), "of": "frame", "kept": [wr, hr]}


def crop(img, mask, rng):
    w, h = img.size
    total = float(mask.sum()) or 1.0
    integral = np.pad(mask.cumsum(0).cumsum(1), ((1, 0), (1, 0)))

    def mass(x0, y0, x1, y1):
        return float(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0])

    best = None
    for _ in range(80):
        area = rng.uniform(0.35, 0.8)
        ar = rng.uniform(0.75, 1.33)
        cw = int(min(w, max(16, math.sqrt(area * w * h * ar))))
        ch = int(min(h, max(16, area * w * h / cw)))
        x0 = int(rng.integers(0, w - cw + 1))
        y0 = int(rng.integers(0, h - ch + 1))
        kept = mass(x0, y0, x0 + cw, y0 + ch) / total
        if best is None or kept > best[0]:
            best = (kept, area, (x0, y0, x0 + cw, y0 + ch))
        if kept >= 0.7:
            best = (kept, area, (x0, y0, x0 + cw, y0 + ch))
            break
    kept, area, box = best
    return img.crop(box), mask[box[1]:box[3], box[0]:box[2]], {
        "name": "crop", "box": list(box), "area": r3((box[2] - box[0]) * (box[3] - box[1]) / (w * h)),
        "product_kept": r3(kept)}


def light(img, mask, rng):
    x = np.asarray(img, np.float32) / 255.0
    g = math.exp(rng.uniform(math.log(1.25), math.log(1.8))) ** (1 if rng.random() < 0.5 else -1)
    gain = rng.uniform(0.7, 1.25)
    t = rng.uniform(0.06, 0.22)
    cast = ["warm", "cool", "green", "magenta"][rng.choice(4, p=[0.4, 0.35, 0.15, 0.1])]
    mul = {"warm": (1 + t, 1.0, 1 - t), "cool": (1 - t, 1.0, 1 + t), "green": (1 - t / 2, 1 + t * 0.7, 1 - t / 2),
           "magenta": (1 + t / 2, 1 - t * 0.6, 1 + t / 2)}[cast]
    y = np.power(x, g) * gain * np.array(mul, np.float32)
    p = {"name": "light", "gamma": r3(g), "gain": r3(gain), "cast": cast, "cast_strength": r3(t)}
    if rng.random() < 0.5:
        h, w = mask.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        ramp = (math.cos(ang) * (xx / w - 0.5) + math.sin(ang) * (yy / h - 0.5)) + 0.5
        s = rng.uniform(0.2, 0.5)
        y *= (1 - s + 1.5 * s * np.clip(ramp, 0, 1))[..., None]
        p["side_light"] = {"degrees": r3(math.degrees(ang)), "strength": r3(s)}
    return Image.fromarray((np.clip(y, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB"), mask, p


def blur(img, mask, rng):
    scale = max(img.size) / WORK
    if rng.random() < 0.6:
        r = rng.uniform(1.5, 4.5) * scale
        return img.filter(ImageFilter.GaussianBlur(r)), mask, {"name": "blur", "kind": "gaussian", "radius": r3(r)}
    length = int(round(rng.uniform(9, 25) * scale))
    ang = rng.uniform(0, math.pi)
    x = np.asarray(img, np.float32)
    pad = length
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    acc = np.zeros_like(x)
    h, w = x.shape[:2]
    for i in range(length):
        d = i - (length - 1) / 2
        dx, dy = int(round(d * math.cos(ang))), int(round(d * math.sin(ang)))
        acc += xp[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
    out = Image.fromarray(np.clip(acc / length + 0.5, 0, 255).astype(np.uint8), "RGB")
    return out, mask, {"name": "blur", "kind": "motion", "length": length, "degrees": r3(math.degrees(ang))}


def noise(img, mask, rng):
    sigma = rng.uniform(3, 12)
    x = np.asarray(img, np.float32)
    lum = rng.normal(0, sigma, x.shape[:2]).astype(np.float32)[..., None]
    chroma = rng.normal(0, sigma / 2, x.shape).astype(np.float32)
    out = Image.fromarray(np.clip(x + lum + chroma + 0.5, 0, 255).astype(np.uint8), "RGB")
    return out, mask, {"name": "noise", "sigma": r3(sigma)}


def downscale(img, mask, rng):
    target = int(rng.integers(128, 321))
    s = target / max(img.size)
    if s >= 1:
        return img, mask, {"name": "downscale", "long_side": max(img.size)}
    size = (max(16, round(img.width * s)), max(16, round(img.height * s)))
    m = Image.fromarray((mask * 255).astype(np.uint8)).resize(size, Image.BILINEAR)
    return img.resize(size, Image.BILINEAR), np.asarray(m, np.float32) / 255.0, {"name": "downscale", "long_side": target}


STEPS = {"perspective": perspective, "rotate": rotate, "crop": crop, "light": light, "blur": blur,
         "noise": noise, "downscale": downscale}


# ---------------------------------------------------------------------------------------------
# plans and rendering


def plans(rng, n: int, can_paste: bool) -> list[list[str]]:
    pool = [t for t in TRANSFORMS if t != "paste" or can_paste]
    p = np.array([WEIGHTS[t] for t in pool], np.float64)
    p /= p.sum()
    out = []
    for i in range(n):
        k = 1 if i == 0 else int(rng.integers(2, 5))
        chosen = {"paste"} if (i == 1 and can_paste) else set()
        while len(chosen) < k:
            chosen.add(pool[rng.choice(len(pool), p=p)])
        out.append([t for t in TRANSFORMS if t in chosen])
    return out


GEOMETRY = ("perspective", "rotate", "crop")
MIN_KEPT = 0.6  # redraw the geometric steps when they leave less of the product than this


def draw_angle(rng) -> float:
    return float(rng.uniform(5, 30) * (1 if rng.random() < 0.5 else -1))


def render(src: Source, plan: list[str], rng, photos) -> tuple[Image.Image, int, list[dict]]:
    done = []
    if "paste" in plan or src.alpha_cutout:
        angle = draw_angle(rng) if "rotate" in plan else None
        img, mask, p = paste(src, rng, photos, studio="paste" not in plan, angle=angle)
        done.append(p)
        if angle is not None:
            done.append({"name": "rotate", "of": "product", "degrees": r3(angle)})
    else:
        img, mask = src.rgb, src.mask
    geometry = [n for n in plan if n in GEOMETRY and not (n == "rotate" and done and done[-1]["name"] == "rotate")]
    total = float(mask.sum()) or 1.0
    for attempt in range(1, 9):
        g_img, g_mask, g_done = img, mask, []
        for name in geometry:
            g_img, g_mask, p = STEPS[name](g_img, g_mask, rng)
            g_done.append(p)
        kept = float(g_mask.sum()) / total
        if kept >= MIN_KEPT or not geometry:
            break
    img, mask = g_img, g_mask
    done += g_done
    if geometry:
        done.append({"name": "geometry", "product_kept": r3(kept), "attempts": attempt})
    for name in plan:
        if name in STEPS and name not in GEOMETRY:
            img, mask, p = STEPS[name](img, mask, rng)
            done.append(p)
    quality = FINAL_JPEG_QUALITY
    if "jpeg" in plan:
        quality = int(rng.integers(12, 36))
        done.append({"name": "jpeg", "quality": quality})
    return img, quality, done


# ---------------------------------------------------------------------------------------------
# main


def inputs(seed: int) -> tuple[dict, str]:
    import onnxruntime
    import PIL

    doc = common.load_demo_products()
    images = {p["id"]: common.sha256_file(common.require(common.DEMO_SOURCES / "images" / p["image"]))
              for p in doc["products"]}
    bg_pkg = common.package("scikit-image")
    manifest = common.MODELS_DIR / "manifest.toml"
    fp = {
        "generator": common.code_fingerprint(Path(__file__), Path(common.__file__), Path(backgrounds.__file__)),
        "seed": seed,
        "products_json": common.sha256_file(common.DEMO_SOURCES / "products.json"),
        "images": images,
        "u2netp_manifest": common.sha256_file(manifest),
        "backgrounds": bg_pkg["sha256"],
        "libraries": {"numpy": np.__version__, "pillow": PIL.__version__, "onnxruntime": onnxruntime.__version__},
    }
    return doc, common.sha256_json(fp)


def build(seed: int, force: bool) -> dict:
    doc, fingerprint = inputs(seed)
    if not force:
        have = common.up_to_date(NAME, fingerprint)
        if have:
            common.log(f"{common.summary_line(have)}: up to date")
            return have
    t0 = time.monotonic()
    products = doc["products"]
    split = common.split_products(products, seed)
    u2 = common.U2Netp()
    photos = backgrounds.Photos()
    out = common.SetWriter(NAME)
    per_product = {}
    for i, prod in enumerate(sorted(products, key=lambda p: p["id"])):
        pid = prod["id"]
        rng = np.random.default_rng([seed, common.stable_int(pid)])
        src = Source(prod, common.DEMO_SOURCES / "images" / prod["image"], u2)
        n = 3 + int(rng.random() < 0.5)
        plist = plans(rng, n, src.mask_ok)
        per_product[pid] = {"mask": src.mask_source, "mask_area": round(src.area, 3),
                            "mask_decisive": round(src.decisive, 3), "paste_possible": src.mask_ok}
        for q, plan in enumerate(plist, start=1):
            img, quality, steps = render(src, plan, rng, photos)
            name = f"images/{pid}--q{q}.jpg"
            common.save_image(img, out.dir / name, quality=quality)
            out.add(name, pid, split[pid], category=prod["category"], source_image=common.rel(common.DEMO_SOURCES / "images" / prod["image"]),
                    transforms=plan, steps=steps, size=list(img.size))
        if (i + 1) % 10 == 0 or i + 1 == len(products):
            common.log(f"  photo: {i + 1}/{len(products)} products ({time.monotonic() - t0:.0f} s)")
    about = {
        "catalog": CATALOG,
        "catalog_products": common.rel(common.DEMO_SOURCES / "products.json"),
        "generator": "bench/queries/photo.py",
        "seed": seed,
        "split": {"by": "product", "stratified_by": "category", "tune_fraction": common.TUNE_FRACTION, "seed": seed},
        "inputs_sha256": fingerprint,
        "transforms": list(TRANSFORMS),
        "final_jpeg_quality": FINAL_JPEG_QUALITY,
        "u2netp_sha256": u2.sha256,
        "backgrounds": {"procedural": list(backgrounds.PROCEDURAL),
                        "photos": {k: {"member": backgrounds.PHOTO_MEMBERS[k], "sha256": v} for k, v in photos.sha256.items()},
                        "photos_from": photos.source},
        "counts": common.counts(out.rows, products),
        "products": per_product,
    }
    about["counts"]["transform_use"] = {t: sum(t in r["transforms"] for r in out.rows) for t in TRANSFORMS}
    res = out.commit(about)
    common.log(f"{common.summary_line(res)}: built in {res['build_seconds']} s")
    return res


def main() -> int:
    return common.cli(__doc__, DEFAULT_SEED, lambda a: build(a.seed, a.force))


if __name__ == "__main__":
    sys.exit(main())
