"""Models, read from the same `models/manifest.toml` the engine reads, run the plain way.

- the manifest is parsed with `tomllib`; every model's preprocessing comes from its `input` table
  (resize mode, interpolation, scale, mean/std, background) and its outputs from `outputs`, so a
  manifest that points a model at another file (an INT8 export, say) is followed automatically;
- each file's sha256 is checked against the manifest before it loads (as the engine does);
- one `onnxruntime.InferenceSession` per model with **default** `SessionOptions` (the way rembg and
  most CLIP search tools create theirs): no thread, arena or optimisation settings of our own;
- preprocessing with Pillow (resize) and numpy (compositing, scaling, NCHW).

Mirrors crates/engine/src/models/{manifest.rs,preprocess.rs,runtime.rs}.
"""

from __future__ import annotations

import functools
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

MANIFEST_FILE = "manifest.toml"  # crates/engine/src/models/manifest.rs MANIFEST_FILE
PENDING_CHECKSUM = "PENDING"

# manifest `interpolation` -> Pillow filter. The engine resizes with fast_image_resize
# (crates/engine/src/models/resample.rs): bilinear -> Bilinear, bicubic -> CatmullRom (Pillow's
# BICUBIC is the same a = -0.5 kernel), lanczos3 -> Lanczos3. Same kernels and, like Pillow, 8-bit
# fixed point with premultiplied RGBA, but Pillow runs the horizontal pass first and fast_image_resize
# the vertical one (each rounds to 8 bits in between) and their coefficient precisions differ, so a
# pixel may differ by a level.
PIL_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos3": Image.Resampling.LANCZOS,
}


# How images are resized. "pillow" (the default, what the race times) is the straightforward way:
# `Image.resize`. "exact" is a diagnostic for `race.py --check --exact-resize`: a numpy transcription
# of the engine's resampler (crates/engine/src/models/resample.rs: fast_image_resize 6.1
# `ResizeAlg::Convolution`; 8-bit fixed point with i16 coefficients, vertical pass first, RGBA
# premultiplied with its mul_div_255 / reciprocal-alpha rounding), to show that what remains between
# the two sides comes from JPEG decoding (libjpeg-turbo vs zune-jpeg), not from the algorithm.
RESAMPLE = {"mode": "pillow"}


def set_resample(mode: str) -> None:
    if mode not in ("pillow", "exact"):
        raise ValueError(f"resample mode `{mode}`: pillow or exact")
    RESAMPLE["mode"] = mode


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x *= math.pi
    return math.sin(x) / x


# fast_image_resize 6.1 src/convolution/filters.rs: (filter, support)
_FILTERS = {
    "bilinear": (lambda x: 1.0 - abs(x) if abs(x) < 1.0 else 0.0, 1.0),
    "bicubic": (
        lambda x: ((1.5 * abs(x) - 2.5) * abs(x) * abs(x) + 1.0)
        if abs(x) < 1.0
        else ((((abs(x) - 5.0) * abs(x) + 8.0) * abs(x) - 4.0) * -0.5 if abs(x) < 2.0 else 0.0),
        2.0,
    ),
    "lanczos3": (lambda x: _sinc(x) * _sinc(x / 3.0) if -3.0 <= x < 3.0 else 0.0, 3.0),
}


def _round_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


@functools.lru_cache(maxsize=64)
def _coefficients(in_size: int, out_size: int, interpolation: str):
    """fast_image_resize `precompute_coefficients` + `Normalizer16`: per output pixel a start index
    and i16 weights (padded to one width with zeros), and the fixed-point precision."""
    f, support = _FILTERS[interpolation]
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    radius = support * filter_scale
    recip = 1.0 / filter_scale
    starts, chunks = [], []
    for out_x in range(out_size):
        in_center = (out_x + 0.5) * scale
        x_min = int(max(math.floor(in_center - radius), 0.0))
        x_max = int(min(math.ceil(in_center + radius), float(in_size)))
        center = in_center - 0.5
        start, coeffs, ww = x_min, [], 0.0
        for x in range(x_min, x_max):
            w = f((x - center) * recip)
            if x == start and w == 0.0:
                start += 1  # no zero coefficients at the start of the bound
            else:
                coeffs.append(w)
                ww += w
        end = x_max
        for c in reversed(coeffs):
            if end <= start or c != 0.0:
                break
            end -= 1
        if ww != 0.0:
            coeffs = [c / ww for c in coeffs]
        starts.append(start)
        chunks.append(coeffs[: end - start])
    max_weight = max((c for ch in chunks for c in ch), default=0.0)
    precision = 0
    for p in range(32 - 8 - 2):
        precision = p
        if _round_away(max_weight * (1 << (p + 1))) >= (1 << 15):
            break
    width = max(len(ch) for ch in chunks)
    k = np.zeros((out_size, width), dtype=np.int64)
    for o, ch in enumerate(chunks):
        k[o, : len(ch)] = [_round_away(c * (1 << precision)) for c in ch]
    return np.asarray(starts, dtype=np.int64), k, precision


def _convolve(arr: np.ndarray, axis: int, out_size: int, interpolation: str) -> np.ndarray:
    starts, k, precision = _coefficients(arr.shape[axis], out_size, interpolation)
    shape = [1] * arr.ndim
    shape[axis] = out_size
    acc = np.full(arr.shape[:axis] + (out_size,) + arr.shape[axis + 1 :], 1 << (precision - 1), dtype=np.int64)
    src = arr.astype(np.int64)
    for j in range(k.shape[1]):
        idx = np.minimum(starts + j, arr.shape[axis] - 1)  # padded taps have weight 0
        acc += np.take(src, idx, axis=axis) * k[:, j].reshape(shape)
    return np.clip(acc >> precision, 0, 255).astype(np.uint8)


def _resize_exact(arr: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    w, h = size
    if (arr.shape[1], arr.shape[0]) == (w, h):
        return arr.copy()
    if interpolation == "nearest":  # not used by any manifest entry; Pillow's is close enough here
        return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.NEAREST))
    rgba = arr.ndim == 3 and arr.shape[2] == 4
    img = arr
    if rgba:  # premultiply: mul_div_255 (fast_image_resize src/alpha/common.rs)
        a = arr[..., 3:4].astype(np.uint32)
        t = arr[..., :3].astype(np.uint32) * a + 128
        img = np.concatenate([((t >> 8) + t) >> 8, a], axis=2).astype(np.uint8)
    if h != arr.shape[0]:
        img = _convolve(img, 0, h, interpolation)  # u8 images: vertical pass first
    if w != arr.shape[1]:
        img = _convolve(img, 1, w, interpolation)
    if rgba:  # divide by alpha with the reciprocal table (PRECISION 8)
        a = img[..., 3].astype(np.uint32)
        recip = np.where(a > 0, ((255 * (1 << 9)) // np.maximum(a, 1) + 1) >> 1, 0)[..., None]
        img = img.copy()
        img[..., :3] = np.minimum((img[..., :3].astype(np.uint32) * recip + 128) >> 8, 255).astype(np.uint8)
    return img


def resize(arr: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    """Resizes an (H, W) or (H, W, C) uint8 array to size = (width, height)."""
    if RESAMPLE["mode"] == "exact":
        return _resize_exact(arr, size, interpolation)
    mode = "L" if arr.ndim == 2 else {3: "RGB", 4: "RGBA"}[arr.shape[2]]
    return np.asarray(Image.fromarray(arr, mode).resize(size, PIL_FILTERS[interpolation]))


def resize_image(img: Image.Image, size: tuple[int, int], interpolation: str) -> Image.Image:
    """`resize` for a Pillow image (no array round trip on the default path)."""
    if RESAMPLE["mode"] == "exact":
        return Image.fromarray(_resize_exact(np.asarray(img), size, interpolation), img.mode)
    return img.resize(size, PIL_FILTERS[interpolation])


def round_half_away(x) -> np.ndarray:
    """Rust's `f32::round` (half away from zero) for non-negative float32 values, exactly.

    Python's `round` and `np.round` round half to even; `floor(x + 0.5)` can round up in float32.
    """
    x = np.asarray(x, dtype=np.float32)
    f = np.floor(x)
    return np.where(x - f >= np.float32(0.5), f + 1, f)


def rust_round(x: float) -> int:
    """`(x as f32).round() as u32` for a non-negative value."""
    return int(round_half_away(np.float32(x)))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Manifest:
    dir: Path
    data: dict

    @property
    def models(self) -> dict:
        return self.data["models"]

    def profile(self, name: str) -> dict:
        try:
            return self.data["profiles"][name]
        except KeyError:
            known = ", ".join(self.data["profiles"])
            raise KeyError(f"no profile `{name}` in the manifest (known: {known})") from None

    def output_spec(self, model: str, output: str) -> dict | None:
        for o in self.models.get(model, {}).get("outputs", []):
            if o["name"] == output:
                return o
        return None


def load_manifest(models_dir: str | Path) -> Manifest:
    d = Path(models_dir)
    with open(d / MANIFEST_FILE, "rb") as f:
        data = tomllib.load(f)
    if data.get("version") != 1:
        raise ValueError(f"{d / MANIFEST_FILE}: unsupported manifest version {data.get('version')}")
    return Manifest(dir=d, data=data)


# ---- preprocessing (crates/engine/src/models/preprocess.rs) ------------------------------------


def composite(rgba: np.ndarray, background) -> np.ndarray:
    """Transparent pixels take the background colour: (c*a + bg*(255-a) + 127) / 255, integer maths."""
    a = rgba[..., 3:4].astype(np.uint32)
    c = rgba[..., :3].astype(np.uint32)
    bg = np.asarray(background, dtype=np.uint32)
    return ((c * a + bg * (255 - a) + 127) // 255).astype(np.uint8)


def resize_for(rgb: np.ndarray, spec: dict) -> np.ndarray:
    """The exact pixels the model sees: `spec["resize"]` of the composited image."""
    w, h = spec["width"], spec["height"]
    interp = spec["interpolation"]
    ih, iw = rgb.shape[:2]
    mode = spec["resize"]
    if mode == "stretch":
        return resize(rgb, (w, h), interp)
    if mode == "shorter_side_then_center_crop":
        shorter = max(spec.get("resize_shorter") or max(w, h), max(w, h))
        scale = np.float32(shorter) / np.float32(max(min(iw, ih), 1))
        nw = max(rust_round(np.float32(iw) * scale), w)
        nh = max(rust_round(np.float32(ih) * scale), h)
        x0, y0 = (nw - w) // 2, (nh - h) // 2
        return resize(rgb, (nw, nh), interp)[y0 : y0 + h, x0 : x0 + w]
    if mode == "letterbox":
        scale = min(np.float32(w) / np.float32(max(iw, 1)), np.float32(h) / np.float32(max(ih, 1)))
        nw = min(max(rust_round(np.float32(iw) * scale), 1), w)
        nh = min(max(rust_round(np.float32(ih) * scale), 1), h)
        canvas = np.empty((h, w, 3), dtype=np.uint8)
        canvas[:] = spec["background"]
        x0, y0 = (w - nw) // 2, (h - nh) // 2
        canvas[y0 : y0 + nh, x0 : x0 + nw] = resize(rgb, (nw, nh), interp)
        return canvas
    raise ValueError(f"unknown resize mode `{mode}`")


def to_tensor(rgba: np.ndarray, spec: dict) -> np.ndarray:
    """composite -> resize -> scale -> mean/std -> [1, 3, H, W] float32."""
    rgb = resize_for(composite(rgba, spec["background"]), spec)
    if spec["scale"] == "unit":
        divisor = np.float32(255.0)
    elif spec["scale"] == "image_max":
        divisor = np.float32(max(int(rgb.max()), 1))
    else:
        raise ValueError(f"unknown scale `{spec['scale']}`")
    mean = np.asarray(spec["mean"], dtype=np.float32)
    std = np.asarray(spec["std"], dtype=np.float32)
    x = (rgb.astype(np.float32) / divisor - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


# ---- sessions (crates/engine/src/models/runtime.rs) ----------------------------------------------


@dataclass
class Model:
    id: str
    spec: dict
    path: Path
    sha256: str
    session: ort.InferenceSession
    output_names: list[str] = field(default_factory=list)

    def run(self, rgba: np.ndarray) -> dict[str, np.ndarray]:
        """Preprocesses as the manifest says, runs, returns every declared output (flattened)."""
        spec = self.spec["input"]
        outs = self.session.run(self.output_names, {spec["name"]: to_tensor(rgba, spec)})
        result = {}
        for o, value in zip(self.spec["outputs"], outs):
            if list(value.shape) != list(o["dims"]):
                raise ValueError(f"{self.id}: output `{o['name']}` has shape {value.shape}, manifest says {o['dims']}")
            data = value.astype(np.float32).reshape(-1)
            if o.get("normalize") == "min_max":
                lo, hi = data.min(), data.max()
                rng = hi - lo
                data = (data - lo) / rng if rng > np.finfo(np.float32).eps else np.zeros_like(data)
            result[o["name"]] = data
        return result


def load_model(manifest: Manifest, model_id: str) -> Model:
    spec = manifest.models[model_id]
    if spec.get("weights") == "random-init":
        raise ValueError(f"model `{model_id}` has random-init weights")
    path = manifest.dir / spec["file"]
    if not path.is_file():
        raise FileNotFoundError(f"model `{model_id}`: {path} is missing (run scripts/setup.sh)")
    actual = sha256_file(path)
    if spec["sha256"] == PENDING_CHECKSUM or actual.lower() != spec["sha256"].lower():
        raise ValueError(f"model `{model_id}`: {path} has sha256 {actual}, the manifest says {spec['sha256']}")
    # Default options, on purpose: this is the straightforward way (see bench/README.md).
    session = ort.InferenceSession(str(path), ort.SessionOptions(), providers=["CPUExecutionProvider"])
    graph_in = [i.name for i in session.get_inputs()]
    if spec["input"]["name"] not in graph_in:
        raise ValueError(f"model `{model_id}`: input `{spec['input']['name']}` not in the graph {graph_in}")
    graph_out = {o.name for o in session.get_outputs()}
    names = [o["name"] for o in spec["outputs"]]
    missing = [n for n in names if n not in graph_out]
    if missing:
        raise ValueError(f"model `{model_id}`: outputs {missing} not in the graph")
    return Model(id=model_id, spec=spec, path=path, sha256=actual, session=session, output_names=names)
