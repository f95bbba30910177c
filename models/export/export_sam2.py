#!/usr/bin/env python3
"""Export SAM 2.1 Hiera-tiny (the `full` profile's index-time catalog segmenter) to two ONNX graphs.

The two graphs reproduce `SAM2ImagePredictor.set_image` and `SAM2ImagePredictor._predict(..., multimask_output=True)`
of the `sam2` package (1.1.0) exactly, for batch 1:

  sam2_encoder  sam2_hiera_tiny_encoder[_int8].onnx
      image             f32 [1,3,1024,1024]  RGB, x/255, ImageNet mean/std, stretched to 1024x1024 (SAM2Transforms)
   -> image_embed       f32 [1,256,64,64]    FPN level 2, plus no_mem_embed (set_image: directly_add_no_mem_embed)
      high_res_feats_0  f32 [1,32,256,256]   FPN level 0 after sam_mask_decoder.conv_s0 (forward_image)
      high_res_feats_1  f32 [1,64,128,128]   FPN level 1 after sam_mask_decoder.conv_s1 (forward_image)
  sam2_decoder  sam2_hiera_tiny_decoder.onnx (prompt encoder + mask decoder)
      image_embed, high_res_feats_0, high_res_feats_1   as above
      point_coords      f32 [1,N,2]          N dynamic; x, y in the 1024x1024 encoder-input frame, i.e. original
                                             pixel x * 1024 / width, y * 1024 / height (what the predictor's
                                             transform_coords gives); the graph adds SAM's +0.5 pixel-centre shift
      point_labels      f32 [1,N]            1 fg, 0 bg, 2 box top-left, 3 box bottom-right, -1 padding
                                             (a box is two points labelled 2, 3, put FIRST, as _predict does)
      mask_input        f32 [1,1,256,256]    low-res logits of a previous prediction (only used if has_mask_input=1)
      has_mask_input    f32 [1]              1: dense = mask_downscaling(mask_input); 0: dense = no_mask_embed
   -> masks             f32 [1,3,256,256]    low-res mask LOGITS (multimask tokens 1..3; > 0 = foreground),
                                             NOT clamped (the predictor upsamples these unclamped; its returned
                                             low_res_masks are the same clamped to [-32, 32])
      iou_predictions   f32 [1,3]            predicted IoU per mask (sigmoid output)
  The graph appends the padding point ((0, 0), label -1) itself, as the prompt encoder does with pad=True
  (the predictor always calls it with boxes=None after folding a box into points labelled 2, 3).

Steps: build the model from the sam2 package's own hydra config (configs/sam2.1/sam2.1_hiera_t.yaml, via
sam2.build_sam.build_sam2) -> torch.onnx.export(dynamo=False, opset 17) -> check against the real
SAM2ImagePredictor on real photos (set_image + predict with box / box+point / box+2 points / a mask input;
the predictor's own mask decoder output is captured with a forward hook) -> quant_pre_process + two dynamic
QInt8 per-channel INT8 candidates of the encoder (quantize_dynamic's default op set, as export_seed_models.py;
MatMul only) -> measure size, latency (ORT, 2 threads), cosine of the features and mask IoU FP32 vs INT8 ->
keep an INT8 candidate in the manifest only if its mean mask IoU against FP32 is >= 0.95 (the most exact one
within 15 % of the fastest), else FP32 -> write the manifest OVERLAY and an export report. The decoder stays
FP32 (16.5 MB, ~80 ms, once per catalog image).

Modes:
  --random-init        RANDOM weights (torch.manual_seed(--seed) before building): the only mode that runs
                       where no model hub / GitHub is reachable. Architecture-faithful; segments nothing real.
                       Entries say weights = "random-init". Default out: models/random-init/.
  --checkpoint PATH    the real weights (sam2.1_hiera_tiny.pt from facebook/sam2.1-hiera-tiny or
                       https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_tiny.pt, fetched
                       beforehand). Loaded strictly by sam2's own _load_checkpoint. Entries say
                       weights = "pretrained". Default out: models/full/. UNTESTED HERE (no weights reachable).
Neither mode downloads anything: a socket guard refuses (and counts) every INET connection and DNS lookup,
and HF_HUB_OFFLINE=1 is set.

Check images: the scikit-image photos (bash models/export/fetch_test_images.sh -> /tmp/skimage_data) and, when
present, the photos in tests/fixtures and the demo catalog's product photos in .cache/demo-sources/images (both
fetched by scripts/setup.sh), interleaved; --max-images caps the count (default 8).

Writes (<out>):
  sam2_hiera_tiny_encoder.onnx (FP32), sam2_hiera_tiny_encoder_int8.onnx, sam2_hiera_tiny_decoder.onnx,
  sam2.manifest.toml: the manifest OVERLAY (only [models.sam2_encoder] / [models.sam2_decoder], `file` paths
  relative to <out>): models/manifest.toml lists full/sam2.manifest.toml in its `overlays`, and
  scripts/random_init_models.py lists random-init/'s, so the engine merges it with no pasting;
  sam2_export_report.md / .json (every measurement).

Usage:
  /work/venv-export/bin/pip install -r models/export/requirements-sam2.txt
  bash models/export/fetch_test_images.sh
  /work/venv-export/bin/python models/export/export_sam2.py --random-init
  /work/venv-export/bin/python models/export/export_sam2.py --checkpoint /path/to/sam2.1_hiera_tiny.pt
  options: --out DIR, --manifest-out FILE, --seed N, --runs N (latency runs), --max-images N, --images DIR...,
           --no-quantize, --keep-work (keep the INT8 candidate that was not kept)
torch from PyPI is the ~5.5 GB CUDA build (only the CPU is used): NOT part of CI.
"""

import argparse
import glob
import json
import os
import platform
import sys
import time

from export_common import NetworkGuard, ort_session, sha256_file

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS_DIR = os.path.join(REPO, "models")

OPSET = 17
SIZE = 1024
CONFIG = "configs/sam2.1/sam2.1_hiera_t.yaml"
STEM = "sam2_hiera_tiny"
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
BACKGROUND = [255, 255, 255]  # engine's choice: what removed pixels are composited onto (not the model's)
IOU_TARGET = 0.95            # INT8 encoder kept only if mean mask IoU vs FP32 >= this
TIE_BAND = 0.15              # candidates this close to the fastest count as equally fast (shared 2-core VM)
# INT8 candidates: label -> (op_types_to_quantize or None for quantize_dynamic's default set, description)
CANDIDATES = {
    "int8_dynamic_per_channel": (None, "quantize_dynamic's default op set as in export_seed_models.py: MatMul and Conv"),
    "int8_dynamic_per_channel_matmul": (["MatMul"], "MatMul only: the patch-embed, FPN and conv_s0/s1 convolutions stay FP32"),
}
ENC_OUT = [("image_embed", [1, 256, 64, 64]), ("high_res_feats_0", [1, 32, 256, 256]),
           ("high_res_feats_1", [1, 64, 128, 128])]
DEC_IN = ["image_embed", "high_res_feats_0", "high_res_feats_1", "point_coords", "point_labels", "mask_input",
          "has_mask_input"]
DEC_OUT = [("masks", [1, 3, 256, 256]), ("iou_predictions", [1, 3])]
OVERLAY_HEADER = "# GENERATED by models/export/export_sam2.py"
OVERLAY_FILE = "sam2.manifest.toml"  # the name models/manifest.toml's `overlays` and scripts/random_init_models.py use
DEFAULT_IMAGE_DIRS = ["/tmp/skimage_data", os.path.join(REPO, "tests", "fixtures"),
                      os.path.join(REPO, ".cache", "demo-sources", "images")]
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".webp")


def log(msg=""):
    print(msg, flush=True)


# ---------------------------------------------------------------- model and export wrappers
def build_model(args):
    import torch
    from sam2.build_sam import build_sam2

    torch.manual_seed(args.seed)
    # build_sam2's defaults (apply_postprocessing=True) are what SAM2ImagePredictor.from_pretrained uses; they only
    # change multimask_output=False (dynamic multimask via stability), which these graphs do not use.
    model = build_sam2(CONFIG, ckpt_path=args.checkpoint, device="cpu", mode="eval")
    if args.random_init:
        init_pos_embeds(model)
    # Hiera re-interpolates the 7x7 position embedding to the 256x256 patch grid (bicubic) on every forward: it is
    # exported as an ONNX Resize (cubic, a=-0.75, half_pixel) on the 7x7 parameter, which ONNX Runtime matches to
    # ~2e-7 and folds at session start; freezing the 256x256x96 result would add 25 MB to the file.
    return model


def init_pos_embeds(model):
    """--random-init only. The sam2 package creates Hiera's background position embedding (7x7) and its window
    embedding (8x8) as zeros and leaves them to the checkpoint; every other weight gets a random init. Zeros would
    make the graph's bicubic position-embedding Resize a no-op that no check can test, so give them
    trunc_normal(std 0.02), the init of the original Hiera. Seeded like everything else."""
    import torch

    trunk = model.image_encoder.trunk
    with torch.no_grad():
        for p in (trunk.pos_embed, trunk.pos_embed_window):
            torch.nn.init.trunc_normal_(p, std=0.02)


def static_pos_embed(model):
    """Hiera's _get_pos_embed tiles the 8x8 window embedding with repeats computed from traced shapes; torch exports
    that `Tensor.tile` as If branches of different rank, which ONNX Runtime warns about at every session start
    ("Error merging shape info ... Falling back to lenient merge"). The input size is fixed, so compute the same
    sum with constant repeats (Tensor.repeat on 4 dims is exactly tile): identical values, a constant Tile, no If."""
    import torch.nn.functional as F

    trunk = model.image_encoder.trunk

    def get_pos_embed(hw):
        h, w = int(hw[0]), int(hw[1])
        win = trunk.pos_embed_window
        pos_embed = F.interpolate(trunk.pos_embed, size=(h, w), mode="bicubic")
        pos_embed = pos_embed + win.repeat(1, 1, h // win.shape[2], w // win.shape[3])
        return pos_embed.permute(0, 2, 3, 1)

    trunk._get_pos_embed = get_pos_embed


def wrappers(model):
    import torch
    from torch import nn

    class Encoder(nn.Module):
        """SAM2ImagePredictor.set_image after the transforms, batch 1."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, image):
            m = self.m
            backbone_out = m.forward_image(image)  # applies conv_s0 / conv_s1 to FPN levels 0 / 1
            _, vision_feats, _, _ = m._prepare_backbone_features(backbone_out)
            if m.directly_add_no_mem_embed:
                vision_feats[-1] = vision_feats[-1] + m.no_mem_embed
            sizes = [(256, 256), (128, 128), (64, 64)]
            feats = [f.permute(1, 2, 0).reshape(1, -1, *s) for f, s in zip(vision_feats, sizes)]
            return feats[2], feats[0], feats[1]

    class Decoder(nn.Module):
        """SAM2ImagePredictor._predict(point_coords, point_labels, boxes=None, mask_input, multimask_output=True)
        up to the low-res logits, batch 1."""

        def __init__(self, m):
            super().__init__()
            self.pe = m.sam_prompt_encoder
            self.md = m.sam_mask_decoder

        def forward(self, image_embed, high_res_feats_0, high_res_feats_1, point_coords, point_labels, mask_input,
                    has_mask_input):
            pe = self.pe
            # PromptEncoder.forward(points=(coords, labels), boxes=None, masks=...): pad=True appends (0,0)/-1
            sparse = pe._embed_points(point_coords, point_labels, pad=True)
            has = has_mask_input.reshape(1, 1, 1, 1)
            dense = has * pe.mask_downscaling(mask_input) + (1 - has) * pe.no_mask_embed.weight.reshape(1, -1, 1, 1)
            masks, iou, _, _ = self.md(
                image_embeddings=image_embed,
                image_pe=pe.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=True,
                repeat_image=False,
                high_res_features=[high_res_feats_0, high_res_feats_1],
            )
            return masks, iou

    return Encoder(model).eval(), Decoder(model).eval()


def export_graph(module, args_tuple, path, input_names, output_names, dynamic_axes, meta, static_out):
    import onnx
    import torch

    with torch.no_grad():
        torch.onnx.export(module, args_tuple, path, dynamo=False, opset_version=OPSET, export_params=True,
                          do_constant_folding=True, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes or None)
    m = onnx.load(path)
    m.doc_string = ""
    m.producer_name = "pytorch"
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    for o in m.graph.output:  # torch leaves the Reshape/Slice outputs symbolic: write the (verified) static dims
        if o.name in static_out:
            dims = o.type.tensor_type.shape.dim
            del dims[:]
            for d in static_out[o.name]:
                dims.add().dim_value = d
    onnx.checker.check_model(m)
    onnx.save(m, path)
    ops = sorted({n.op_type for n in m.graph.node})
    return ops


def graph_io(path):
    import onnx

    m = onnx.load(path, load_external_data=False)

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]

    inits = {i.name for i in m.graph.initializer}
    return ([(i.name, dims(i)) for i in m.graph.input if i.name not in inits],
            [(o.name, dims(o)) for o in m.graph.output])


# ---------------------------------------------------------------- images, prompts, preprocessing
def find_images(dirs, limit):
    out = []
    for d in dirs:
        if os.path.isdir(d):
            out += sorted(p for p in glob.glob(os.path.join(d, "*")) if p.lower().endswith(IMAGE_EXT))
    seen, uniq = set(), []
    for p in out:  # tests/fixtures repeats some scikit-image photos
        key = (os.path.basename(p), os.path.getsize(p))
        if key not in seen:
            seen.add(key)
            uniq.append(p)
    # interleave the directories so a small limit still mixes photos and product shots
    by_dir = {}
    for p in uniq:
        by_dir.setdefault(os.path.dirname(p), []).append(p)
    mixed = []
    while any(by_dir.values()):
        for d in list(by_dir):
            if by_dir[d]:
                mixed.append(by_dir[d].pop(0))
    return mixed[:limit]


def load_rgb(path):
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, tuple(BACKGROUND) + (255,))
            im = Image.alpha_composite(bg, im)
        return np.asarray(im.convert("RGB"))


def engine_like_input(rgb):
    """What the engine's manifest-driven preprocessing gives (stretch, bilinear, unit, mean/std), PIL copy."""
    import numpy as np
    from PIL import Image

    im = Image.fromarray(rgb).resize((SIZE, SIZE), Image.BILINEAR)
    x = np.asarray(im, dtype=np.float32) / 255.0
    x = (x - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def prompts_for(h, w):
    """(label, point_coords (orig px) or None, point_labels or None, box (orig px, XYXY)). Box + points."""
    import numpy as np

    box = np.array([0.15 * w, 0.15 * h, 0.85 * w, 0.85 * h], np.float32)
    c = np.array([[0.5 * w, 0.5 * h]], np.float32)
    c2 = np.array([[0.5 * w, 0.5 * h], [0.04 * w, 0.04 * h]], np.float32)
    return [
        ("box", None, None, box),                                                    # N = 2
        ("box+1pt", c, np.array([1], np.int32), box),                                # N = 3
        ("box+2pts", c2, np.array([1, 0], np.int32), box),                           # N = 4
    ]


def graph_prompt(points, labels, box, h, w):
    """The decoder graph's point_coords / point_labels for a predictor prompt: box corners first (labels 2, 3),
    then the points; coordinates scaled to the 1024 frame exactly as SAM2Transforms.transform_coords does."""
    import numpy as np

    cs, ls = [], []
    if box is not None:
        cs.append(box.reshape(2, 2))
        ls.append(np.array([2, 3], np.float32))
    if points is not None:
        cs.append(points.reshape(-1, 2))
        ls.append(labels.astype(np.float32))
    c = np.concatenate(cs).astype(np.float32).copy()
    c[:, 0] = c[:, 0] / np.float32(w) * np.float32(SIZE)
    c[:, 1] = c[:, 1] / np.float32(h) * np.float32(SIZE)
    return c[None], np.concatenate(ls)[None]


def mask_iou(a, b):
    """IoU of the > 0 regions; two empty masks agree (1.0)."""
    import numpy as np

    a, b = a > 0, b > 0
    u = np.logical_or(a, b).sum()
    return 1.0 if u == 0 else float(np.logical_and(a, b).sum() / u)


def cosine(a, b):
    import numpy as np

    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))


# ---------------------------------------------------------------- checks
class DecoderTap:
    """Captures the predictor's own sam_mask_decoder output (multimask logits before clamping, iou)."""

    def __init__(self, model):
        self.out = None
        model.sam_mask_decoder.register_forward_hook(self._hook)

    def _hook(self, mod, inp, out):
        self.out = (out[0].detach().cpu().numpy().copy(), out[1].detach().cpu().numpy().copy())


def run_checks(model, paths, image_paths, int8_paths, runs):
    import numpy as np
    import torch
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    torch.set_num_threads(2)
    pred = SAM2ImagePredictor(model)
    tap = DecoderTap(model)
    enc = ort_session(paths["encoder"])
    enc8 = {k: ort_session(p) for k, p in int8_paths.items()}
    dec = ort_session(paths["decoder"])
    res = dict(images=[], prompts=[], prep=[], enc_diff={k: 0.0 for k, _ in ENC_OUT}, int8=[])
    worst = dict(iso_masks=0.0, iso_iou=0.0, e2e_masks=0.0, e2e_iou=0.0)
    e2e_ious, iso_ious = [], []
    i8_ious = {c: [] for c in enc8}
    i8_feat_cos = {c: {k: [] for k, _ in ENC_OUT} for c in enc8}
    for path in image_paths:
        rgb = load_rgb(path)
        h, w = rgb.shape[:2]
        name = os.path.basename(path)
        t0 = time.time()
        pred.set_image(rgb)
        t_torch = time.time() - t0
        x = pred._transforms(rgb)[None].numpy().astype(np.float32)
        torch_feats = {"image_embed": pred._features["image_embed"].numpy(),
                       "high_res_feats_0": pred._features["high_res_feats"][0].numpy(),
                       "high_res_feats_1": pred._features["high_res_feats"][1].numpy()}
        eng = engine_like_input(rgb)
        res["prep"].append(dict(image=name, mean_abs_diff=float(np.abs(eng - x).mean()),
                                max_abs_diff=float(np.abs(eng - x).max())))
        ort_feats = dict(zip([o.name for o in enc.get_outputs()], enc.run(None, {"image": x})))
        for k, shape in ENC_OUT:
            assert list(ort_feats[k].shape) == shape, (k, ort_feats[k].shape)
            res["enc_diff"][k] = max(res["enc_diff"][k], float(np.abs(ort_feats[k] - torch_feats[k]).max()))
        feats8 = {}
        for c, sess8 in enc8.items():
            feats8[c] = dict(zip([o.name for o in sess8.get_outputs()], sess8.run(None, {"image": x})))
            for k, _ in ENC_OUT:
                i8_feat_cos[c][k].append(cosine(ort_feats[k], feats8[c][k]))
        res["images"].append(dict(image=name, hw=[h, w], torch_set_image_s=round(t_torch, 2)))
        log(f"  {name} ({w}x{h}): torch set_image {t_torch:.1f} s; ORT FP32 encoder max |diff| vs torch: "
            + ", ".join(f"{k} {float(np.abs(ort_feats[k] - torch_feats[k]).max()):.2e}" for k, _ in ENC_OUT)
            + "".join(f"; {c} image_embed cosine {i8_feat_cos[c]['image_embed'][-1]:.5f}" for c in enc8))

        prompts = prompts_for(h, w)
        for label, pts, labs, box in prompts:
            _, _, low_t = pred.predict(point_coords=pts, point_labels=labs, box=box, multimask_output=True,
                                       return_logits=True)
            t_masks, t_iou = tap.out
            pc, pl = graph_prompt(pts, labs, box, h, w)
            base = dict(point_coords=pc, point_labels=pl, mask_input=np.zeros((1, 1, 256, 256), np.float32),
                        has_mask_input=np.zeros(1, np.float32))
            iso = dict(zip(["masks", "iou_predictions"], dec.run(None, {**torch_feats, **base})))
            e2e = dict(zip(["masks", "iou_predictions"], dec.run(None, {**ort_feats, **base})))
            for k, shape in DEC_OUT:
                assert list(e2e[k].shape) == shape and list(iso[k].shape) == shape, (k, e2e[k].shape)
            # the predictor's returned low-res logits = the decoder's clamped to [-32, 32]
            clamp_diff = float(np.abs(np.clip(iso["masks"][0], -32, 32) - low_t).max())
            d = dict(image=name, prompt=label, N=int(pc.shape[1]),
                     iso_masks=float(np.abs(iso["masks"] - t_masks).max()),
                     iso_iou=float(np.abs(iso["iou_predictions"] - t_iou).max()),
                     e2e_masks=float(np.abs(e2e["masks"] - t_masks).max()),
                     e2e_iou=float(np.abs(e2e["iou_predictions"] - t_iou).max()),
                     clamped_vs_predictor_low_res=clamp_diff,
                     iso_mask_iou=[mask_iou(iso["masks"][0, i], t_masks[0, i]) for i in range(3)],
                     e2e_mask_iou=[mask_iou(e2e["masks"][0, i], t_masks[0, i]) for i in range(3)],
                     fg_fraction=[float((t_masks[0, i] > 0).mean()) for i in range(3)],
                     torch_iou=[float(v) for v in t_iou[0]])
            d["int8_mask_iou"], d["int8_iou_diff"] = {}, {}
            for c in enc8:
                q = dict(zip(["masks", "iou_predictions"], dec.run(None, {**feats8[c], **base})))
                d["int8_mask_iou"][c] = [mask_iou(q["masks"][0, i], e2e["masks"][0, i]) for i in range(3)]
                d["int8_iou_diff"][c] = float(np.abs(q["iou_predictions"] - e2e["iou_predictions"]).max())
                i8_ious[c] += d["int8_mask_iou"][c]
            e2e_ious += d["e2e_mask_iou"]
            iso_ious += d["iso_mask_iou"]
            for k in worst:
                worst[k] = max(worst[k], d[k])
            res["prompts"].append(d)
            log(f"    {label:9s} N={d['N']}: decoder on torch feats max |diff| masks {d['iso_masks']:.2e} iou "
                f"{d['iso_iou']:.2e}; end to end masks {d['e2e_masks']:.2e} iou {d['e2e_iou']:.2e}; mask IoU vs "
                f"torch {[round(v, 4) for v in d['e2e_mask_iou']]}; fg {[round(v, 3) for v in d['fg_fraction']]}"
                + "".join(f"; {c} mask IoU {[round(v, 4) for v in d['int8_mask_iou'][c]]}" for c in enc8))

        # mask_input path: feed the best mask's (clamped) low-res logits back, as an interactive refinement does
        label, pts, labs, box = prompts[1]
        _, t_iou_prev, low_prev = pred.predict(point_coords=pts, point_labels=labs, box=box, multimask_output=True,
                                               return_logits=True)
        best = int(np.argmax(t_iou_prev))
        mi = low_prev[best][None, None].astype(np.float32)
        pred.predict(point_coords=pts, point_labels=labs, box=box, mask_input=mi[0], multimask_output=True,
                     return_logits=True)
        t_masks, t_iou = tap.out
        pc, pl = graph_prompt(pts, labs, box, h, w)
        o = dict(zip(["masks", "iou_predictions"],
                     dec.run(None, {**torch_feats, "point_coords": pc, "point_labels": pl, "mask_input": mi,
                                    "has_mask_input": np.ones(1, np.float32)})))
        d = dict(image=name, prompt="box+1pt+mask_input", N=int(pc.shape[1]),
                 iso_masks=float(np.abs(o["masks"] - t_masks).max()),
                 iso_iou=float(np.abs(o["iou_predictions"] - t_iou).max()),
                 iso_mask_iou=[mask_iou(o["masks"][0, i], t_masks[0, i]) for i in range(3)])
        worst["iso_masks"] = max(worst["iso_masks"], d["iso_masks"])
        worst["iso_iou"] = max(worst["iso_iou"], d["iso_iou"])
        iso_ious += d["iso_mask_iou"]
        res["prompts"].append(d)
        log(f"    box+1pt+mask_input (has_mask_input=1): max |diff| masks {d['iso_masks']:.2e} iou {d['iso_iou']:.2e}, "
            f"mask IoU vs torch {[round(v, 4) for v in d['iso_mask_iou']]}")

    res["worst"] = worst
    res["mask_iou_torch_vs_ort"] = dict(decoder_on_torch_features_mean=float(np.mean(iso_ious)),
                                        decoder_on_torch_features_min=float(np.min(iso_ious)),
                                        end_to_end_mean=float(np.mean(e2e_ious)), end_to_end_min=float(np.min(e2e_ious)))
    res["int8_summary"] = {c: dict(mask_iou_mean=float(np.mean(i8_ious[c])), mask_iou_min=float(np.min(i8_ious[c])),
                                   mask_iou_median=float(np.median(i8_ious[c])),
                                   cos={k: dict(mean=float(np.mean(v)), min=float(np.min(v)))
                                        for k, v in i8_feat_cos[c].items()})
                           for c in enc8}
    res["prep_summary"] = dict(mean_abs_diff_mean=float(np.mean([p["mean_abs_diff"] for p in res["prep"]])),
                               max_abs_diff_max=float(np.max([p["max_abs_diff"] for p in res["prep"]])))
    # latency: round-robin so load from other processes hits every candidate alike
    x = pred._transforms(load_rgb(image_paths[0]))[None].numpy().astype(np.float32)
    lat = {}
    sess = {"encoder_fp32": enc}
    for c, s8 in enc8.items():
        sess[c] = s8
    for s in sess.values():
        s.run(None, {"image": x})
    ts = {k: [] for k in sess}
    for _ in range(runs):
        for k, s in sess.items():
            t = time.perf_counter()
            s.run(None, {"image": x})
            ts[k].append((time.perf_counter() - t) * 1000)
    feats = dict(zip([o.name for o in enc.get_outputs()], enc.run(None, {"image": x})))
    pc, pl = graph_prompt(None, None, np.array([100, 100, 400, 400], np.float32), 512, 512)
    feed = {**feats, "point_coords": pc, "point_labels": pl, "mask_input": np.zeros((1, 1, 256, 256), np.float32),
            "has_mask_input": np.zeros(1, np.float32)}
    dec.run(None, feed)
    ts["decoder_fp32"] = []
    for _ in range(max(runs, 5)):
        t = time.perf_counter()
        dec.run(None, feed)
        ts["decoder_fp32"].append((time.perf_counter() - t) * 1000)
    for k, v in ts.items():
        lat[k] = dict(p50_ms=float(np.median(v)), min_ms=float(np.min(v)), runs=len(v))
    res["latency"] = lat
    res["load_avg_1min"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return res


def quantize_encoder(fp32, out_dir):
    """Every INT8 candidate of CANDIDATES -> {label: path}, {label: integer-op counts}."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = os.path.join(out_dir, f"{STEM}_encoder_pre.onnx")
    t0 = time.time()
    # skip_optimization: ORT's optimizer would constant-fold Hiera's bicubic position-embedding Resize into a
    # 256x256x96 FP32 tensor (+25 MB in the INT8 file: 53 MB instead of 29 MB); ONNX Runtime folds it at session
    # start anyway. The symbolic-shape step is skipped as in export_seed_models.py.
    quant_pre_process(fp32, pre, skip_symbolic_shape=True, skip_optimization=True)
    log(f"  quant_pre_process (symbolic shape and optimization steps skipped): {time.time() - t0:.0f} s")
    paths, ops = {}, {}
    for label, (op_types, _) in CANDIDATES.items():
        path = os.path.join(out_dir, f"{STEM}_encoder_{label}.onnx")
        t0 = time.time()
        quantize_dynamic(pre, path, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=op_types)
        m = onnx.load(path)
        counts = {}
        for n in m.graph.node:
            if "Integer" in n.op_type or "Quant" in n.op_type:
                counts[n.op_type] = counts.get(n.op_type, 0) + 1
        paths[label], ops[label] = path, dict(sorted(counts.items()))
        log(f"  {label}: {os.path.getsize(path) / 1e6:.1f} MB, integer ops {ops[label]} ({time.time() - t0:.0f} s)")
    os.remove(pre)
    return paths, ops


# ---------------------------------------------------------------- manifest and report
def overlay_path(path, overlay):
    """A model file's path relative to the overlay's own folder, as the engine resolves overlay entries (a plain
    relative path: no '..', not absolute)."""
    rel = os.path.relpath(os.path.abspath(path), os.path.dirname(os.path.abspath(overlay))).replace(os.sep, "/")
    if rel.startswith("..") or os.path.isabs(rel):
        sys.exit(f"error: {path} is not inside the overlay's folder {os.path.dirname(overlay)}: the engine resolves "
                 f"overlay `file` paths relative to it (put --manifest-out in --out)")
    return rel


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)


def write_manifest(path, info):
    L = [f"{OVERLAY_HEADER}: a manifest OVERLAY for the SAM 2 catalog segmenter (full profile, index time).",
         "# Only [models.sam2_encoder] and [models.sam2_decoder]; `file` paths are relative to THIS file's folder. The",
         "# engine merges it over models/manifest.toml's entries of the same ids (`overlays` there lists",
         "# full/sam2.manifest.toml; scripts/random_init_models.py lists random-init's). Do not edit: re-run the export.",
         f"# Mode: {info['mode_line']}",
         f"# torch {info['versions']['torch']}, sam2 {info['versions']['sam2']}, onnx {info['versions']['onnx']}, "
         f"onnxruntime {info['versions']['onnxruntime']}; {platform.machine()}; network attempts refused: "
         f"{info['network_attempts']}",
         f"# torch vs ORT (FP32), {info['n_images']} real photos: {info['check_line']}",
         ""]
    enc, dec = info["encoder"], info["decoder"]
    L += [
        "[models.sam2_encoder]",
        f"file = {toml_str(overlay_path(enc['file'], path))}",
        f"sha256 = \"{enc['sha256']}\"",
        f"source = {toml_str(info['source'])}",
        'license = "Apache-2.0"',
        f"weights = \"{info['weights']}\"",
    ]
    L += [f"# {c}" for c in enc["comments"]]
    L += [
        '# preprocessing: SAM2Transforms (ToTensor = x/255, Resize((1024, 1024)) = stretch, bilinear (torchvision,',
        '#   antialiased on downscale), Normalize(ImageNet mean/std)); background is the engine\'s choice',
        'input = { name = "image", width = 1024, height = 1024, resize = "stretch", interpolation = "bilinear", '
        'scale = "unit", mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225], background = [255, 255, 255] }',
        "outputs = [",
        '  { name = "image_embed", kind = "features", dims = [1, 256, 64, 64] },',
        '  { name = "high_res_feats_0", kind = "features", dims = [1, 32, 256, 256] },',
        '  { name = "high_res_feats_1", kind = "features", dims = [1, 64, 128, 128] },',
        "]",
        "",
        "[models.sam2_decoder]",
        f"file = {toml_str(overlay_path(dec['file'], path))}",
        f"sha256 = \"{dec['sha256']}\"",
        f"source = {toml_str(info['source'])}",
        'license = "Apache-2.0"',
        f"weights = \"{info['weights']}\"",
    ]
    L += [f"# {c}" for c in dec["comments"]]
    L += [
        'prompt = { encoder = "sam2_encoder", points = "point_coords", labels = "point_labels", '
        'mask_input = "mask_input", has_mask_input = "has_mask_input" }',
        "outputs = [",
        '  { name = "masks", kind = "mask_logits", dims = [1, 3, 256, 256] },',
        '  { name = "iou_predictions", kind = "mask_scores", dims = [1, 3] },',
        "]",
        "",
    ]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(L))


def write_report(out_dir, info, checks):
    js_path = os.path.join(out_dir, "sam2_export_report.json")
    with open(js_path, "w") as f:
        json.dump(dict(info=info, checks=checks), f, indent=1, default=str)
    L = [f"# export_sam2.py ({info['weights']})", "",
         f"Mode: {info['mode_line']}", "",
         f"torch {info['versions']['torch']}, sam2 {info['versions']['sam2']}, onnx {info['versions']['onnx']}, "
         f"onnxruntime {info['versions']['onnxruntime']}, {platform.machine()}, {os.cpu_count()} CPUs, load average "
         f"{checks.get('load_avg_1min') or 0:.1f} while timing. Network attempts refused: {info['network_attempts']}.", "",
         "| file | MB | sha256 |", "|---|---|---|"]
    for k, p in info["files"].items():
        if os.path.exists(p):
            L.append(f"| {os.path.basename(p)} | {os.path.getsize(p) / 1e6:.1f} | `{sha256_file(p)}` |")
    L += ["", f"Manifest entries: encoder = `{os.path.basename(info['encoder']['file'])}` "
              f"({info['encoder']['why']}), decoder = `{os.path.basename(info['decoder']['file'])}`.", "",
          "## torch (SAM2ImagePredictor) vs ONNX Runtime FP32", "",
          "| output | max abs diff over all images |", "|---|---|"]
    for k, v in checks["enc_diff"].items():
        L.append(f"| encoder {k} | {v:.2e} |")
    w = checks["worst"]
    L += [f"| decoder masks (fed torch features) | {w['iso_masks']:.2e} |",
          f"| decoder iou_predictions (fed torch features) | {w['iso_iou']:.2e} |",
          f"| end to end masks (ORT encoder -> ORT decoder) | {w['e2e_masks']:.2e} |",
          f"| end to end iou_predictions | {w['e2e_iou']:.2e} |", ""]
    mi = checks["mask_iou_torch_vs_ort"]
    L += [f"Mask agreement (IoU of > 0 at 256x256, every image x prompt x 3 masks): decoder on torch features mean "
          f"{mi['decoder_on_torch_features_mean']:.5f} / min {mi['decoder_on_torch_features_min']:.5f}; end to end mean "
          f"{mi['end_to_end_mean']:.5f} / min {mi['end_to_end_min']:.5f}.", "",
          f"Engine-like preprocessing (PIL bilinear stretch) vs SAM2Transforms (torchvision): mean |diff| "
          f"{checks['prep_summary']['mean_abs_diff_mean']:.4f}, max {checks['prep_summary']['max_abs_diff_max']:.3f} "
          f"(normalised units).", "",
          "| image | prompt | N | masks diff (torch feats) | iou diff | masks diff (end to end) | mask IoU end to end | "
          "fg fraction (torch) | INT8 mask IoU per candidate |", "|---|---|---|---|---|---|---|---|---|"]
    for d in checks["prompts"]:
        e2e = f"{d['e2e_masks']:.2e}" if "e2e_masks" in d else "- (torch features)"
        L.append(f"| {d['image']} | {d['prompt']} | {d['N']} | {d['iso_masks']:.2e} | {d['iso_iou']:.2e} | "
                 f"{e2e} | {[round(v, 5) for v in d.get('e2e_mask_iou', d['iso_mask_iou'])]} | "
                 f"{[round(v, 3) for v in d.get('fg_fraction', [])]} | "
                 f"{'; '.join(f'{c}: {[round(v, 4) for v in m]}' for c, m in d.get('int8_mask_iou', {}).items())} |")
    L += ["", "## Latency (ONNX Runtime, 2 threads, batch 1)", "", "| graph | p50 ms | best ms | runs |",
          "|---|---|---|---|"]
    for k, v in checks["latency"].items():
        L.append(f"| {k} | {v['p50_ms']:.0f} | {v['min_ms']:.0f} | {v['runs']} |")
    if checks.get("int8_summary"):
        L += ["", "## INT8 encoder candidates vs FP32 (decoder FP32 in every case)", "",
              "Candidates (quant_pre_process, then quantize_dynamic QInt8 per-channel): "
              + "; ".join(f"`{c}`: {CANDIDATES[c][1]}, integer ops {info['int8_ops'][c]}" for c in checks["int8_summary"])
              + ".", "",
              "| candidate | MB | p50 ms | best ms | image_embed cos mean / min | high_res_feats_0 cos mean / min | "
              "high_res_feats_1 cos mean / min | mask IoU vs FP32 mean / median / min | kept |",
              "|---|---|---|---|---|---|---|---|---|"]
        for c, s in checks["int8_summary"].items():
            lat = checks["latency"][c]
            cs = s["cos"]
            L.append(f"| {c} | {info['int8_sizes'][c] / 1e6:.1f} | {lat['p50_ms']:.0f} | {lat['min_ms']:.0f} | "
                     + " | ".join(f"{cs[k]['mean']:.5f} / {cs[k]['min']:.5f}" for k, _ in ENC_OUT)
                     + f" | {s['mask_iou_mean']:.4f} / {s['mask_iou_median']:.4f} / {s['mask_iou_min']:.4f} | "
                     + ("**yes**" if info.get("int8_kept") == c else "") + " |")
        L += ["", f"Rule: an INT8 candidate is used only if its mean mask IoU vs FP32 is >= {IOU_TARGET}; among those, "
                  f"the most exact one within {TIE_BAND:.0%} of the fastest best-of-N latency. {info['encoder']['why']}."]
    if info["weights"] == "random-init":
        L += ["", "**RANDOM weights**: these agreement figures prove the export and the quantization path, not the "
                  "quality of a trained SAM 2 (activation statistics of trained weights differ)."]
    md_path = os.path.join(out_dir, "sam2_export_report.md")
    with open(md_path, "w") as f:
        f.write("\n".join(L) + "\n")
    return md_path, js_path


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--random-init", action="store_true", help="random weights (fixed seed); no download")
    mode.add_argument("--checkpoint", help="path to sam2.1_hiera_tiny.pt (real weights; untested here)")
    ap.add_argument("--out", help="output folder (default models/random-init/ or models/full/)")
    ap.add_argument("--manifest-out", help="overlay manifest path, inside --out (default <out>/sam2.manifest.toml)")
    ap.add_argument("--seed", type=int, default=0, help="torch seed for --random-init (default 0)")
    ap.add_argument("--images", nargs="*", default=DEFAULT_IMAGE_DIRS, help="folders of check photos")
    ap.add_argument("--max-images", type=int, default=8)
    ap.add_argument("--runs", type=int, default=5, help="latency runs per encoder (default 5)")
    ap.add_argument("--no-quantize", action="store_true", help="FP32 only")
    ap.add_argument("--keep-work", action="store_true", help="keep the INT8 candidates that were not kept")
    args = ap.parse_args()

    out_dir = os.path.abspath(args.out or os.path.join(MODELS_DIR, "random-init" if args.random_init else "full"))
    os.makedirs(out_dir, exist_ok=True)
    manifest_out = os.path.abspath(args.manifest_out or os.path.join(out_dir, OVERLAY_FILE))
    overlay_path(os.path.join(out_dir, "x.onnx"), manifest_out)  # fail now, not after the export
    if os.path.exists(manifest_out):
        with open(manifest_out, encoding="utf-8") as f:
            if not f.read(len(OVERLAY_HEADER)) == OVERLAY_HEADER:
                sys.exit(f"error: {manifest_out} exists and was not written by export_sam2.py (e.g. the complete "
                         f"manifest.toml scripts/random_init_models.py writes): refusing to overwrite it")
    image_paths = find_images(args.images, args.max_images)
    if not image_paths:
        sys.exit("error: no check photos found: run `bash models/export/fetch_test_images.sh` (-> /tmp/skimage_data)")
    if args.checkpoint and not os.path.isfile(args.checkpoint):
        sys.exit(f"error: checkpoint {args.checkpoint} not found")

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    guard = NetworkGuard("export_sam2.py")
    guard.install()

    import numpy as np
    import onnx
    import onnxruntime
    import torch

    torch.set_num_threads(2)
    import sam2

    versions = dict(torch=torch.__version__, sam2=getattr(sam2, "__version__", None) or _dist_version("sam2"),
                    onnx=onnx.__version__, onnxruntime=onnxruntime.__version__)
    if args.random_init:
        weights = "random-init"
        ck = None
        source = (f"facebook/sam2.1-hiera-tiny architecture (sam2 {versions['sam2']} {CONFIG}), RANDOM weights "
                  f"(torch.manual_seed({args.seed})): not a trained model")
        mode_line = "--random-init (RANDOM weights: architecture-faithful, segments nothing real)"
    else:
        weights = "pretrained"
        ck = sha256_file(args.checkpoint)
        source = (f"facebook/sam2.1-hiera-tiny ({os.path.basename(args.checkpoint)} sha256 {ck}; sam2 "
                  f"{versions['sam2']} {CONFIG})")
        mode_line = f"--checkpoint {args.checkpoint} (pretrained weights)"
    log(f"mode: {mode_line}")
    log(f"out: {out_dir}; manifest: {manifest_out}; {len(image_paths)} check photos")

    t0 = time.time()
    model = build_model(args)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"built SAM 2.1 Hiera-tiny from {CONFIG}: {n_params / 1e6:.1f} M parameters ({time.time() - t0:.1f} s)")
    static_pos_embed(model)  # before the checks too: torch reference and graph run the same (identical) code
    enc_mod, dec_mod = wrappers(model)

    paths = {"encoder": os.path.join(out_dir, f"{STEM}_encoder.onnx"),
             "decoder": os.path.join(out_dir, f"{STEM}_decoder.onnx")}
    meta = dict(source=source, weights=weights)
    ex_img = torch.from_numpy(engine_like_input(load_rgb(image_paths[0])))
    t0 = time.time()
    enc_ops = export_graph(enc_mod, (ex_img,), paths["encoder"], ["image"], [n for n, _ in ENC_OUT], None,
                           {**meta, "graph": "SAM2ImagePredictor.set_image (forward_image + no_mem_embed)"}, dict(ENC_OUT))
    log(f"exported {paths['encoder']} ({os.path.getsize(paths['encoder']) / 1e6:.1f} MB, {time.time() - t0:.0f} s)")
    with torch.no_grad():
        e = enc_mod(ex_img)
    ex = (e[0], e[1], e[2], torch.tensor([[[100.0, 120.0], [800.0, 900.0], [450.0, 500.0]]]),
          torch.tensor([[2.0, 3.0, 1.0]]), torch.zeros(1, 1, 256, 256), torch.zeros(1))
    t0 = time.time()
    dec_ops = export_graph(dec_mod, ex, paths["decoder"], DEC_IN, [n for n, _ in DEC_OUT],
                           {"point_coords": {1: "N"}, "point_labels": {1: "N"}},
                           {**meta, "graph": "SAM2ImagePredictor._predict(multimask_output=True): prompt encoder "
                                             "(pad point appended in-graph) + mask decoder, low-res logits"}, dict(DEC_OUT))
    log(f"exported {paths['decoder']} ({os.path.getsize(paths['decoder']) / 1e6:.1f} MB, {time.time() - t0:.0f} s)")
    for k in ("encoder", "decoder"):
        ins, outs = graph_io(paths[k])
        log(f"  {k} I/O: in {ins} out {outs}")
    log(f"  encoder ops: {', '.join(enc_ops)}")
    log(f"  decoder ops: {', '.join(dec_ops)}")
    del e

    int8_paths, int8_ops = {}, {}
    if not args.no_quantize:
        int8_paths, int8_ops = quantize_encoder(paths["encoder"], out_dir)

    log("checks (torch SAM2ImagePredictor vs ONNX Runtime):")
    checks = run_checks(model, paths, image_paths, int8_paths, args.runs)
    lat = checks["latency"]
    log("latency (ORT, 2 threads, batch 1): " + ", ".join(f"{k} p50 {v['p50_ms']:.0f} ms / best {v['min_ms']:.0f} ms"
                                                         for k, v in lat.items())
        + f" (load average {checks['load_avg_1min'] or 0:.1f})")

    fp32_mb = os.path.getsize(paths["encoder"]) / 1e6
    enc_file, why, kept = paths["encoder"], "FP32 (--no-quantize)", None
    enc_comments = [f"FP32 {fp32_mb:.1f} MB, batch-1 p50 {lat['encoder_fp32']['p50_ms']:.0f} ms / best "
                    f"{lat['encoder_fp32']['min_ms']:.0f} ms on 2 threads of a shared {platform.machine()} VM "
                    f"(load {checks['load_avg_1min'] or 0:.1f})"]
    int8_sizes = {c: os.path.getsize(p) for c, p in int8_paths.items()}
    if int8_paths:
        summ = checks["int8_summary"]
        for c, s in summ.items():
            enc_comments.append(
                f"{c} ({CANDIDATES[c][1]}): {int8_sizes[c] / 1e6:.1f} MB, p50 {lat[c]['p50_ms']:.0f} ms / best "
                f"{lat[c]['min_ms']:.0f} ms; image_embed cosine vs FP32 mean {s['cos']['image_embed']['mean']:.5f} min "
                f"{s['cos']['image_embed']['min']:.5f}; mask IoU vs FP32 mean {s['mask_iou_mean']:.4f} min "
                f"{s['mask_iou_min']:.4f}")
        passing = {c: s for c, s in summ.items() if s["mask_iou_mean"] >= IOU_TARGET}
        n_masks = f"{len(image_paths)} photos x {len(prompts_for(1, 1))} prompts x 3 masks"
        if passing:
            fastest = min(lat[c]["min_ms"] for c in passing)
            near = {c: s for c, s in passing.items() if lat[c]["min_ms"] <= (1 + TIE_BAND) * fastest}
            kept = max(near, key=lambda c: near[c]["mask_iou_mean"])
            why = (f"INT8 kept ({kept}): mean mask IoU vs FP32 {summ[kept]['mask_iou_mean']:.4f} >= {IOU_TARGET} over "
                   f"{n_masks}, the most exact candidate within {TIE_BAND:.0%} of the fastest")
            final = os.path.join(out_dir, f"{STEM}_encoder_int8.onnx")
            os.replace(int8_paths[kept], final)
            int8_paths[kept] = final
            enc_file = final
        else:
            best = max(summ, key=lambda c: summ[c]["mask_iou_mean"])
            stale = os.path.join(out_dir, f"{STEM}_encoder_int8.onnx")
            if os.path.exists(stale):
                os.remove(stale)  # an earlier run's INT8 file must not sit beside a manifest that does not use it
            why = (f"FP32 kept: no INT8 candidate reached mean mask IoU {IOU_TARGET} vs FP32 over {n_masks} "
                   f"(best: {best} {summ[best]['mask_iou_mean']:.4f})")
        for c, p in list(int8_paths.items()):  # the candidates not kept are measured, not kept
            if c != kept and not args.keep_work:
                os.remove(p)
        enc_comments.append(why)
    if args.random_init:
        enc_comments.append("RANDOM weights: agreement figures prove the export / quantization path only")
    w = checks["worst"]
    mi = checks["mask_iou_torch_vs_ort"]
    check_line = (f"encoder max |diff| " + ", ".join(f"{k} {v:.1e}" for k, v in checks["enc_diff"].items())
                  + f"; decoder masks {w['iso_masks']:.1e} iou {w['iso_iou']:.1e}; mask IoU end to end mean "
                  f"{mi['end_to_end_mean']:.4f} min {mi['end_to_end_min']:.4f}")
    dec_comments = [
        f"FP32 {os.path.getsize(paths['decoder']) / 1e6:.1f} MB, p50 {lat['decoder_fp32']['p50_ms']:.0f} ms; prompt encoder + "
        "mask decoder, multimask_output=True; the padding point (label -1) is appended inside the graph",
        "point_coords: x, y in the 1024x1024 encoder-input frame = original pixel x * 1024 / width, y * 1024 / height "
        "(the graph adds SAM's +0.5); a box = two points labelled 2, 3, put before the other points",
        "masks: low-res logits, NOT clamped (the predictor upsamples these; clamp to [-32, 32] before feeding one "
        "back as mask_input, as the predictor's low_res_masks are)",
    ]
    info = dict(mode_line=mode_line, versions=versions, network_attempts=len(guard.attempts), weights=weights,
                source=source, checkpoint_sha256=ck, n_images=len(image_paths), check_line=check_line,
                images=image_paths, n_params=n_params, int8_ops=int8_ops, int8_sizes=int8_sizes, int8_kept=kept,
                encoder=dict(file=enc_file, sha256=sha256_file(enc_file), comments=enc_comments, why=why),
                decoder=dict(file=paths["decoder"], sha256=sha256_file(paths["decoder"]), comments=dec_comments),
                files={"encoder_fp32": paths["encoder"], "decoder": paths["decoder"],
                       **{c: p for c, p in int8_paths.items() if os.path.exists(p)}})
    write_manifest(manifest_out, info)
    md, js = write_report(out_dir, info, checks)
    log(f"encoder for the manifest: {os.path.basename(enc_file)} ({why})")
    for k, p in info["files"].items():
        log(f"  {p}: {os.path.getsize(p) / 1e6:.1f} MB sha256 {sha256_file(p)}")
    log(f"wrote {manifest_out}, {md}, {js}; network attempts refused: {len(guard.attempts)}")


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
