"""The search stages, one function each, written the straightforward way (Pillow + numpy).

Same algorithm as the engine's crates/engine/src/stages/*.rs; where the engine is clever for speed
this does the plain thing (whole-array numpy expressions, Python sorts). Constants that live only in
Rust code (not in the manifest or catalog.json) are copied here with the Rust file named.

Images travel between stages as numpy arrays: RGBA uint8 (H, W, 4), masks uint8 (H, W).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .models import resize, resize_image, round_half_away

F32_EPS = np.finfo(np.float32).eps  # Rust f32::EPSILON


# ---- decode (crates/engine/src/stages/decode.rs) -------------------------------------------------


@dataclass
class DecodeOptions:
    # crates/engine/src/stages/decode.rs `DecodeOptions::default()`
    max_pixels: int = 50_000_000
    working_max_side: int = 1024
    min_side: int = 16


def _rust_round_f64(x: float) -> int:
    f = math.floor(x)
    return int(f + 1 if x - f >= 0.5 else f)


def working_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Fits (width, height) inside a max_side square, aspect kept (crates/engine/src/models/resample.rs `fit`)."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return tuple(min(max(_rust_round_f64(s * scale), 1), max_side) for s in (width, height))


# EXIF orientation -> Pillow transpose (what ImageOps.exif_transpose applies)
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def is_cutout(alpha: np.ndarray) -> bool:
    """A real cut-out has a clearly transparent and a clearly opaque part (decode.rs `is_cutout`)."""
    total = max(alpha.size, 1)
    clear = int(np.count_nonzero(alpha <= 15))
    solid = int(np.count_nonzero(alpha >= 240))
    return clear * 50 >= total and solid * 50 >= total


def decode(data: bytes, opts: DecodeOptions = DecodeOptions()) -> tuple[np.ndarray, dict]:
    """bytes -> upright RGBA at most `working_max_side` on its longest side, plus image info."""
    if not data:
        raise ValueError("empty input")
    img = Image.open(io.BytesIO(data))
    fmt = img.format or "?"
    w, h = img.size  # from the header, before decoding
    if w * h > opts.max_pixels:
        raise ValueError(f"image is {w}x{h} = {w * h} pixels, over the limit {opts.max_pixels}")
    if min(w, h) < opts.min_side:
        raise ValueError(f"image is {w}x{h}, under the minimum side {opts.min_side}")
    orientation = int(img.getexif().get(0x0112, 1) or 1)
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    img.load()
    if img.mode.startswith("I;16") or img.mode == "I":
        # 16-bit greyscale: scale to 8 bits as the `image` crate's into_rgba8 does
        img = Image.fromarray(round_half_away(np.asarray(img, dtype=np.float32) / 257.0).astype(np.uint8), "L")
    img = img.convert("RGBA" if has_alpha else "RGB")
    # shrink to the working size (bilinear, as decode.rs), then turn upright (the engine's order)
    if max(img.size) > opts.working_max_side:
        img = resize_image(img, working_size(*img.size, opts.working_max_side), "bilinear")
    if orientation in _ORIENT:
        img = img.transpose(_ORIENT[orientation])
    rgba = np.asarray(img.convert("RGBA"))
    info = {
        "format": {"JPG": "JPEG"}.get(fmt, fmt),
        "width": rgba.shape[1],
        "height": rgba.shape[0],
        "exif_orientation": orientation,
        "alpha_cutout": bool(has_alpha and is_cutout(rgba[..., 3])),
    }
    return rgba, info


# ---- segment (crates/engine/src/stages/segment.rs) -----------------------------------------------


@dataclass
class SegmentOptions:
    # crates/engine/src/stages/segment.rs `SegmentOptions::default()`
    threshold: float = 0.5
    min_foreground: float = 0.01
    margin: float = 0.02


def threshold_u8(threshold: float) -> int:
    return int(max(round_half_away(np.float32(min(max(threshold, 0.0), 1.0)) * np.float32(255.0)), 1))


def saliency(model, rgba: np.ndarray) -> np.ndarray:
    """The segmenter's saliency output as a 0..255 mask at the image's size."""
    spec = next(o for o in model.spec["outputs"] if o["kind"] == "saliency")
    out = model.run(rgba)[spec["name"]]  # min-max normalised if the manifest says so
    mh, mw = spec["dims"][-2], spec["dims"][-1]
    small = round_half_away(np.clip(out, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8).reshape(mh, mw)
    # segment.rs resizes the mask back with Interpolation::Bilinear
    return resize(small, (rgba.shape[1], rgba.shape[0]), "bilinear")


def expand(box, margin: float, max_w: int, max_h: int) -> list[int]:
    x, y, w, h = box
    mx = int(round_half_away(np.float32(w) * np.float32(margin)))
    my = int(round_half_away(np.float32(h) * np.float32(margin)))
    nx, ny = max(x - mx, 0), max(y - my, 0)
    nx1, ny1 = min(x + w + mx, max_w), min(y + h + my, max_h)
    return [nx, ny, nx1 - nx, ny1 - ny]


def cut_out(rgba: np.ndarray, mask: np.ndarray, source: str, model_id, opts: SegmentOptions):
    """Threshold, tight box (+ margin), transparent background; an (almost) empty mask falls back."""
    cut = threshold_u8(opts.threshold)
    fg_pixels = mask >= cut
    fg = np.float32(np.count_nonzero(fg_pixels)) / np.float32(max(mask.size, 1))
    h, w = mask.shape
    ys, xs = np.nonzero(fg_pixels)
    info = {"source": source, "model": model_id, "foreground": float(fg)}
    if len(xs) and fg >= np.float32(opts.min_foreground):
        x0, y0 = int(xs.min()), int(ys.min())
        box = [x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1]
        x, y, bw, bh = expand(box, opts.margin, w, h)
        cutout = rgba[y : y + bh, x : x + bw].copy()
        cutout[..., 3][mask[y : y + bh, x : x + bw] < cut] = 0
        info.update(used="cutout", fallback_reason=None, bbox=[x, y, bw, bh])
    else:
        cutout = rgba.copy()
        cutout[..., 3] = 255
        reason = (
            f"mask covers {fg * 100:.1f}% of the image (minimum {opts.min_foreground * 100:.1f}%): "
            "searching the whole image"
        )
        info.update(used="fallback", fallback_reason=reason, bbox=[0, 0, w, h])
    return cutout, mask, info


def segment(rgba: np.ndarray, image_info: dict, model, opts: SegmentOptions = SegmentOptions()):
    """An image with its own alpha cut-out uses it; anything else gets the segmenter's mask."""
    if image_info["alpha_cutout"]:
        return cut_out(rgba, rgba[..., 3].copy(), "alpha", None, opts)
    return cut_out(rgba, saliency(model, rgba), "model", model.id, opts)


# ---- route (crates/engine/src/stages/route.rs) ---------------------------------------------------


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def class_table(classes: int, categories: list[dict]) -> np.ndarray:
    """(classes, categories): curated ids weigh 1, learned classes add their probability; each
    class's row is normalised, so a class two categories claim splits its mass between them."""
    t = np.zeros((classes, len(categories)), dtype=np.float32)
    for c, cat in enumerate(categories):
        for k in cat.get("imagenet_classes", []):
            if k < classes:
                t[k, c] = 1.0
    for c, cat in enumerate(categories):
        for k, wt in cat.get("learned_classes", []):
            if k < classes and math.isfinite(wt) and wt > 0:
                t[k, c] += np.float32(wt)
    sums = t.sum(axis=1, keepdims=True)
    return np.divide(t, sums, out=np.zeros_like(t), where=sums > 0)


def class_table_scores(table: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-category shares of the claimed probability mass, and the claimed mass."""
    mass = softmax(logits) @ table
    total = mass.sum(dtype=np.float32)
    shares = mass / total if total > 0 else np.zeros_like(mass)
    return shares.astype(np.float32), float(total)


def prototype_scores(embedding: np.ndarray, prototypes: list[np.ndarray], temperature: float) -> np.ndarray:
    """Full profile router: softmax of cosines with the categories' text prototypes."""
    cos = np.array([np.dot(embedding, p) for p in prototypes], dtype=np.float32) * np.float32(temperature)
    return softmax(cos)


def decide(names: list[str], shares: np.ndarray, confidence: float, cfg: dict) -> dict:
    """Top-1; plus top-2 when its share clears `second_threshold`; everything when unsure."""
    order = sorted(range(len(shares)), key=lambda i: (-shares[i], i))
    if not order or np.float32(confidence) < np.float32(cfg["min_confidence"]):
        selected, reason = order, "unsure"
    elif len(order) > 1 and shares[order[1]] >= np.float32(cfg["second_threshold"]):
        selected, reason = order[:2], "top2"
    else:
        selected, reason = order[:1], "top1"
    return {
        "scores": [{"name": names[i], "score": float(shares[i])} for i in order],
        "selected": list(selected),
        "searched": [names[i] for i in selected],
        "reason": reason,
        "confidence": float(confidence),
    }


def overridden(route: dict, names: list[str], index: int) -> dict:
    return {**route, "selected": [index], "searched": [names[index]], "reason": "override"}


# ---- embed (crates/engine/src/stages/embed.rs) ---------------------------------------------------


def l2_normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norm = np.sqrt(np.dot(v, v))
    return v / norm if norm > F32_EPS else v.copy()


def embed(raw: np.ndarray) -> np.ndarray:
    return l2_normalize(raw)


# ---- retrieve (crates/engine/src/stages/retrieve.rs) ---------------------------------------------


def scan(matrix: np.ndarray, rows: range, query: np.ndarray) -> list[tuple[int, float]]:
    scores = matrix[rows.start : rows.stop] @ query
    return [(r, s) for r, s in zip(rows, scores)]


def moments(scored) -> tuple[float, float]:
    s = np.array([x[1] for x in scored], dtype=np.float32)
    if len(s) == 0:
        return 0.0, 0.0
    mean = s.mean()
    return float(mean), float(np.sqrt(((s - mean) ** 2).mean()))


def align(scored, frm, to):
    """Maps one expert's cosines onto another's mean and spread (no spread: left as is)."""
    if frm[1] <= 1e-6 or to[1] <= 1e-6:
        return scored
    return [(r, to[0] + (s - frm[0]) * (to[1] / frm[1])) for r, s in scored]


def top_k(scored, k: int):
    """The k best (row, score), best first; ties go to the lower row."""
    return sorted(scored, key=lambda x: (-x[1], x[0]))[:k]


# ---- texture (crates/engine/src/stages/texture.rs) -----------------------------------------------


def texture_descriptor(raw: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Normalised, centred on the catalog's mean descriptor, normalised again."""
    v = l2_normalize(raw)
    if len(center) == len(v):
        v = l2_normalize(v - center)
    return v


def texture_scores(query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return rows @ query


# ---- color (crates/engine/src/stages/color.rs) ---------------------------------------------------

# crates/engine/src/stages/color.rs: HUE_BINS, SAT_BINS, VAL_BINS, BLOCK_WEIGHTS, ALPHA_CUT
HUE_BINS, SAT_BINS, VAL_BINS = 18, 4, 4
COLOR_DIMS = HUE_BINS + SAT_BINS + VAL_BINS
BLOCK_WEIGHTS = (0.5, 0.25, 0.25)
ALPHA_CUT = 128


def rgb_to_hsv(rgb: np.ndarray):
    """(h in [0, 360), s, v) for an (n, 3) uint8 array, float32 (color.rs `rgb_to_hsv`)."""
    c = rgb.astype(np.float32) / np.float32(255.0)
    r, g, b = c[:, 0], c[:, 1], c[:, 2]
    mx, mn = c.max(axis=1), c.min(axis=1)
    delta = mx - mn
    h = np.zeros(len(c), dtype=np.float32)
    chromatic = delta > F32_EPS
    rm = chromatic & (mx == r)
    gm = chromatic & ~rm & (mx == g)
    bm = chromatic & ~rm & ~gm
    h[rm] = 60 * np.mod((g[rm] - b[rm]) / delta[rm], np.float32(6.0))
    h[gm] = 60 * ((b[gm] - r[gm]) / delta[gm] + 2)
    h[bm] = 60 * ((r[bm] - g[bm]) / delta[bm] + 4)
    s = np.zeros(len(c), dtype=np.float32)
    lit = mx > F32_EPS
    s[lit] = delta[lit] / mx[lit]
    return np.mod(h, np.float32(360.0)), s, mx


def color_signature(rgba: np.ndarray) -> np.ndarray:
    """18 hue bins (chroma-weighted, split between the two nearest centres) + 4 sat + 4 value,
    over the opaque pixels, divided by their count."""
    px = rgba.reshape(-1, 4)
    px = px[px[:, 3] >= ALPHA_CUT]
    sig = np.zeros(COLOR_DIMS, dtype=np.float32)
    if len(px) == 0:
        return sig
    h, s, v = rgb_to_hsv(px[:, :3])
    chroma = s * v
    pos = h / np.float32(360.0 / HUE_BINS) - np.float32(0.5)
    lo = np.floor(pos)
    frac = pos - lo
    lo = np.mod(lo.astype(np.int64), HUE_BINS)
    hi = (lo + 1) % HUE_BINS
    hue = np.bincount(lo, chroma * (1 - frac), HUE_BINS) + np.bincount(hi, chroma * frac, HUE_BINS)
    sat = np.bincount(np.minimum((s * SAT_BINS).astype(np.int64), SAT_BINS - 1), minlength=SAT_BINS)
    val = np.bincount(np.minimum((v * VAL_BINS).astype(np.int64), VAL_BINS - 1), minlength=VAL_BINS)
    sig[:] = np.concatenate([hue, sat, val])
    return sig / np.float32(len(px))


def color_scores(query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Weighted histogram intersection per block, the missing hue mass as an achromatic bin."""
    hs, ss = HUE_BINS, HUE_BINS + SAT_BINS
    qh, rh = query[:hs], rows[:, :hs]
    achromatic = np.minimum(np.maximum(1 - qh.sum(), 0), np.maximum(1 - rh.sum(axis=1), 0))
    hue = np.minimum(qh, rh).sum(axis=1) + achromatic
    sat = np.minimum(query[hs:ss], rows[:, hs:ss]).sum(axis=1)
    val = np.minimum(query[ss:], rows[:, ss:]).sum(axis=1)
    w = BLOCK_WEIGHTS
    return np.clip(w[0] * hue + w[1] * sat + w[2] * val, 0.0, 1.0).astype(np.float32)


# ---- rerank (crates/engine/src/stages/rerank.rs) -------------------------------------------------


def blend(weights: dict, semantic, texture, color):
    f = np.float32
    return f(weights["semantic"]) * f(semantic) + f(weights["texture"]) * f(texture) + f(weights["color"]) * f(color)


def rerank(candidates: list[dict], weights: dict, k: int) -> list[dict]:
    """final = a*semantic + b*texture + c*colour, re-sorted (ties: semantic, then catalog order), top-k."""
    for c in candidates:
        c["score"] = blend(weights, c["semantic"], c["texture"], c["color"])
    return sorted(candidates, key=lambda c: (-c["score"], -c["semantic"], c["row"]))[:k]
