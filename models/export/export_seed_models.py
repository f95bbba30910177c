#!/usr/bin/env python3
"""Export the seed pipeline's models (the `full` profile) to ONNX + INT8 for the Lookalike engine.

  model id              what                                         ONNX I/O (float32 unless noted)
  siglip2               google/siglip2-base-patch16-224 image tower  pixel_values [N,3,224,224] -> image_embeds [N,768] (L2-normalised)
  siglip2_text          its text tower (router prototypes)           input_ids int64 [N,64]     -> text_embeds  [N,768] (L2-normalised)
  fashion_siglip        Marqo/marqo-fashionSigLIP image tower        pixel_values [N,3,224,224] -> image_embeds [N,768] (L2-normalised)
                        (open_clip ViT-B-16-SigLIP)
  fashion_siglip_text   its text tower                               input_ids int64 [N,64]     -> text_embeds  [N,768] (L2-normalised)
  dinov2_small          facebook/dinov2-small (ViT-S/14) at 224      pixel_values [N,3,224,224] -> cls [N,384] (CLS token after the
                        (16x16 patches)                                                            final LayerNorm, not normalised)

Steps, per model: torch.onnx.export(dynamo=False, opset 17, dynamic batch axis N) -> torch vs ONNX
Runtime check -> quant_pre_process (symbolic shape step skipped: RESOURCES.md found it failing on SigLIP) -> three INT8
candidates: dynamic QInt8 per-tensor, dynamic QInt8 per-channel, static QDQ per-channel (QInt8
symmetric activations / QInt8 weights, MinMax calibrated on real product photos, or on real prompts for the
text towers) -> each measured against FP32 (cosine over every real image / prompt, mean and min;
nearest-neighbour agreement), p50 latency (ONNX Runtime, 2 threads, batch 1) and file size -> the
candidate kept as <id>_int8.onnx is, among those with mean cosine >= 0.995 (the spec's "< 0.5 % loss"),
the most exact one within 15 % of the fastest best-of-N latency (best-of-N because the p50 swings with
other processes' load on a shared VM; dynamic per-tensor and per-channel run the same kernels).

Preprocessing is read from each model's own processor / transform (transformers image processor
config; open_clip's preprocess transform) and mapped to the manifest's `input` fields; nothing is
retyped. Tokenizers are saved as Hugging Face `tokenizer.json` files with truncation and fixed
padding to 64 (and any text cleaning the model expects) baked in, so `Tokenizer::from_file` +
`encode` in the Rust `tokenizers` crate gives the model's input_ids directly; the script checks
that file against the model's own Python tokenizer on probe prompts.

Writes (default out dir models/full/, or models/random-init/ with --random-init):
  <out>/siglip2_image_int8.onnx, siglip2_text_int8.onnx, fashion_siglip_image_int8.onnx,
  fashion_siglip_text_int8.onnx, dinov2_small_int8.onnx, siglip2_tokenizer.json,
  fashion_siglip_tokenizer.json (+ the SentencePiece model files where the hub has them),
  <out>/export_report.json and export_report.md (every measurement),
  models/export/full_manifest.toml: [models.*] entries for models/manifest.toml (paths relative to models/).

Modes:
  (default)        needs the Hugging Face hub: downloads the three pretrained checkpoints.
  --random-init    no network at all (HF_HUB_OFFLINE=1 and a socket guard that refuses every
                   connection): builds each architecture from its config with random weights
                   (real config from the local HF cache if it is there, else the published config
                   values embedded below), runs the same export, quantization and report, and
                   marks every entry weights = "random-init". Tokenizers: the real ones from the
                   local HF cache if present, else the byte-level STUB tokenizers of
                   models/generated/make_test_graphs.py (marked tokenizer_kind = "byte-level-stub").

Usage:
  /work/venv-export/bin/pip install -r models/export/requirements-seed.txt
  /work/venv-export/bin/python models/export/export_seed_models.py                 # hub -> models/full/
  /work/venv-export/bin/python models/export/export_seed_models.py --random-init   # offline -> models/random-init/
  options: --out DIR, --manifest-out FILE, --only siglip2,fashion_siglip,dinov2_small,
           --keep-fp32 (also keep <id>_fp32.onnx), --keep-work (keep every candidate), --runs N (latency runs)
torch from PyPI is the ~5.5 GB CUDA build (only the CPU is used): NOT part of CI.
"""

import argparse
import gc
import importlib.util
import json
import os
import platform
import shutil
import string
import sys
import time

from export_common import NetworkGuard, ort_session, sha256_file

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS_DIR = os.path.join(REPO, "models")
IMAGE_DIRS = [os.path.join(REPO, ".cache", "demo-sources", "images"), os.path.join(REPO, "tests", "fixtures")]
PRODUCTS_JSON = os.path.join(REPO, ".cache", "demo-sources", "products.json")
GENERATED = os.path.join(MODELS_DIR, "generated", "make_test_graphs.py")

OPSET = 17
TEXT_LEN = 64
SIZE = 224
COS_TARGET = 0.995  # spec: INT8 loses < 0.5 % cosine similarity against FP32
TIE_BAND = 0.15  # candidates this close to the fastest count as equally fast (latency noise on a shared 2-core VM)
BACKGROUND = [255, 255, 255]  # engine's choice: what the removed background is composited onto
FAMILIES = ("siglip2", "fashion_siglip", "dinov2_small")

HUB = {
    "siglip2": "google/siglip2-base-patch16-224",
    "fashion_siglip": "Marqo/marqo-fashionSigLIP",
    "dinov2_small": "facebook/dinov2-small",
}
LICENSE = {"siglip2": "Apache-2.0", "fashion_siglip": "Apache-2.0", "dinov2_small": "Apache-2.0"}

# Published hub files, copied here ONLY for --random-init when the real file is not in the local HF cache.
# google/siglip2-base-patch16-224: config.json (model_type "siglip": the FixRes SigLIP2 checkpoints use the
# SigLIP architecture; Gemma vocabulary of 256000) and preprocessor_config.json.
KNOWN_SIGLIP2_CONFIG = {
    "model_type": "siglip",
    "text_config": {"vocab_size": 256000, "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                    "num_hidden_layers": 12, "max_position_embeddings": 64, "hidden_act": "gelu_pytorch_tanh",
                    "layer_norm_eps": 1e-6, "projection_size": 768, "pad_token_id": 0, "eos_token_id": 1,
                    "bos_token_id": 2},
    "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                      "num_hidden_layers": 12, "image_size": 224, "patch_size": 16, "num_channels": 3,
                      "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6},
}
KNOWN_SIGLIP2_PREPROCESSOR = {
    "image_processor_type": "SiglipImageProcessor", "do_resize": True, "size": {"height": 224, "width": 224},
    "resample": 2, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
}
# facebook/dinov2-small: config.json and preprocessor_config.json.
KNOWN_DINOV2_CONFIG = {
    "model_type": "dinov2", "hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6, "mlp_ratio": 4,
    "patch_size": 14, "image_size": 518, "num_channels": 3, "hidden_act": "gelu", "layer_norm_eps": 1e-6,
    "layerscale_value": 1.0, "qkv_bias": True, "use_swiglu_ffn": False, "drop_path_rate": 0.0,
    "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02,
}
KNOWN_DINOV2_PREPROCESSOR = {
    "image_processor_type": "BitImageProcessor", "do_resize": True, "size": {"shortest_edge": 256}, "resample": 3,
    "do_center_crop": True, "crop_size": {"height": 224, "width": 224}, "do_rescale": True,
    "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.485, 0.456, 0.406],
    "image_std": [0.229, 0.224, 0.225], "do_convert_rgb": True,
}
# Marqo-FashionSigLIP was fine-tuned from open_clip ViT-B-16-SigLIP (webli): random-init uses open_clip's own
# built-in model config and pretrained config for that base (shipped in the open_clip package).
OPEN_CLIP_BASE = ("ViT-B-16-SigLIP", "webli")

PROBE_TEXTS = [
    "a photo of a dress", "A Photo of a DRESS!", "a_photo  of   a  running-shoe, (size 42)", "Café crème & co.",
    "red polo shirt", "a photo of " + "very " * 80 + "long sneakers",
]


def log(msg=""):
    print(msg, flush=True)


def load_generated_module():
    spec = importlib.util.spec_from_file_location("make_test_graphs", GENERATED)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------- preprocessing: config -> manifest input
def interp_name(v):
    """transformers resample (int / PILImageResampling) or torchvision InterpolationMode -> manifest name."""
    if hasattr(v, "value"):
        v = v.value
    pil = {0: "nearest", 1: "lanczos3", 2: "bilinear", 3: "bicubic"}
    tv = {"nearest": "nearest", "nearest-exact": "nearest", "bilinear": "bilinear", "bicubic": "bicubic",
          "lanczos": "lanczos3"}
    if isinstance(v, int) and v in pil:
        return pil[v]
    if isinstance(v, str) and v.lower() in tv:
        return tv[v.lower()]
    raise ValueError(f"interpolation {v!r} has no manifest equivalent (nearest|bilinear|bicubic|lanczos3)")


def _floats(xs):
    return [float(x) for x in xs]


def _dim(d, key):
    if d is None:
        return None
    if isinstance(d, dict):
        return d.get(key)
    return getattr(d, key, None)


def input_from_hf_processor(proc_dict, input_name="pixel_values"):
    """transformers image processor config dict (to_dict()) -> manifest input table."""
    d = proc_dict
    if not d.get("do_rescale", True) or abs(float(d.get("rescale_factor", 1 / 255)) - 1 / 255) > 1e-9:
        raise ValueError(f"unsupported rescale {d.get('do_rescale')} {d.get('rescale_factor')} (manifest: scale=unit)")
    spec = {"name": input_name}
    size = d.get("size")
    h, w, short = _dim(size, "height"), _dim(size, "width"), _dim(size, "shortest_edge")
    crop = d.get("crop_size") if d.get("do_center_crop") else None
    if not d.get("do_resize", True):
        raise ValueError("processor does not resize: the manifest needs a fixed input size")
    if h and w and not crop:
        spec.update(width=int(w), height=int(h), resize="stretch")
    elif short and crop:
        spec.update(width=int(_dim(crop, "width")), height=int(_dim(crop, "height")),
                    resize="shorter_side_then_center_crop", resize_shorter=int(short))
    else:
        raise ValueError(f"processor resize {size} / crop {crop} has no manifest equivalent")
    spec["interpolation"] = interp_name(d.get("resample"))
    spec["scale"] = "unit"
    if d.get("do_normalize", True):
        spec["mean"], spec["std"] = _floats(d["image_mean"]), _floats(d["image_std"])
    else:
        spec["mean"], spec["std"] = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    spec["background"] = list(BACKGROUND)
    return spec


def input_from_open_clip_transform(transform, input_name="pixel_values"):
    """open_clip's eval transform (torchvision Compose) -> manifest input table."""
    import torchvision.transforms as T

    spec = {"name": input_name}
    resize = crop = None
    steps = []
    for t in transform.transforms:
        cls = type(t).__name__
        steps.append(cls if cls != "function" else getattr(t, "__name__", "function"))
        if isinstance(t, T.Resize):
            resize = ("fixed" if isinstance(t.size, (tuple, list)) and len(t.size) == 2 else "shorter", t.size,
                      t.interpolation)
        elif cls == "ResizeKeepRatio":
            resize = ("letterbox" if getattr(t, "longest", 0) else "shorter", t.max_size if hasattr(t, "max_size")
                      else getattr(t, "size", None), t.interpolation)
        elif isinstance(t, T.CenterCrop) or cls == "CenterCropOrPad":
            crop = t.size
        elif isinstance(t, T.ToTensor):
            spec["scale"] = "unit"
        elif isinstance(t, T.Normalize):
            spec["mean"], spec["std"] = _floats(t.mean), _floats(t.std)
        elif cls == "MaybeConvertMode" or getattr(t, "__name__", "") == "_convert_to_rgb":
            pass  # PIL convert("RGB"): the engine composites alpha onto `background` instead
        else:
            raise ValueError(f"open_clip transform step {t!r} has no manifest equivalent")
    if resize is None or "scale" not in spec or "mean" not in spec:
        raise ValueError(f"open_clip transform {steps} lacks a resize / ToTensor / Normalize")
    kind, size, interp = resize
    spec["interpolation"] = interp_name(interp)
    if kind == "fixed":
        h, w = int(size[0]), int(size[1])
        if crop is not None:
            ch, cw = (crop, crop) if isinstance(crop, int) else (int(crop[0]), int(crop[1]))
            if (ch, cw) != (h, w):
                raise ValueError(f"fixed resize {size} then crop {crop}: no manifest equivalent")
        spec.update(width=w, height=h, resize="stretch")
    elif kind == "shorter":
        s = int(size[0] if isinstance(size, (tuple, list)) else size)
        ch, cw = (crop, crop) if isinstance(crop, int) else (int(crop[0]), int(crop[1]))
        spec.update(width=cw, height=ch, resize="shorter_side_then_center_crop", resize_shorter=s)
    else:
        s = size if isinstance(size, (tuple, list)) else (size, size)
        spec.update(width=int(s[1]), height=int(s[0]), resize="letterbox")
    spec["background"] = list(BACKGROUND)
    order = ["name", "width", "height", "resize", "resize_shorter", "interpolation", "scale", "mean", "std",
             "background"]
    return {k: spec[k] for k in order if k in spec}, steps


def preprocess_like_engine(path, spec):
    """The manifest-driven preprocessing of crates/engine/src/models/preprocess.rs, in PIL/numpy:
    composite alpha onto `background`, resize (stretch | shorter side + centre crop | letterbox), x/255, mean/std."""
    import numpy as np
    from PIL import Image

    filt = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
            "lanczos3": Image.LANCZOS}[spec["interpolation"]]
    img = Image.open(path)
    img.load()
    rgba = img.convert("RGBA")
    bg = Image.new("RGBA", rgba.size, tuple(spec["background"]) + (255,))
    rgb = Image.alpha_composite(bg, rgba).convert("RGB")
    w, h = spec["width"], spec["height"]
    if spec["resize"] == "stretch":
        out = rgb.resize((w, h), filt)
    elif spec["resize"] == "shorter_side_then_center_crop":
        shorter = max(spec["resize_shorter"], w, h)
        scale = shorter / max(1, min(rgb.width, rgb.height))
        nw, nh = max(w, round(rgb.width * scale)), max(h, round(rgb.height * scale))
        r = rgb.resize((nw, nh), filt)
        left, top = (nw - w) // 2, (nh - h) // 2
        out = r.crop((left, top, left + w, top + h))
    else:
        scale = min(w / rgb.width, h / rgb.height)
        nw, nh = min(w, max(1, round(rgb.width * scale))), min(h, max(1, round(rgb.height * scale)))
        out = Image.new("RGB", (w, h), tuple(spec["background"]))
        out.paste(rgb.resize((nw, nh), filt), ((w - nw) // 2, (h - nh) // 2))
    x = np.asarray(out, dtype=np.float32) / 255.0
    x = (x - np.array(spec["mean"], np.float32)) / np.array(spec["std"], np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


# ---------------------------------------------------------------- tokenizers
def canonicalize_normalizers():
    """open_clip's canonicalize_text as `tokenizers` normalizers: "_" -> " ", drop string.punctuation,
    lowercase, collapse whitespace, strip. (basic_clean's ftfy.fix_text / html.unescape are not
    reproduced: they are the identity on ordinary prompts.)"""
    from tokenizers import Regex, normalizers

    punct = "".join("\\" + ch if ch in "\\[]^-" else ch for ch in string.punctuation)
    return [normalizers.Replace("_", " "), normalizers.Replace(Regex(f"[{punct}]"), ""), normalizers.Lowercase(),
            normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip()]


def bake_tokenizer(src_json, dst_json, *, pad_id, pad_token, lowercase=False, canonicalize=False, padding_side="right",
                   truncation_side="right"):
    """Rewrite a tokenizer.json with fixed-length padding/truncation (and cleaning) baked in, on the sides the
    model's own tokenizer uses."""
    from tokenizers import Tokenizer, normalizers

    tok = Tokenizer.from_file(src_json)
    extra = canonicalize_normalizers() if canonicalize else ([normalizers.Lowercase()] if lowercase else [])
    if extra:
        tok.normalizer = normalizers.Sequence(extra + ([tok.normalizer] if tok.normalizer is not None else []))
    tok.enable_truncation(max_length=TEXT_LEN, direction=truncation_side)
    tok.enable_padding(direction=padding_side, pad_id=pad_id, pad_token=pad_token, length=TEXT_LEN)
    tok.save(dst_json, pretty=True)


def save_tokenizer_json(hf_tokenizer, tmp_dir):
    """tokenizer.json of a transformers tokenizer; slow SentencePiece ones are converted (SiglipTokenizer has no
    converter of its own: its SentencePiece model is converted as is, plus the EOS it appends). The caller checks
    the result against the Python tokenizer."""
    hf_tokenizer.save_pretrained(tmp_dir)
    path = os.path.join(tmp_dir, "tokenizer.json")
    if not os.path.exists(path):
        from transformers.convert_slow_tokenizer import SLOW_TO_FAST_CONVERTERS, convert_slow_tokenizer

        name = type(hf_tokenizer).__name__
        if name in SLOW_TO_FAST_CONVERTERS:
            tok = convert_slow_tokenizer(hf_tokenizer)
        else:
            from tokenizers import processors
            from transformers.convert_slow_tokenizer import SpmConverter

            class EosSpmConverter(SpmConverter):  # SentencePiece vocabulary as is, one EOS appended (T5 / SigLIP)
                def post_processor(self):
                    eos = hf_tokenizer.eos_token
                    return processors.TemplateProcessing(
                        single=["$A", eos], pair=["$A", eos, "$B", eos],
                        special_tokens=[(eos, hf_tokenizer.convert_tokens_to_ids(eos))])

            log(f"  note: no converter for {name}: SentencePiece model converted as is, with EOS appended")
            tok = EosSpmConverter(hf_tokenizer).converted()
        tok.save(path)
    return path


def encode_file(path, texts):
    import numpy as np
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    ids = np.array([e.ids for e in tok.encode_batch(texts)], dtype=np.int64)
    assert ids.shape == (len(texts), TEXT_LEN), ids.shape
    return ids


def compare_tokenizer(path, reference_fn, label):
    """tokenizer.json alone vs the model's own Python tokenizer on probe prompts."""
    import numpy as np

    got = encode_file(path, PROBE_TEXTS)
    ref = np.asarray(reference_fn(PROBE_TEXTS), dtype=np.int64)
    same = got.shape == ref.shape and bool((got == ref).all())
    if same:
        log(f"  {label}: {os.path.basename(path)} reproduces the reference tokenizer on {len(PROBE_TEXTS)} probe "
            f"prompts (e.g. {PROBE_TEXTS[1]!r} -> {got[1][:12].tolist()}...)")
    else:
        bad = [i for i in range(len(PROBE_TEXTS)) if got.shape != ref.shape or (got[i] != ref[i]).any()]
        log(f"  WARNING {label}: {os.path.basename(path)} differs from the reference tokenizer on {bad}:")
        for i in bad[:3]:
            log(f"    {PROBE_TEXTS[i]!r}\n      file {got[i][:20].tolist()}\n      ref  {ref[i][:20].tolist()}")
    return same


def hf_cached(repo, filename):
    """Path of `filename` of `repo` in the local HF cache, or None (never downloads)."""
    try:
        from huggingface_hub import hf_hub_download

        return hf_hub_download(repo, filename, local_files_only=True)
    except Exception:
        return None


# ---------------------------------------------------------------- model families
class Tower:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def build_siglip2(args, out_dir, gen):
    import torch
    import transformers
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer, SiglipConfig, SiglipModel

    repo = HUB["siglip2"]
    notes = []
    if args.random_init:
        cfg_path = hf_cached(repo, "config.json")
        if cfg_path:
            config = AutoConfig.from_pretrained(os.path.dirname(cfg_path))
            notes.append(f"architecture: {repo} config.json from the local HF cache")
        else:
            config = SiglipConfig(text_config=KNOWN_SIGLIP2_CONFIG["text_config"],
                                  vision_config=KNOWN_SIGLIP2_CONFIG["vision_config"])
            notes.append(f"architecture: published {repo} config values embedded in this script (hub unreachable)")
        config._attn_implementation = "eager"
        torch.manual_seed(0)
        model = SiglipModel(config).eval()
        pp_path = hf_cached(repo, "preprocessor_config.json")
        if pp_path:
            proc = AutoImageProcessor.from_pretrained(os.path.dirname(pp_path))
            prep_src = f"{repo} preprocessor_config.json from the local HF cache"
        else:
            cls = getattr(transformers, KNOWN_SIGLIP2_PREPROCESSOR["image_processor_type"])
            proc = cls.from_dict({k: v for k, v in KNOWN_SIGLIP2_PREPROCESSOR.items() if k != "image_processor_type"})
            prep_src = (f"published {repo} preprocessor_config.json values embedded in this script (hub unreachable), "
                        f"loaded into transformers {cls.__name__}")
    else:
        model = SiglipModel.from_pretrained(repo, attn_implementation="eager").eval()
        proc = AutoImageProcessor.from_pretrained(repo)
        prep_src = f"{repo} preprocessor_config.json ({type(proc).__name__})"
        notes.append(f"weights: {repo}")
    proc_dict = json.loads(proc.to_json_string())
    spec = input_from_hf_processor(proc_dict)

    # tokenizer
    tok_path = os.path.join(out_dir, "siglip2_tokenizer.json")
    tok_info = {}
    tokenizer = None
    try:
        tokenizer = AutoTokenizer.from_pretrained(repo, local_files_only=args.random_init)
    except Exception as e:
        if not args.random_init:
            raise
        notes.append(f"tokenizer: {repo} not in the local HF cache ({type(e).__name__})")
    if tokenizer is not None:
        src = save_tokenizer_json(tokenizer, os.path.join(args.work, "siglip2_tokenizer_src"))
        from tokenizers import Tokenizer as _Tok

        probe = _Tok.from_file(src)
        lower_needed = probe.encode("A PHOTO").ids != probe.encode("a photo").ids
        bake_tokenizer(src, tok_path, pad_id=tokenizer.pad_token_id,
                       pad_token=tokenizer.pad_token, lowercase=lower_needed, padding_side=tokenizer.padding_side,
                       truncation_side=tokenizer.truncation_side)
        if tokenizer.padding_side != "right":
            log(f"  WARNING: {repo} tokenizer pads on the {tokenizer.padding_side}; SigLIP pools the LAST position "
                f"and big_vision trained with right padding: check the model card before trusting this")
        extra_files = copy_spm_files(repo, out_dir, "siglip2", args.random_init)

        def ref(texts):
            # SigLIP2 was trained on lowercased text (transformers Siglip2Tokenizer lowercases; the Gemma
            # tokenizer shipped with the FixRes checkpoints may not): reference = lowercase + processor call.
            return tokenizer([t.lower() for t in texts], padding="max_length", max_length=TEXT_LEN,
                             truncation=True)["input_ids"]

        matches = compare_tokenizer(tok_path, ref, "siglip2 tokenizer")
        tok_info = dict(kind=f"huggingface-tokenizers ({type(tokenizer).__name__}, SentencePiece-derived Gemma BPE)",
                        pad_id=int(tokenizer.pad_token_id), eos_id=int(tokenizer.eos_token_id),
                        padding_side=tokenizer.padding_side,
                        lowercase_added=bool(lower_needed), matches_reference=matches, extra_files=extra_files,
                        clean="lowercase")
    else:
        gen.write_stub_tokenizer("siglip2", tok_path)
        info = gen.stub_info("siglip2")
        ref = lambda texts: [gen.reference_stub_encode("siglip2", t) for t in texts]  # noqa: E731
        matches = compare_tokenizer(tok_path, ref, "siglip2 STUB tokenizer")
        tok_info = dict(kind="byte-level-stub", pad_id=info["pad_id"], eos_id=info["eos_id"], lowercase_added=True,
                        padding_side="right", matches_reference=matches, extra_files=[], clean="lowercase")
        notes.append("tokenizer: byte-level STUB (models/generated/make_test_graphs.py), not the Gemma vocabulary")

    weights = "random-init" if args.random_init else "pretrained"
    what = (f"{repo} architecture (transformers SiglipModel from config, RANDOM weights)" if args.random_init
            else f"{repo} (transformers SiglipModel)")
    scale = float(model.logit_scale.detach().exp().item())
    bias = float(model.logit_bias.detach().item())

    class ImageTower(torch.nn.Module):
        def __init__(self, vm):
            super().__init__()
            self.vision_model = vm

        def forward(self, pixel_values):
            pooled = self.vision_model(pixel_values=pixel_values).pooler_output
            return pooled / pooled.norm(p=2, dim=-1, keepdim=True)

    class TextTower(torch.nn.Module):
        def __init__(self, tm):
            super().__init__()
            self.text_model = tm

        def forward(self, input_ids):
            pooled = self.text_model(input_ids=input_ids).pooler_output
            return pooled / pooled.norm(p=2, dim=-1, keepdim=True)

    img_notes = list(notes)
    head = getattr(model.vision_model, "head", None)
    if head is not None and isinstance(getattr(head, "attention", None), torch.nn.MultiheadAttention):
        x = torch.randn(2, 196, head.attention.embed_dim, generator=torch.Generator().manual_seed(0))
        p = head.probe.repeat(2, 1, 1)
        with torch.no_grad():
            want = head.attention(p, x, x)[0]
            head.attention = split_mha_for_export(head.attention)
            d = float((head.attention(p, x, x)[0] - want).abs().max())
        img_notes.append(f"attention-pooling head's nn.MultiheadAttention rewritten as separate q/k/v Linear layers "
                     f"before export (max diff {d:.1e}) so that its weights are quantized too")
        if d > 1e-4:
            raise SystemExit(f"split MultiheadAttention differs from the original by {d}")
    image = Tower(key="siglip2", stem="siglip2_image", kind="image", module=ImageTower(model.vision_model).eval(),
                  input_name="pixel_values", output_name="image_embeds", dim=model.config.vision_config.hidden_size,
                  out_kind="embedding", input_spec=spec, prep_src=prep_src, prep_dict=proc_dict,
                  reference_pixels=lambda img: proc(images=img, return_tensors="np")["pixel_values"],
                  source=f"{what} image tower, exported and INT8-quantized by models/export/export_seed_models.py",
                  license=LICENSE["siglip2"], weights=weights, notes=img_notes)
    text = Tower(key="siglip2_text", stem="siglip2_text", kind="text", module=TextTower(model.text_model).eval(),
                 input_name="input_ids", output_name="text_embeds", dim=model.config.text_config.projection_size,
                 out_kind="embedding", tokenizer=tok_path, tok_info=tok_info, image_model="siglip2",
                 logit_scale=scale, logit_bias=bias,
                 source=f"{what} text tower, exported and INT8-quantized by models/export/export_seed_models.py",
                 license=LICENSE["siglip2"], weights=weights, notes=notes)
    return [image, text], model


def split_mha_for_export(mha):
    """nn.MultiheadAttention (batch_first) as three Linear layers + matmuls, numerically the same. Its packed
    in_proj_weight reaches the MatMuls through Slice/Transpose, which the INT8 quantizer cannot see through
    (7 MB left in FP32 in SigLIP's attention-pooling head); separate Linear weights are quantized."""
    import torch

    assert mha.batch_first and mha._qkv_same_embed_dim and mha.in_proj_bias is not None

    class SplitMHA(torch.nn.Module):
        def __init__(self):
            super().__init__()
            e = mha.embed_dim
            self.h, self.d = mha.num_heads, e // mha.num_heads
            self.q, self.k, self.v = (torch.nn.Linear(e, e) for _ in range(3))
            with torch.no_grad():
                for i, lin in enumerate((self.q, self.k, self.v)):
                    lin.weight.copy_(mha.in_proj_weight[i * e:(i + 1) * e])
                    lin.bias.copy_(mha.in_proj_bias[i * e:(i + 1) * e])
            self.out = torch.nn.Linear(e, e)
            with torch.no_grad():
                self.out.weight.copy_(mha.out_proj.weight)
                self.out.bias.copy_(mha.out_proj.bias)

        def forward(self, query, key, value):
            b, lq, e = query.shape
            lk = key.shape[1]
            q = self.q(query).reshape(b, lq, self.h, self.d).transpose(1, 2)
            k = self.k(key).reshape(b, lk, self.h, self.d).transpose(1, 2)
            v = self.v(value).reshape(b, lk, self.h, self.d).transpose(1, 2)
            a = torch.softmax((q @ k.transpose(-1, -2)) * (self.d ** -0.5), dim=-1)
            return self.out((a @ v).transpose(1, 2).reshape(b, lq, e)), None

    return SplitMHA().eval()


def copy_spm_files(repo, out_dir, stem, offline):
    """Copy the hub's SentencePiece model file(s) beside the tokenizer.json (reference; Rust uses tokenizer.json)."""
    got = []
    for name in ("tokenizer.model", "spiece.model"):
        path = hf_cached(repo, name)
        if path is None and not offline:
            try:
                from huggingface_hub import hf_hub_download

                path = hf_hub_download(repo, name)
            except Exception:
                path = None
        if path:
            dst = os.path.join(out_dir, f"{stem}_{name.replace('tokenizer.model', 'spiece.model')}")
            shutil.copyfile(path, dst)
            got.append(os.path.basename(dst))
            break
    return got


def build_fashion_siglip(args, out_dir, gen):
    import open_clip
    import torch

    repo = HUB["fashion_siglip"]
    notes = []
    tokenizer = None
    oc_cfg_path = hf_cached(repo, "open_clip_config.json") if args.random_init else None
    model_cfg = {}
    if args.random_init:
        if oc_cfg_path:
            # the real config is in the local HF cache: same model config and preprocess, no weights loaded
            with open(oc_cfg_path) as f:
                model_cfg = json.load(f)["model_cfg"]
            name = f"hf-hub:{repo}"
            torch.manual_seed(0)
            model, _, preprocess = open_clip.create_model_and_transforms(name, load_weights=False)
            notes.append(f"architecture: {repo} open_clip_config.json from the local HF cache")
            prep_src = f"{repo} open_clip_config.json preprocess_cfg (local HF cache) -> open_clip image_transform"
        else:
            name = OPEN_CLIP_BASE[0]
            model_cfg = open_clip.get_model_config(name)
            pp = open_clip.get_pretrained_cfg(*OPEN_CLIP_BASE)
            torch.manual_seed(0)
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, pretrained=None, image_mean=pp.get("mean"), image_std=pp.get("std"),
                image_interpolation=pp.get("interpolation"), image_resize_mode=pp.get("resize_mode"))
            notes.append(f"architecture: open_clip built-in {name} config (the base Marqo fine-tuned; hub unreachable)")
            prep_src = (f"open_clip built-in pretrained cfg {OPEN_CLIP_BASE[0]}/{OPEN_CLIP_BASE[1]} (mean/std/"
                        f"interpolation/resize_mode of the base Marqo fine-tuned; {repo} open_clip_config.json not "
                        f"loadable offline) -> open_clip image_transform")
        hf_tok_name = model_cfg.get("text_cfg", {}).get("hf_tokenizer_name")
        clean = model_cfg.get("text_cfg", {}).get("tokenizer_kwargs", {}).get("clean", "whitespace")
        try:
            tokenizer = open_clip.get_tokenizer(name)  # AutoTokenizer under HF_HUB_OFFLINE: local cache only
        except Exception as e:
            notes.append(f"tokenizer: {hf_tok_name} not in the local HF cache ({type(e).__name__})")
    else:
        model, _, preprocess = open_clip.create_model_and_transforms(f"hf-hub:{repo}")
        tokenizer = open_clip.get_tokenizer(f"hf-hub:{repo}")
        cfg_path = __import__("huggingface_hub").hf_hub_download(repo, "open_clip_config.json")
        with open(cfg_path) as f:
            model_cfg = json.load(f)["model_cfg"]
        hf_tok_name = model_cfg.get("text_cfg", {}).get("hf_tokenizer_name")
        clean = model_cfg.get("text_cfg", {}).get("tokenizer_kwargs", {}).get("clean", "whitespace")
        prep_src = f"{repo} open_clip preprocess (open_clip_config.json preprocess_cfg -> image_transform)"
        notes.append(f"weights: {repo}")
    model.eval()
    spec, steps = input_from_open_clip_transform(preprocess)
    prep_dict = {"transform": [repr(t) for t in preprocess.transforms]}
    context_len = int(model_cfg.get("text_cfg", {}).get("context_length", TEXT_LEN))
    if context_len != TEXT_LEN:
        raise SystemExit(f"fashion_siglip context_length {context_len} != {TEXT_LEN}")

    tok_path = os.path.join(out_dir, "fashion_siglip_tokenizer.json")
    if tokenizer is not None:
        hf = tokenizer.tokenizer
        if clean not in ("canonicalize", "lower", "whitespace"):
            raise SystemExit(f"unknown open_clip clean {clean!r}")
        src = save_tokenizer_json(hf, os.path.join(args.work, "fashion_tokenizer_src"))
        bake_tokenizer(src, tok_path, pad_id=hf.pad_token_id, pad_token=hf.pad_token,
                       lowercase=(clean == "lower"), canonicalize=(clean == "canonicalize"),
                       padding_side=hf.padding_side, truncation_side=hf.truncation_side)
        extra_files = copy_spm_files(hf_tok_name, out_dir, "fashion_siglip", args.random_init) if hf_tok_name else []
        matches = compare_tokenizer(tok_path, lambda texts: tokenizer(texts).numpy(), "fashion_siglip tokenizer")
        tok_info = dict(kind=f"huggingface-tokenizers ({type(hf).__name__}, {hf_tok_name})", pad_id=int(hf.pad_token_id),
                        padding_side=hf.padding_side,
                        eos_id=int(hf.eos_token_id), lowercase_added=clean != "whitespace", matches_reference=matches,
                        extra_files=extra_files, clean=clean)
    else:
        gen.write_stub_tokenizer("fashion_siglip", tok_path)
        info = gen.stub_info("fashion_siglip")
        clean_fn = open_clip.tokenizer.get_clean_fn(clean)
        s = gen.STUBS["fashion_siglip"]
        offset = len(s["specials"])

        def ref(texts):  # open_clip's own clean function, then the stub's byte ids
            out = []
            for t in texts:
                ids = [offset + b for b in clean_fn(t).encode("utf-8")][: TEXT_LEN - 1] + [info["eos_id"]]
                out.append(ids + [info["pad_id"]] * (TEXT_LEN - len(ids)))
            return out

        matches = compare_tokenizer(tok_path, ref, f"fashion_siglip STUB tokenizer (open_clip clean={clean!r})")
        tok_info = dict(kind="byte-level-stub", pad_id=info["pad_id"], eos_id=info["eos_id"], lowercase_added=True,
                        padding_side="right", matches_reference=matches, extra_files=[], clean=clean)
        notes.append("tokenizer: byte-level STUB (models/generated/make_test_graphs.py), not the SigLIP T5 vocabulary")

    weights = "random-init" if args.random_init else "pretrained"
    what = (f"{repo} architecture (open_clip {OPEN_CLIP_BASE[0]} from config, RANDOM weights)" if args.random_init
            else f"{repo} (open_clip {OPEN_CLIP_BASE[0]})")
    scale = float(model.logit_scale.detach().exp().item())
    bias = float(model.logit_bias.detach().item()) if getattr(model, "logit_bias", None) is not None else 0.0

    class ImageTower(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            return self.m.encode_image(pixel_values, normalize=True)

    class TextTower(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            return self.m.encode_text(input_ids, normalize=True)

    dim = int(model_cfg.get("embed_dim", 768))
    image = Tower(key="fashion_siglip", stem="fashion_siglip_image", kind="image", module=ImageTower(model).eval(),
                  input_name="pixel_values", output_name="image_embeds", dim=dim, out_kind="embedding",
                  input_spec=spec, prep_src=prep_src + f" [{', '.join(steps)}]", prep_dict=prep_dict,
                  reference_pixels=lambda img: preprocess(img).unsqueeze(0).numpy(),
                  source=f"{what} image tower, exported and INT8-quantized by models/export/export_seed_models.py",
                  license=LICENSE["fashion_siglip"], weights=weights, notes=notes)
    text = Tower(key="fashion_siglip_text", stem="fashion_siglip_text", kind="text", module=TextTower(model).eval(),
                 input_name="input_ids", output_name="text_embeds", dim=dim, out_kind="embedding",
                 tokenizer=tok_path, tok_info=tok_info, image_model="fashion_siglip", logit_scale=scale,
                 logit_bias=bias,
                 source=f"{what} text tower, exported and INT8-quantized by models/export/export_seed_models.py",
                 license=LICENSE["fashion_siglip"], weights=weights, notes=notes)
    return [image, text], model


def build_dinov2(args, out_dir, gen):
    import torch
    import transformers
    from transformers import AutoConfig, AutoImageProcessor, Dinov2Config, Dinov2Model

    repo = HUB["dinov2_small"]
    notes = []
    if args.random_init:
        cfg_path = hf_cached(repo, "config.json")
        if cfg_path:
            config = AutoConfig.from_pretrained(os.path.dirname(cfg_path))
            notes.append(f"architecture: {repo} config.json from the local HF cache")
        else:
            config = Dinov2Config(**{k: v for k, v in KNOWN_DINOV2_CONFIG.items() if k != "model_type"})
            notes.append(f"architecture: published {repo} config values embedded in this script (hub unreachable)")
        config._attn_implementation = "eager"
        torch.manual_seed(0)
        model = Dinov2Model(config).eval()
        pp_path = hf_cached(repo, "preprocessor_config.json")
        if pp_path:
            proc = AutoImageProcessor.from_pretrained(os.path.dirname(pp_path))
            prep_src = f"{repo} preprocessor_config.json from the local HF cache"
        else:
            cls = getattr(transformers, KNOWN_DINOV2_PREPROCESSOR["image_processor_type"])
            proc = cls.from_dict({k: v for k, v in KNOWN_DINOV2_PREPROCESSOR.items() if k != "image_processor_type"})
            prep_src = (f"published {repo} preprocessor_config.json values embedded in this script (hub unreachable), "
                        f"loaded into transformers {cls.__name__}")
    else:
        model = Dinov2Model.from_pretrained(repo, attn_implementation="eager").eval()
        proc = AutoImageProcessor.from_pretrained(repo)
        prep_src = f"{repo} preprocessor_config.json ({type(proc).__name__})"
        notes.append(f"weights: {repo}")
    proc_dict = json.loads(proc.to_json_string())
    spec = input_from_hf_processor(proc_dict)
    if (spec["width"], spec["height"]) != (SIZE, SIZE):
        raise SystemExit(f"dinov2 input {spec['width']}x{spec['height']}, expected {SIZE}")
    patch = model.config.patch_size
    notes.append(f"224 input = {SIZE // patch}x{SIZE // patch} patches of {patch}; position embeddings "
                 f"({model.config.image_size // patch}x{model.config.image_size // patch}) bicubic-interpolated once "
                 f"in torch (as transformers does at 224) and stored as a constant")

    class ClsTower(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            return self.m(pixel_values=pixel_values).pooler_output  # last_hidden_state[:, 0] after layernorm

    weights = "random-init" if args.random_init else "pretrained"
    what = (f"{repo} architecture (transformers Dinov2Model from config, RANDOM weights)" if args.random_init
            else f"{repo} (ViT-S/14)")
    tower = Tower(key="dinov2_small", stem="dinov2_small", kind="cls", module=ClsTower(model).eval(),
                  input_name="pixel_values", output_name="cls", dim=model.config.hidden_size, out_kind="texture",
                  input_spec=spec, prep_src=prep_src, prep_dict=proc_dict,
                  reference_pixels=lambda img: proc(images=img, return_tensors="np")["pixel_values"],
                  source=f"{what}, CLS token, exported and INT8-quantized by models/export/export_seed_models.py",
                  license=LICENSE["dinov2_small"], weights=weights, notes=notes, freeze_pos=True)
    return [tower], model


def freeze_dinov2_positions(model):
    """Replace the traced bicubic interpolation of the 37x37 position grid by its 224-px result (a constant)."""
    import torch

    emb = model.embeddings
    n = (SIZE // model.config.patch_size) ** 2
    with torch.no_grad():
        dummy = torch.zeros(1, n + 1, model.config.hidden_size)
        pos = emb.interpolate_pos_encoding(dummy, SIZE, SIZE).detach().clone()
    emb.interpolate_pos_encoding = lambda embeddings, height, width: pos.to(embeddings.dtype)


BUILDERS = {"siglip2": build_siglip2, "fashion_siglip": build_fashion_siglip, "dinov2_small": build_dinov2}


# ---------------------------------------------------------------- export / quantize / measure
def export_onnx(tower, path, example):
    import onnx
    import torch

    with torch.no_grad():
        torch.onnx.export(tower.module, (example,), path, dynamo=False, opset_version=OPSET, export_params=True,
                          do_constant_folding=True, input_names=[tower.input_name], output_names=[tower.output_name],
                          dynamic_axes={tower.input_name: {0: "N"}, tower.output_name: {0: "N"}})
    m = onnx.load(path)
    m.doc_string = ""
    m.producer_name = "pytorch"
    del m.metadata_props[:]
    for k, v in (("source", tower.source), ("weights", tower.weights),
                 ("outputs", f"{tower.output_name}[N,{tower.dim}]")):
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def run_each(path, name, inputs):
    """Batch-1 outputs for every input (dynamic quantization scales per batch: measure what the app runs)."""
    import numpy as np

    sess = ort_session(path)
    return np.concatenate([sess.run(None, {name: x})[0] for x in inputs], axis=0)


def latencies(paths, name, x, runs):
    """Batch-1 latency of every candidate on 2 threads, measured round-robin (one run of each candidate per
    round) so that load from other processes on this shared machine hits all candidates alike.
    Returns {label: (p50_ms, min_ms)}."""
    import numpy as np

    sessions = {k: ort_session(p) for k, p in paths.items()}
    for s in sessions.values():
        for _ in range(3):
            s.run(None, {name: x})
    ts = {k: [] for k in sessions}
    for _ in range(runs):
        for k, s in sessions.items():
            t = time.perf_counter()
            s.run(None, {name: x})
            ts[k].append((time.perf_counter() - t) * 1000)
    return {k: (float(np.median(v)), float(np.min(v))) for k, v in ts.items()}


def unit(a):
    import numpy as np

    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def compare(ref, got):
    import numpy as np

    r, g = unit(ref), unit(got)
    cos = (r * g).sum(axis=1)
    sr, sg = r @ r.T, g @ g.T
    np.fill_diagonal(sr, -np.inf)
    np.fill_diagonal(sg, -np.inf)
    nn_agree = float((sr.argmax(1) == sg.argmax(1)).mean())
    norms = np.linalg.norm(got, axis=1)
    broken = int((~np.isfinite(got).all(axis=1) | (norms < 1e-6)).sum())  # NaN / all-zero outputs
    return dict(cos_mean=float(np.nan_to_num(cos).mean()), cos_min=float(np.nan_to_num(cos).min()), nn_agree=nn_agree,
                broken_outputs=broken)


class ListReader:
    def __init__(self, name, inputs):
        self.items = iter([{name: x} for x in inputs])

    def get_next(self):
        return next(self.items, None)

    def rewind(self):
        raise NotImplementedError


def quantize_and_measure(tower, fp32, work, eval_inputs, calib_inputs, runs):
    import numpy as np
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{tower.input_name: x} for x in calib_inputs])

        def get_next(self):
            return next(self.items, None)

    pre = os.path.join(work, f"{tower.stem}_pre.onnx")
    t0 = time.time()
    quant_pre_process(fp32, pre, skip_symbolic_shape=True)
    log(f"  quant_pre_process (symbolic shape step skipped): {time.time() - t0:.0f} s")
    cands = {}
    paths = {
        "dynamic_qint8_per_tensor": os.path.join(work, f"{tower.stem}_dyn_pt.onnx"),
        "dynamic_qint8_per_channel": os.path.join(work, f"{tower.stem}_dyn_pc.onnx"),
        "static_qdq_per_channel": os.path.join(work, f"{tower.stem}_qdq_pc.onnx"),
    }
    for label, path in paths.items():
        t0 = time.time()
        if label.startswith("dynamic"):
            quantize_dynamic(pre, path, weight_type=QuantType.QInt8, per_channel=label.endswith("per_channel"))
        else:
            # S8S8 (ORT's x86 default): QUInt8 activations gave garbage (cosine ~0) on the SigLIP image towers here
            quantize_static(pre, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax,
                            op_types_to_quantize=["MatMul", "Conv", "Gemm", "Gather"],
                            extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
        log(f"  {label}: quantized in {time.time() - t0:.0f} s")
        cands[label] = path

    ref = run_each(fp32, tower.input_name, eval_inputs)
    res = {"fp32": dict(path=fp32, size=os.path.getsize(fp32), cos_mean=1.0, cos_min=1.0, nn_agree=1.0,
                        out_norm_mean=float(np.linalg.norm(ref, axis=1).mean()))}
    for label, path in cands.items():
        try:
            r = compare(ref, run_each(path, tower.input_name, eval_inputs))
            r.update(path=path, size=os.path.getsize(path))
        except Exception as e:  # a candidate ORT cannot run is reported, not fatal
            r = dict(path=path, size=os.path.getsize(path), error=f"{type(e).__name__}: {e}"[:300])
        res[label] = r
    runnable = {k: v["path"] for k, v in res.items() if "error" not in v}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for k, (p50, mn) in latencies(runnable, tower.input_name, eval_inputs[0], runs).items():
        res[k].update(p50_ms=p50, min_ms=mn, load_avg_1min=load)
    for label, r in res.items():
        if "error" in r:
            log(f"  {label}: FAILED to run: {r['error']}")
        else:
            log(f"  {label}: {r['size'] / 1e6:.1f} MB, p50 {r['p50_ms']:.1f} ms (min {r['min_ms']:.1f}), cosine mean "
                f"{r['cos_mean']:.5f} min {r['cos_min']:.5f}, nearest-neighbour agreement {r['nn_agree']:.3f}"
                + (f", NaN/zero outputs: {r['broken_outputs']}" if r.get("broken_outputs") else ""))
    if load is not None:
        log(f"  (1-min load average while timing: {load:.1f} on {os.cpu_count()} CPUs)")
    ok = {k: v for k, v in res.items() if k != "fp32" and "error" not in v}
    passing = {k: v for k, v in ok.items() if v["cos_mean"] >= COS_TARGET}
    if passing:
        # speed = best-of-N latency: p50 on this shared 2-core VM swings with other processes' load, the minimum
        # (an uncontended run) ranks the candidates far more reproducibly
        # (dynamic per-tensor and per-channel run the same integer kernels: a gap under TIE_BAND is noise here)
        fastest = min(v["min_ms"] for v in passing.values())
        near = {k: v for k, v in passing.items() if v["min_ms"] <= (1 + TIE_BAND) * fastest}
        chosen = max(near, key=lambda k: near[k]["cos_mean"])
        why = (f"mean cosine >= {COS_TARGET}, then the most exact of those within {TIE_BAND:.0%} of the fastest "
               f"best-of-{runs} batch-1 latency")
    else:
        chosen = max(ok, key=lambda k: ok[k]["cos_mean"])
        why = f"no candidate reached mean cosine {COS_TARGET}: kept the most exact one"
    log(f"  kept: {chosen} ({why})")
    return res, chosen, why


def fmt_float(x):
    r = repr(float(x))
    return r


def toml_list(xs):
    return "[" + ", ".join(fmt_float(x) if isinstance(x, float) else str(x) for x in xs) + "]"


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)


def input_table(spec):
    parts = []
    for k in ("name", "width", "height", "resize", "resize_shorter", "interpolation", "scale", "mean", "std",
              "background"):
        if k not in spec:
            continue
        v = spec[k]
        parts.append(f"{k} = " + (toml_str(v) if isinstance(v, str) else toml_list(v) if isinstance(v, list) else str(v)))
    return "{ " + ", ".join(parts) + " }"


def manifest_path(path):
    rel = os.path.relpath(os.path.abspath(path), MODELS_DIR).replace(os.sep, "/")
    return os.path.basename(path) if rel.startswith("..") else rel


def write_overlay(manifest_out, out_dir):
    """The same entries as `<out_dir>/seed.manifest.toml`, file paths relative to out_dir: the
    engine merges it over the PENDING entries (models/manifest.toml lists full/seed.manifest.toml;
    scripts/random_init_models.py lists random-init's), so the export alone gives a working profile."""
    with open(manifest_out) as f:
        text = f.read()
    prefix = os.path.relpath(os.path.abspath(out_dir), MODELS_DIR).replace(os.sep, "/") + "/"
    if not prefix.startswith(".."):
        for key in ("file", "tokenizer"):
            text = text.replace(f'{key} = "{prefix}', f'{key} = "')
    text = ("# GENERATED by models/export/export_seed_models.py: a manifest OVERLAY (paths relative to this folder).\n"
            "# The engine merges it over models/manifest.toml's entries of the same ids (`overlays` there).\n") + text
    path = os.path.join(out_dir, "seed.manifest.toml")
    # whole or not at all: the engine reads this file on every start (a run with --only writes
    # only the towers it exported, the others then read as PENDING again)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return path


def write_manifest(path, towers, results, args, network_attempts):
    mode = "--random-init (RANDOM weights: architecture-faithful, searches nothing real)" if args.random_init else \
        "hub (pretrained weights)"
    L = [
        "# GENERATED by models/export/export_seed_models.py: proposed `full`-profile entries for models/manifest.toml.",
        f"# Mode: {mode}. Paths are relative to models/. Do not edit by hand: re-run the export.",
        f"# torch {__import__('torch').__version__}, transformers {__import__('transformers').__version__}, "
        f"open_clip {__import__('open_clip').__version__}, onnx {__import__('onnx').__version__}, "
        f"onnxruntime {__import__('onnxruntime').__version__}; {platform.machine()}",
    ]
    if args.random_init:
        L.append(f"# Network: HF_HUB_OFFLINE=1 and a socket guard; connection attempts refused: {len(network_attempts)}")
    L += [
        "# Text towers have no image `input`: their [models.<id>.text] table says how to build input_ids. The tokenizer",
        "# file is a Hugging Face tokenizer.json with truncation + fixed right-padding to max_len (and the model's text",
        "# cleaning) baked in: `tokenizers::Tokenizer::from_file(..)?.encode(prompt, true)?.get_ids()` gives the",
        "# input_ids row directly. (SigLIP's logit scale and bias are in the export report, not here: the",
        "# router's softmax ignores a bias, and its temperature is the catalog's `router.temperature`.)",
        "",
    ]
    for t in towers:
        r, chosen = results[t.key]["measure"], results[t.key]["chosen"]
        c, f = r[chosen], r["fp32"]
        L.append(f"[models.{t.key}]")
        L.append(f"file = {toml_str(manifest_path(results[t.key]['file']))}")
        L.append(f"sha256 = \"{results[t.key]['sha256']}\"")
        L.append(f"source = {toml_str(t.source)}")
        L.append(f"license = {toml_str(t.license)}")
        L.append(f"weights = \"{t.weights}\"")
        L.append(f"# INT8: {chosen.replace('_', ' ')} ({results[t.key]['why']}): {c['size'] / 1e6:.1f} MB (FP32 "
                 f"{f['size'] / 1e6:.1f} MB), batch-1 p50 {c['p50_ms']:.1f} ms / best {c['min_ms']:.1f} ms (FP32 {f['p50_ms']:.1f} / "
                 f"{f['min_ms']:.1f} ms) on 2 threads of a shared "
                 f"{platform.machine()} VM (load {c.get('load_avg_1min') or 0:.1f}), cosine vs FP32 "
                 f"mean {c['cos_mean']:.4f} min {c['cos_min']:.4f} over {results[t.key]['n_eval']} real "
                 f"{'prompts' if t.kind == 'text' else 'images'}")
        for n in t.notes:
            L.append(f"# {n}")
        if t.kind == "text":
            L.append("outputs = [")
            L.append(f"  {{ name = \"{t.output_name}\", kind = \"{t.out_kind}\", dims = [1, {t.dim}] }},")
            L.append("]")
            ti = t.tok_info
            L.append(f"[models.{t.key}.text]")
            L.append(f"input = \"{t.input_name}\"")
            L.append(f"max_len = {TEXT_LEN}")
            L.append(f"tokenizer = {toml_str(manifest_path(t.tokenizer))}")
            L.append(f"tokenizer_sha256 = \"{sha256_file(t.tokenizer)}\"")
            L.append(f"tokenizer_kind = {toml_str('byte-level-stub' if ti['kind'] == 'byte-level-stub' else 'huggingface-tokenizers')}")
            if ti["kind"] != "byte-level-stub":
                L.append(f"# tokenizer: {ti['kind']}; SentencePiece model kept beside it: {', '.join(ti['extra_files']) or 'none'}")
            else:
                L.append("# tokenizer: byte-level STUB (one id per UTF-8 byte), NOT the model's vocabulary: the real one "
                         "comes with the hub export")
            L.append(f"# text cleaning baked into the tokenizer.json normalizer: {ti['clean']}"
                     + (" (open_clip canonicalize: '_'->' ', ASCII punctuation removed, lowercased, whitespace collapsed)"
                        if ti["clean"] == "canonicalize" else ""))
            L.append(f"# tokenizer.json alone reproduces the reference encoding on {len(PROBE_TEXTS)} probe prompts: "
                     f"{str(ti['matches_reference']).lower()} (reference: "
                     + ("the model's own Python tokenizer)" if ti["kind"] != "byte-level-stub"
                        else "the model's own text-cleaning function + the stub's byte ids)"))
            L.append(f"padding_side = \"{ti['padding_side']}\"")
            L.append(f"pad_id = {ti['pad_id']}")
            L.append(f"eos_id = {ti['eos_id']}")
            L.append(f"image_model = \"{t.image_model}\"")
        else:
            L.append(f"# preprocessing read from {t.prep_src}")
            L.append(f"#   {json.dumps(t.prep_dict, sort_keys=True)[:600]}")
            L.append(f"input = {input_table(t.input_spec)}")
            L.append("outputs = [")
            L.append(f"  {{ name = \"{t.output_name}\", kind = \"{t.out_kind}\", dims = [1, {t.dim}] }},")
            L.append("]")
        L.append("")
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(L))


def write_reports(out_dir, towers, results, args, network_attempts):
    rows = ["| model | candidate | size MB | p50 ms (2 thr) | min ms | cos mean | cos min | NN agree | kept |",
            "|---|---|---|---|---|---|---|---|---|"]
    for t in towers:
        r = results[t.key]["measure"]
        for label, v in r.items():
            if "error" in v:
                rows.append(f"| {t.key} | {label} | {v['size'] / 1e6:.1f} | failed | | | | | |")
                continue
            kept = "**yes**" if label == results[t.key]["chosen"] else ""
            rows.append(f"| {t.key} | {label} | {v['size'] / 1e6:.1f} | {v['p50_ms']:.1f} | {v['min_ms']:.1f} | {v['cos_mean']:.5f} | "
                        f"{v['cos_min']:.5f} | {v['nn_agree']:.3f} | {kept} |")
    md = "\n".join(rows) + "\n"
    with open(os.path.join(out_dir, "export_report.md"), "w") as f:
        f.write(f"# export_seed_models.py {'--random-init' if args.random_init else '(hub)'}\n\n{md}")
    js = {
        "mode": "random-init" if args.random_init else "pretrained",
        "network_attempts_refused": network_attempts,
        "cpu": platform.processor() or platform.machine(),
        "models": {t.key: {
            "file": results[t.key]["file"], "sha256": results[t.key]["sha256"], "kept": results[t.key]["chosen"],
            "why": results[t.key]["why"], "n_eval": results[t.key]["n_eval"], "n_calib": results[t.key]["n_calib"],
            "torch_vs_ort_fp32_max_abs_diff": results[t.key]["torch_vs_ort"],
            "processor_vs_engine_preprocessing": results[t.key].get("prep_check"),
            "input": getattr(t, "input_spec", None), "preprocessing_source": getattr(t, "prep_src", None),
            "input_name": t.input_name, "output_name": t.output_name,
            "text": ({k: v for k, v in t.tok_info.items()} | {"logit_scale": t.logit_scale, "logit_bias": t.logit_bias,
                                                               "tokenizer": t.tokenizer})
            if t.kind == "text" else None,
            "candidates": {k: {kk: vv for kk, vv in v.items() if kk != "path"} for k, v in results[t.key]["measure"].items()},
            "notes": t.notes,
        } for t in towers},
    }
    with open(os.path.join(out_dir, "export_report.json"), "w") as f:
        json.dump(js, f, indent=1)
    return md


def bench_only(args, out_dir):
    """Re-time the files an earlier run wrote (<stem>_int8.onnx, and <stem>_fp32.onnx with --keep-fp32), e.g. when
    the shared machine is quieter; results go to export_report.json["models"][id]["bench"]."""
    rp = os.path.join(out_dir, "export_report.json")
    with open(rp) as f:
        report = json.load(f)
    images = sorted(os.path.join(d, n) for d in IMAGE_DIRS if os.path.isdir(d) for n in os.listdir(d)
                    if n.lower().endswith((".png", ".jpg", ".jpeg", ".webp")))
    prompts = load_prompts()
    rows = ["| model | file | size MB | p50 ms (2 thr) | min ms |", "|---|---|---|---|---|"]
    for key, m in report["models"].items():
        int8 = os.path.join(out_dir, os.path.basename(m["file"]))
        fp32 = int8[: -len("_int8.onnx")] + "_fp32.onnx"
        paths = {"int8": int8} | ({"fp32": fp32} if os.path.exists(fp32) else {})
        if m.get("text"):
            x = encode_file(os.path.join(out_dir, os.path.basename(m["text"]["tokenizer"])), prompts[:1])
        else:
            x = preprocess_like_engine(images[0], m["input"])
        load = os.getloadavg()[0]
        lat = latencies(paths, m["input_name"], x, args.runs)
        m["bench"] = {k: dict(p50_ms=v[0], min_ms=v[1], size=os.path.getsize(paths[k]), load_avg_1min=load)
                      for k, v in lat.items()}
        for k, v in m["bench"].items():
            rows.append(f"| {key} | {os.path.basename(paths[k])} | {v['size'] / 1e6:.1f} | {v['p50_ms']:.1f} | "
                        f"{v['min_ms']:.1f} |")
        log(rows[-1] + f" (load {load:.1f})")
    with open(rp, "w") as f:
        json.dump(report, f, indent=1)
    log("\n".join(rows))


def load_prompts():
    with open(PRODUCTS_JSON) as f:
        d = json.load(f)
    prompts = [p for c in d["categories"] for p in c["prompts"]]
    prompts += [f"a photo of a {p['name'].lower()}" for p in d["products"]]
    seen = set()
    return [p for p in prompts if not (p in seen or seen.add(p))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--random-init", action="store_true", help="offline: random weights from each architecture's config")
    ap.add_argument("--out", help="output folder (default models/full/, or models/random-init/ with --random-init)")
    ap.add_argument("--manifest-out", default=os.path.join(HERE, "full_manifest.toml"))
    ap.add_argument("--only", default=",".join(FAMILIES), help=f"comma-separated subset of {','.join(FAMILIES)}")
    ap.add_argument("--keep-fp32", action="store_true", help="also write <id>_fp32.onnx into the output folder")
    ap.add_argument("--keep-work", action="store_true", help="keep <out>/.work (every INT8 candidate)")
    ap.add_argument("--runs", type=int, default=30, help="timed runs per latency measurement (after 3 warm-ups)")
    ap.add_argument("--bench-only", action="store_true",
                    help="only re-time the files of an earlier run in the output folder (no torch needed)")
    args = ap.parse_args()
    if args.bench_only:
        out = os.path.abspath(args.out or os.path.join(MODELS_DIR, "random-init" if args.random_init else "full"))
        return bench_only(args, out)

    guard = None
    if args.random_init:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
        guard = NetworkGuard("--random-init")
        guard.install()
    os.environ.setdefault("TIMM_FUSED_ATTN", "0")  # plain attention ops in the traced timm ViT (open_clip)
    families = [f.strip() for f in args.only.split(",") if f.strip()]
    for f in families:
        if f not in FAMILIES:
            raise SystemExit(f"unknown model family {f!r} (choose from {', '.join(FAMILIES)})")
    out_dir = os.path.abspath(args.out or os.path.join(MODELS_DIR, "random-init" if args.random_init else "full"))
    args.work = os.path.join(out_dir, ".work")
    os.makedirs(args.work, exist_ok=True)

    import numpy as np
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.use_deterministic_algorithms(True)
    # nn.MultiheadAttention's inference fast path (aten::_native_multi_head_attention) has no ONNX export
    torch.backends.mha.set_fastpath_enabled(False)
    gen = load_generated_module()

    images = sorted(os.path.join(d, n) for d in IMAGE_DIRS if os.path.isdir(d) for n in os.listdir(d)
                    if n.lower().endswith((".png", ".jpg", ".jpeg", ".webp")))
    if len(images) < 8:
        raise SystemExit(f"need the real product photos in {IMAGE_DIRS} (scripts/setup.sh fetches them)")
    prompts = load_prompts()
    calib_idx = list(range(0, len(images), 2))
    log(f"mode: {'random-init (offline)' if args.random_init else 'hub'}; output {out_dir}")
    log(f"{len(images)} real images ({', '.join(os.path.relpath(d, REPO) for d in IMAGE_DIRS)}), static calibration on "
        f"{len(calib_idx)} of them (every other one); {len(prompts)} real prompts for the text towers")

    all_towers, results = [], {}
    for fam in families:
        log(f"\n=== {fam} ===")
        t0 = time.time()
        towers, model = BUILDERS[fam](args, out_dir, gen)
        log(f"built in {time.time() - t0:.0f} s; {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters")
        inputs = {}
        for t in towers:
            if t.kind == "text":
                ids = encode_file(t.tokenizer, prompts)
                inputs[t.key] = [ids[i:i + 1] for i in range(len(ids))]
                calib = [inputs[t.key][i] for i in range(0, len(prompts), 2)]
            else:
                inputs[t.key] = [preprocess_like_engine(p, t.input_spec) for p in images]
                calib = [inputs[t.key][i] for i in calib_idx]
                # the model's own processor vs the engine's manifest-driven preprocessing, on RGB photos
                from PIL import Image

                diffs = []
                for p in images:
                    img = Image.open(p)
                    if img.mode != "RGB":
                        continue
                    a = np.asarray(t.reference_pixels(img.convert("RGB")), dtype=np.float32)
                    b = preprocess_like_engine(p, t.input_spec)
                    if a.shape == b.shape:
                        diffs.append(float(np.abs(a - b).mean()))
                t_check = dict(rgb_images=len(diffs), mean_abs_diff=float(np.mean(diffs)) if diffs else None,
                               max_image_mean_abs_diff=float(np.max(diffs)) if diffs else None)
                log(f"  {t.key}: input {input_table(t.input_spec)}")
                log(f"    from {t.prep_src}")
                log(f"    model's own processor vs engine preprocessing on {t_check['rgb_images']} RGB photos: "
                    f"mean |diff| {t_check['mean_abs_diff']:.4f} (normalised units; resampler differences)")
                results.setdefault(t.key, {})["prep_check"] = t_check
            results.setdefault(t.key, {})["calib"] = calib
        # FP32 export + torch vs ORT
        for t in towers:
            fp32 = os.path.join(args.work, f"{t.stem}_fp32.onnx")
            sample = np.concatenate(inputs[t.key][:2], axis=0)
            with torch.no_grad():
                ref = t.module(torch.from_numpy(sample)).numpy()
            if getattr(t, "freeze_pos", False):
                freeze_dinov2_positions(model)
                with torch.no_grad():
                    d = float(np.abs(t.module(torch.from_numpy(sample)).numpy() - ref).max())
                log(f"  {t.key}: frozen 224-px position embeddings vs transformers' interpolation: max diff {d:.2e}")
            t0 = time.time()
            export_onnx(t, fp32, torch.from_numpy(sample[:1]))
            got = ort_session(fp32).run(None, {t.input_name: sample})[0]
            diff = float(np.abs(got - ref).max())
            log(f"  {t.key}: exported FP32 in {time.time() - t0:.0f} s, {os.path.getsize(fp32) / 1e6:.1f} MB; torch vs "
                f"ORT max abs diff {diff:.2e} (batch 2)")
            if diff > 1e-3:
                raise SystemExit(f"{t.key}: torch vs ORT diff {diff} too large")
            results[t.key]["torch_vs_ort"] = diff
            results[t.key]["fp32"] = fp32
        del model
        for t in towers:
            t.module = None
        gc.collect()
        # INT8 candidates, measurements, choice
        for t in towers:
            log(f"  --- {t.key}: INT8 candidates ---")
            res, chosen, why = quantize_and_measure(t, results[t.key]["fp32"], args.work, inputs[t.key],
                                                    results[t.key]["calib"], args.runs)
            dst = os.path.join(out_dir, f"{t.stem}_int8.onnx")
            shutil.copyfile(res[chosen]["path"], dst)
            if args.keep_fp32:
                shutil.copyfile(results[t.key]["fp32"], os.path.join(out_dir, f"{t.stem}_fp32.onnx"))
            results[t.key].update(measure=res, chosen=chosen, why=why, file=dst, sha256=sha256_file(dst),
                                  n_eval=len(inputs[t.key]), n_calib=len(results[t.key]["calib"]))
            del results[t.key]["calib"]
            log(f"  wrote {dst} ({os.path.getsize(dst) / 1e6:.1f} MB, sha256 {results[t.key]['sha256']})")
        all_towers += towers
        gc.collect()

    # consistency with the torch-free test graphs' preprocessing tables
    for t in all_towers:
        if t.kind != "text" and t.key in gen.INPUTS:
            g = dict(gen.INPUTS[t.key], background=gen.BACKGROUND)
            mine = {k: v for k, v in t.input_spec.items()}
            if any(mine.get(k) != v for k, v in g.items()) or set(mine) != set(g):
                log(f"NOTE: {t.key} preprocessing differs from models/generated/make_test_graphs.py INPUTS: "
                    f"{mine} vs {g}: update the generator")

    attempts = guard.attempts if guard else []
    write_manifest(args.manifest_out, all_towers, results, args, attempts)
    overlay = write_overlay(args.manifest_out, out_dir)
    md = write_reports(out_dir, all_towers, results, args, attempts)
    if not args.keep_work:
        shutil.rmtree(args.work, ignore_errors=True)
    log("\n" + md)
    if guard is not None:
        log(f"network: connection attempts refused during the run: {len(attempts)} {attempts[:5]}")
    log(f"files in {out_dir}:")
    for n in sorted(os.listdir(out_dir)):
        p = os.path.join(out_dir, n)
        if os.path.isfile(p):
            log(f"  {n}  {os.path.getsize(p):,} B  sha256 {sha256_file(p)}")
    log(f"manifest entries: {args.manifest_out}")
    log(f"manifest overlay (merged by the engine, see `overlays` in models/manifest.toml): {overlay}")


if __name__ == "__main__":
    main()
