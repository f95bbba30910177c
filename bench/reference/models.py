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

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

MANIFEST_FILE = "manifest.toml"  # crates/engine/src/models/manifest.rs MANIFEST_FILE
PENDING_CHECKSUM = "PENDING"

# manifest `interpolation` -> Pillow filter. The engine maps the same names onto the Rust `image`
# crate's filters (crates/engine/src/models/preprocess.rs `filter`): bilinear -> Triangle,
# bicubic -> CatmullRom (Pillow's BICUBIC is the same a = -0.5 kernel), lanczos3 -> Lanczos3.
# Same kernels, different arithmetic: Pillow resizes 8-bit images in fixed point, horizontal pass
# first, rounding to 8 bits between passes; `image` runs vertical first in f32. Pixels may differ by 1.
PIL_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos3": Image.Resampling.LANCZOS,
}


# How images are resized. "pillow" (the default, what the race times) is the straightforward way:
# `Image.resize`. "exact" is a diagnostic for `race.py --check --exact-resize`: a numpy transcription
# of the Rust `image` crate's resampler (imageops/sample.rs: vertical pass first, f32 accumulation in
# tap order, weights normalised per output pixel, straight alpha, round half away from zero), to
# show that the remaining differences come from resampling and JPEG decoding, not from the algorithm.
RESAMPLE = {"mode": "pillow"}


def set_resample(mode: str) -> None:
    if mode not in ("pillow", "exact"):
        raise ValueError(f"resample mode `{mode}`: pillow or exact")
    RESAMPLE["mode"] = mode


def _kernel(interpolation: str):
    f = np.float32
    if interpolation == "bilinear":
        return (lambda x: np.where(np.abs(x) < 1, 1 - np.abs(x), f(0))), 1.0
    if interpolation == "lanczos3":

        def sinc(t):
            a = t * f(np.pi)
            return np.where(t == 0, f(1), np.sin(a) / np.where(t == 0, f(1), a))

        return (lambda x: np.where(np.abs(x) < 3, sinc(x) * sinc(x / f(3)), f(0))), 3.0
    if interpolation == "bicubic":  # Catmull-Rom: bc_cubic_spline(x, 0, 0.5)

        def cubic(x, b=f(0), c=f(0.5)):
            a = np.abs(x)
            k = np.where(
                a < 1,
                (12 - 9 * b - 6 * c) * a**3 + (-18 + 12 * b + 6 * c) * a**2 + (6 - 2 * b),
                np.where(a < 2, (-b - 6 * c) * a**3 + (6 * b + 30 * c) * a**2 + (-12 * b - 48 * c) * a + (8 * b + 24 * c), f(0)),
            )
            return k / f(6)

        return cubic, 2.0
    if interpolation == "nearest":
        return (lambda x: np.ones_like(x)), 0.0
    raise ValueError(f"unknown interpolation `{interpolation}`")


def _taps(n_in: int, n_out: int, interpolation: str):
    """Per output pixel: source indices and normalised weights, padded to one width (weight 0)."""
    kernel, support = _kernel(interpolation)
    f = np.float32
    ratio = f(n_in) / f(n_out)
    sratio = max(ratio, f(1))
    src_support = f(support) * sratio
    idx, wts = [], []
    for o in range(n_out):
        x = (f(o) + f(0.5)) * ratio
        left = min(max(int(np.floor(x - src_support)), 0), n_in - 1)
        right = min(max(int(np.ceil(x + src_support)), left + 1), n_in)
        i = np.arange(left, right)
        w = kernel((i.astype(f) - (x - f(0.5))) / sratio).astype(f)
        s = f(0)
        for v in w:  # sequential f32 sum, as the Rust loop
            s = f(s + v)
        idx.append(i)
        wts.append(w / s)
    k = max(len(i) for i in idx)
    I = np.zeros((n_out, k), dtype=np.int64)
    W = np.zeros((n_out, k), dtype=f)
    for o, (i, w) in enumerate(zip(idx, wts)):
        I[o, : len(i)], I[o, len(i) :] = i, i[-1]
        W[o, : len(w)] = w
    return I, W


def _resize_exact(arr: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    w, h = size
    if (arr.shape[1], arr.shape[0]) == (w, h):
        return arr.copy()
    src = arr.astype(np.float32)
    I, W = _taps(arr.shape[0], h, interpolation)
    tmp = np.zeros((h,) + src.shape[1:], dtype=np.float32)
    for k in range(I.shape[1]):  # vertical first, f32 intermediate, taps in order
        tmp = tmp + W[:, k].reshape((-1,) + (1,) * (src.ndim - 1)) * src[I[:, k]]
    I, W = _taps(arr.shape[1], w, interpolation)
    out = np.zeros((h, w) + src.shape[2:], dtype=np.float32)
    for k in range(I.shape[1]):
        out = out + W[:, k].reshape((1, -1) + (1,) * (src.ndim - 2)) * tmp[:, I[:, k]]
    return round_half_away(np.clip(out, 0, 255)).astype(np.uint8)


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
