"""Backgrounds for pasted products (bench/queries/photo.py): procedural textures and photos.

Every background is drawn from a seeded numpy Generator, so the same seed gives the same pixels.
Photo backgrounds come from the scikit-image wheel pinned in scripts/checksums.toml (package id
`scikit-image`, the one tests/fixtures/ is taken from): three texture photos (brick, grass,
gravel: CC0, grey, tinted here) and one scene (SpaceX's rocket launch pad, public domain), cropped
and thrown out of focus.
No catalog product is ever used as a background.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

import common

# members of the scikit-image wheel used as backgrounds
PHOTO_MEMBERS = {
    "brick": "skimage/data/brick.png",
    "grass": "skimage/data/grass.png",
    "gravel": "skimage/data/gravel.png",
    "rocket": "skimage/data/rocket.jpg",
}
TEXTURE_PHOTOS = ("brick", "grass", "gravel")
SCENE_PHOTOS = ("rocket",)
PROCEDURAL = ("wood", "fabric", "wall", "tiles", "marble", "concrete", "bokeh")
# how often each kind is drawn (procedural textures are the bulk; photos add real-camera texture)
KINDS = {"wood": 3, "fabric": 2, "wall": 3, "tiles": 2, "marble": 2, "concrete": 2, "bokeh": 2,
         "brick": 1, "grass": 1, "gravel": 1, "rocket": 1}


class Photos:
    """The background photos, read once from the pinned, sha256-checked scikit-image wheel."""

    def __init__(self):
        pkg, archive = common.ensure_package("scikit-image")
        wanted = set(PHOTO_MEMBERS.values())
        data = common.read_members(archive, lambda n: n in wanted)
        missing = wanted - set(data)
        if missing:
            raise common.QueryError(f"{archive.name} lacks {sorted(missing)}")
        self.source = f"PyPI {pkg['spec']} ({pkg['archive']}, sha256 {pkg['sha256']})"
        self.sha256 = {k: common.sha256_bytes(data[m]) for k, m in PHOTO_MEMBERS.items()}
        self.images = {k: Image.open(io.BytesIO(data[m])).convert("RGB") for k, m in PHOTO_MEMBERS.items()}


def _norm(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / max(hi - lo, 1e-6)


def fractal_noise(rng: np.random.Generator, h: int, w: int, base: int = 3, octaves: int = 5,
                  persistence: float = 0.55, stretch: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Value noise in [0, 1]: bicubic-upsampled random grids, summed over octaves."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        gh = max(2, int(base * (2 ** o) * stretch[0] * h / max(h, w)) + 2)
        gw = max(2, int(base * (2 ** o) * stretch[1] * w / max(h, w)) + 2)
        grid = rng.random((gh, gw), dtype=np.float32)
        layer = np.asarray(Image.fromarray(grid, mode="F").resize((w, h), Image.BICUBIC), np.float32)
        out += amp * layer
        total += amp
        amp *= persistence
    return _norm(out / total)


def _rgb(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")


def _mix(c0, c1, t: np.ndarray) -> np.ndarray:
    c0 = np.asarray(c0, np.float32)
    c1 = np.asarray(c1, np.float32)
    return c0 + (c1 - c0) * t[..., None]


def _jitter(rng, c, amount=18):
    return tuple(float(np.clip(v + rng.uniform(-amount, amount), 0, 255)) for v in c)


def wood(rng, w, h):
    palettes = [((205, 165, 115), (150, 105, 65)), ((120, 80, 50), (70, 45, 28)),
                ((225, 200, 165), (180, 145, 105)), ((160, 110, 70), (105, 65, 40))]
    c0, c1 = palettes[rng.integers(len(palettes))]
    c0, c1 = _jitter(rng, c0), _jitter(rng, c1)
    vertical = rng.random() < 0.5
    H, W = (w, h) if vertical else (h, w)  # draw planks along x, transpose for vertical planks
    yy = np.arange(H, dtype=np.float32)[:, None] / H
    warp = fractal_noise(rng, H, W, base=2, octaves=3, stretch=(2.0, 0.3))
    grain = fractal_noise(rng, H, W, base=6, octaves=4, stretch=(8.0, 0.25))
    freq = rng.uniform(18, 40)
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * (yy * freq + warp * rng.uniform(1.5, 4.0)))
    t = 0.55 * rings ** 2 + 0.45 * grain
    planks = int(rng.integers(3, 7))
    edges = (np.arange(H) * planks // H)
    shade = rng.uniform(-0.12, 0.12, planks).astype(np.float32)[edges][:, None]
    t = np.clip(t + shade, 0, 1)
    img = _mix(c0, c1, t)
    seam = (np.diff(edges, prepend=edges[0]) != 0)
    img[seam | np.roll(seam, 1)] *= 0.55
    if vertical:
        img = img.transpose(1, 0, 2)
    return _rgb(img)


def fabric(rng, w, h):
    base = np.array(_jitter(rng, [(190, 180, 165), (90, 110, 140), (150, 60, 60), (70, 90, 70),
                                  (200, 200, 205), (60, 60, 65)][rng.integers(6)], 20), np.float32)
    period = rng.uniform(3.0, 7.0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    weave = 0.5 + 0.25 * np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
    slub = fractal_noise(rng, h, w, base=40, octaves=2, stretch=(0.2, 3.0))
    fine = rng.random((h, w), dtype=np.float32)
    folds = fractal_noise(rng, h, w, base=2, octaves=3)
    t = 0.35 * weave + 0.25 * slub + 0.15 * fine + 0.25 * folds
    return _rgb(base * (0.7 + 0.5 * t)[..., None])


def wall(rng, w, h):
    c0 = _jitter(rng, [(235, 232, 225), (215, 220, 228), (238, 225, 210), (200, 205, 200),
                       (180, 190, 205), (120, 125, 130)][rng.integers(6)], 12)
    c1 = tuple(v * rng.uniform(0.75, 0.95) for v in c0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    ramp = _norm(np.cos(ang) * xx / w + np.sin(ang) * yy / h)
    blotch = fractal_noise(rng, h, w, base=2, octaves=4)
    t = np.clip(0.8 * ramp + 0.2 * blotch, 0, 1)
    img = _mix(c0, c1, t)
    r = np.hypot(xx / w - 0.5, yy / h - 0.5) / 0.71
    img *= (1 - rng.uniform(0.1, 0.35) * r ** 2)[..., None]
    img += rng.normal(0, 1.5, img.shape).astype(np.float32)
    return _rgb(img)


def tiles(rng, w, h):
    size = int(rng.uniform(0.08, 0.22) * max(w, h))
    c0 = np.array(_jitter(rng, [(230, 230, 228), (60, 60, 65), (200, 190, 175), (120, 150, 170),
                                (170, 90, 70)][rng.integers(5)], 15), np.float32)
    checker = rng.random() < 0.35
    c1 = c0 * rng.uniform(0.55, 0.8) if checker else c0
    grout = np.array(_jitter(rng, (150, 148, 140), 30), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    ox, oy = rng.integers(size), rng.integers(size)
    tx, ty = (xx + ox) // size, (yy + oy) // size
    img = np.where((((tx + ty) % 2) == 0)[..., None], c0, c1).astype(np.float32)
    tile_shade = rng.uniform(0.92, 1.06, (ty.max() + 1, tx.max() + 1)).astype(np.float32)
    img *= tile_shade[ty, tx][..., None]
    img *= (0.9 + 0.1 * fractal_noise(rng, h, w, base=8, octaves=3))[..., None]
    gw = max(2, size // 30)
    line = (((xx + ox) % size) < gw) | (((yy + oy) % size) < gw)
    img[line] = grout
    yy_f = yy.astype(np.float32) / h
    img *= (0.8 + 0.3 * yy_f)[..., None]  # light falls off towards the back
    return _rgb(img)


def marble(rng, w, h):
    base = np.array(_jitter(rng, [(238, 236, 232), (225, 225, 228), (60, 62, 66), (215, 205, 195)][rng.integers(4)], 8),
                    np.float32)
    vein_c = base * (0.45 if base.mean() > 128 else 1.9)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    turb = fractal_noise(rng, h, w, base=3, octaves=6, persistence=0.6)
    ang = rng.uniform(0, np.pi)
    v = np.abs(np.sin((np.cos(ang) * xx + np.sin(ang) * yy) / max(w, h) * rng.uniform(6, 14) + turb * rng.uniform(5, 9)))
    veins = (1 - v) ** rng.uniform(6, 14)
    cloud = fractal_noise(rng, h, w, base=4, octaves=4)
    t = np.clip(0.8 * veins + 0.15 * cloud, 0, 1)
    return _rgb(_mix(base, np.clip(vein_c, 0, 255), t))


def concrete(rng, w, h):
    g = rng.uniform(95, 185)
    tint = np.array([g, g * rng.uniform(0.96, 1.03), g * rng.uniform(0.94, 1.04)], np.float32)
    t = 0.6 * fractal_noise(rng, h, w, base=4, octaves=6, persistence=0.65) + 0.4 * rng.random((h, w), dtype=np.float32)
    img = tint * (0.75 + 0.45 * t)[..., None]
    pits = rng.random((h, w)) < 0.002
    img[pits] *= 0.5
    return _rgb(img)


def bokeh(rng, w, h):
    c0 = np.array(_jitter(rng, [(40, 45, 60), (70, 60, 50), (30, 50, 40), (90, 90, 100), (160, 150, 140)][rng.integers(5)], 20),
                  np.float32)
    c1 = c0 * rng.uniform(1.2, 1.8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = _mix(c0, np.clip(c1, 0, 255), _norm(yy / h + rng.uniform(-0.5, 0.5) * xx / w))
    layer = np.zeros((h, w, 3), np.float32)
    for _ in range(int(rng.integers(15, 45))):
        r = rng.uniform(0.015, 0.07) * max(w, h)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        col = np.array([rng.uniform(150, 255), rng.uniform(120, 240), rng.uniform(80, 220)], np.float32)
        disc = np.clip(r - np.hypot(xx - cx, yy - cy), 0, 1.5) / 1.5
        layer += disc[..., None] * col * rng.uniform(0.15, 0.45)
    img = img + layer
    return _rgb(img).filter(ImageFilter.GaussianBlur(rng.uniform(2, 5)))


def _cover(img: Image.Image, rng, w, h, zoom=(1.0, 2.0)) -> Image.Image:
    """A random crop of img, scaled to cover (w, h)."""
    z = rng.uniform(*zoom)
    scale = max(w / img.width, h / img.height) * z
    big = img.resize((max(w, int(img.width * scale + 0.5)), max(h, int(img.height * scale + 0.5))), Image.BICUBIC)
    x = int(rng.integers(0, big.width - w + 1))
    y = int(rng.integers(0, big.height - h + 1))
    return big.crop((x, y, x + w, y + h))


def texture_photo(rng, w, h, photo: Image.Image):
    cropped = _cover(photo.convert("L").convert("RGB"), rng, w, h, zoom=(1.0, 1.6))
    t = np.asarray(cropped.convert("L"), np.float32) / 255.0
    tint = np.array(_jitter(rng, [(200, 120, 90), (120, 170, 90), (190, 185, 175), (150, 140, 130)][rng.integers(4)], 25),
                    np.float32)
    img = tint * (0.35 + 0.9 * t)[..., None]
    return _rgb(img)


def scene_photo(rng, w, h, photo: Image.Image):
    crop = _cover(photo, rng, w, h, zoom=(1.3, 3.0))
    return crop.filter(ImageFilter.GaussianBlur(rng.uniform(6, 14) * max(w, h) / 1024))


def draw(rng: np.random.Generator, w: int, h: int, photos: Photos, kind: str | None = None) -> tuple[Image.Image, str]:
    """A background of size (w, h): (image, kind)."""
    if kind is None:
        names = list(KINDS)
        p = np.array([KINDS[k] for k in names], np.float64)
        kind = names[rng.choice(len(names), p=p / p.sum())]
    if kind in PROCEDURAL:
        return globals()[kind](rng, w, h), kind
    if kind in TEXTURE_PHOTOS:
        return texture_photo(rng, w, h, photos.images[kind]), kind
    if kind in SCENE_PHOTOS:
        return scene_photo(rng, w, h, photos.images[kind]), kind
    raise ValueError(kind)


def studio(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A plain, evenly lit backdrop (light grey/white/beige sweep) for products that come as cut-outs."""
    g = rng.uniform(205, 248)
    c0 = (g, g * rng.uniform(0.97, 1.02), g * rng.uniform(0.94, 1.02))
    c1 = tuple(v * rng.uniform(0.8, 0.95) for v in c0)
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32) / h
    t = np.clip((yy - 0.2) / 0.8, 0, 1) ** 1.5
    img = _mix(c0, c1, t)
    img += rng.normal(0, 1.2, img.shape).astype(np.float32)
    return _rgb(img)
