#!/usr/bin/env python3
"""Small stand-in graphs for SAM 2 (the `full` profile's index-time catalog segmenter).

They have exactly the input/output names, dtypes and shapes of the two graphs that
models/export/export_sam2.py exports (SAM 2.1 Hiera-tiny: image encoder + prompt encoder/mask decoder),
but their outputs are simple deterministic functions of the inputs, so the Rust engine's SAM 2 code path
(preprocess, encoder, box/point prompt, picking one of the three masks, upsampling logits) can be tested
with `cargo test`, without torch and without the real weights. No weight tensors: each file is ~2-3 KB.

  model id       file                      inputs (float32)                   outputs (float32)
  sam2_encoder   sam2_encoder_test.onnx    image            [1,3,1024,1024]   image_embed      [1,256,64,64]
                                                                              high_res_feats_0 [1,32,256,256]
                                                                              high_res_feats_1 [1,64,128,128]
  sam2_decoder   sam2_decoder_test.onnx    image_embed      [1,256,64,64]     masks            [1,3,256,256] (logits)
                                           high_res_feats_0 [1,32,256,256]    iou_predictions  [1,3]
                                           high_res_feats_1 [1,64,128,128]
                                           point_coords     [1,N,2]  (N dynamic; x, y in the 1024x1024 input frame)
                                           point_labels     [1,N]    (1 fg, 0 bg, 2 box top-left, 3 box bottom-right, -1 pad)
                                           mask_input       [1,1,256,256]
                                           has_mask_input   [1]

What the graphs compute:
  encoder: g = mean over the 3 channels of `image` (the normalised tensor, as the engine feeds it), then
             high_res_feats_0[:, 0] = 4x4 average pool of g   (256x256), channels 1..31  = 0
             high_res_feats_1[:, 0] = 8x8 average pool of g   (128x128), channels 1..63  = 0
             image_embed[:, 0]      = 16x16 average pool of g (64x64),   channels 1..255 = 0
  decoder: f = high_res_feats_0[:, 0] (256x256), T = mean of f over the whole grid
             masks[:, 0] = 40 * (T - f)     "dark object": pixels darker than the image mean are foreground (> 0),
                                            i.e. a product on a white background
             masks[:, 1] = +10 inside the box prompt, -10 outside. The box is spanned by the points labelled 2
                           (top-left: the minimum x and y over label-2 points) and 3 (bottom-right: the maximum x
                           and y over label-3 points); cell (row r, col c) of the 256 grid covers input pixels
                           [4c, 4c+4) x [4r, 4r+4) and is inside iff x0 <= 4c+2 <= x1 and y0 <= 4r+2 <= y1
                           (its centre, i.e. coordinates / 4 in the 256 grid). No label-2 or no label-3 point:
                           -10 everywhere.
             masks[:, 2] = -masks[:, 0]     the background: a mask that disagrees with the saliency
             iou_predictions = [0.5, 0.6, 0.9] (constant): the graph's own score prefers the WRONG mask (2), so
                           the engine must choose by agreement with its saliency map, not trust iou blindly.
             Like the real graph, the decoder appends SAM's padding point ((0, 0), label -1) itself, so N = 0 is
             accepted. image_embed, high_res_feats_1, mask_input and has_mask_input are real, used inputs but
             enter with a zero weight: + 0 * (mean(image_embed) + mean(high_res_feats_1)
             + has_mask_input * mean(mask_input)); --check verifies ORT keeps all seven as session inputs.
  `reference_*` below computes the same outputs in numpy.

Also written: sam2_manifest_snippet.toml ([models.sam2_encoder] / [models.sam2_decoder], paths relative to models/,
sha256 of both files, weights = "random-init"), in the schema export_sam2.py writes.

Usage:  python models/generated/make_sam2_test_graphs.py [--out DIR] [--check]
        Needs only onnx and numpy. Deterministic: the same bytes every run.
        --check also runs both graphs in onnxruntime (if installed) against the numpy reference.
"""

import argparse
import os
import sys

import numpy as np

from make_test_graphs import _finish, manifest_prefix, sha256_file

HERE = os.path.dirname(os.path.abspath(__file__))

PRODUCER = "make_sam2_test_graphs.py"
SIZE = 1024          # encoder input (stretched), SAM2Transforms resolution
EMBED = (256, 64)    # image_embed channels, grid
HR0 = (32, 256)      # high_res_feats_0 channels, grid
HR1 = (64, 128)      # high_res_feats_1 channels, grid
MASK = 256           # low-res mask grid
DARK_GAIN = 40.0
BOX_LOGIT = 10.0
IOU = [0.5, 0.6, 0.9]
FAR = 1.0e9          # sentinel for "no box point" (finite: no inf * 0 = NaN anywhere)

ENCODER_FILE = "sam2_encoder_test.onnx"
DECODER_FILE = "sam2_decoder_test.onnx"
SNIPPET_FILE = "sam2_manifest_snippet.toml"

# Manifest tables: identical to what models/export/export_sam2.py writes (SAM2Transforms: ToTensor (x/255),
# Resize((1024, 1024)) = stretch, bilinear, Normalize(ImageNet mean/std)). Background is the engine's choice.
ENCODER_INPUT = ('{ name = "image", width = 1024, height = 1024, resize = "stretch", interpolation = "bilinear", '
                 'scale = "unit", mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225], '
                 'background = [255, 255, 255] }')
ENCODER_OUTPUTS = [("image_embed", "features", [1, 256, 64, 64]),
                   ("high_res_feats_0", "features", [1, 32, 256, 256]),
                   ("high_res_feats_1", "features", [1, 64, 128, 128])]
DECODER_PROMPT = ('{ encoder = "sam2_encoder", points = "point_coords", labels = "point_labels", '
                  'mask_input = "mask_input", has_mask_input = "has_mask_input" }')
DECODER_OUTPUTS = [("masks", "mask_logits", [1, 3, 256, 256]),
                   ("iou_predictions", "mask_scores", [1, 3])]


# ---------------------------------------------------------------- numpy reference
def _pool(g, grid):
    k = SIZE // grid
    return g.reshape(g.shape[0], grid, k, grid, k).mean(axis=(2, 4), dtype=np.float32)


def reference_encoder(image):
    g = image.mean(axis=1, dtype=np.float32)  # [1, 1024, 1024]
    outs = {}
    for name, (ch, grid) in (("image_embed", EMBED), ("high_res_feats_0", HR0), ("high_res_feats_1", HR1)):
        o = np.zeros((image.shape[0], ch, grid, grid), np.float32)
        o[:, 0] = _pool(g, grid)
        outs[name] = o
    return outs


def reference_box(coords, labels):
    """[256, 256] +-10 box mask from the prompt points (batch 1)."""
    c, l = coords[0], labels[0]
    tl, br = c[l == 2], c[l == 3]
    out = np.full((MASK, MASK), -BOX_LOGIT, np.float32)
    if len(tl) and len(br):
        x0, y0 = tl.min(axis=0)
        x1, y1 = br.max(axis=0)
        centre = np.arange(MASK, dtype=np.float32) * 4 + 2
        inx = (centre >= x0) & (centre <= x1)
        iny = (centre >= y0) & (centre <= y1)
        out[np.outer(iny, inx)] = BOX_LOGIT
    return out


def reference_decoder(feed):
    f = feed["high_res_feats_0"][:, 0]
    t = f.mean(dtype=np.float32)
    m0 = np.float32(DARK_GAIN) * (t - f)
    masks = np.stack([m0[0], reference_box(feed["point_coords"], feed["point_labels"]), -m0[0]])[None]
    return {"masks": masks.astype(np.float32), "iou_predictions": np.array([IOU], np.float32)}


# ---------------------------------------------------------------- graphs
def encoder_graph():
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("ReduceMean", ["image"], ["gray"], axes=[1], keepdims=1)]
    inits = []
    for name, (ch, grid) in (("image_embed", EMBED), ("high_res_feats_0", HR0), ("high_res_feats_1", HR1)):
        k = SIZE // grid
        nodes += [
            helper.make_node("AveragePool", ["gray"], [f"{name}_c0"], kernel_shape=[k, k], strides=[k, k]),
            # zero channels 1..ch-1 after channel 0
            helper.make_node("Pad", [f"{name}_c0", f"{name}_pads"], [name], mode="constant"),
        ]
        inits.append(helper.make_tensor(f"{name}_pads", TensorProto.INT64, [8], [0, 0, 0, 0, 0, ch - 1, 0, 0]))
    graph = helper.make_graph(
        nodes, "sam2_encoder_test",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, d) for n, _, d in ENCODER_OUTPUTS],
        initializer=inits,
    )
    desc = ("TEST GRAPH (not a trained model) standing in for the SAM 2 image encoder: channel 0 of each output is "
            "the channel-mean of the input average-pooled to the output grid, other channels zero")
    return _finish(onnx, helper, graph, desc, "sam2_encoder", PRODUCER)


def decoder_graph():
    import onnx
    from onnx import TensorProto, helper

    F = TensorProto.FLOAT
    I64 = TensorProto.INT64

    def t(name, dtype, dims, vals):
        return helper.make_tensor(name, dtype, dims, vals)

    nodes = [
        # ---- SAM's padding point ((0, 0), label -1) appended, as the prompt encoder does with pad=True
        helper.make_node("Concat", ["point_coords", "pad_coord"], ["coords"], axis=1),
        helper.make_node("Concat", ["point_labels", "pad_label"], ["labels"], axis=1),
        # ---- mask 0: 40 * (T - f), f = high_res_feats_0[:, 0:1]
        helper.make_node("Slice", ["high_res_feats_0", "s0", "s1", "ax1"], ["f"]),
        helper.make_node("ReduceMean", ["f"], ["T"], axes=[2, 3], keepdims=1),
        helper.make_node("Sub", ["T", "f"], ["t_minus_f"]),
        helper.make_node("Mul", ["t_minus_f", "dark_gain"], ["m0"]),
        helper.make_node("Neg", ["m0"], ["m2"]),
        # ---- mask 1: the box. x/y of every point: [1, N+1]
        helper.make_node("Gather", ["coords", "i0"], ["px"], axis=2),
        helper.make_node("Gather", ["coords", "i1"], ["py"], axis=2),
        helper.make_node("Equal", ["labels", "two"], ["is_tl"]),
        helper.make_node("Equal", ["labels", "three"], ["is_br"]),
        helper.make_node("Where", ["is_tl", "px", "far"], ["tlx"]),
        helper.make_node("Where", ["is_tl", "py", "far"], ["tly"]),
        helper.make_node("Where", ["is_br", "px", "near"], ["brx"]),
        helper.make_node("Where", ["is_br", "py", "near"], ["bry"]),
        helper.make_node("ReduceMin", ["tlx"], ["x0"], keepdims=0),
        helper.make_node("ReduceMin", ["tly"], ["y0"], keepdims=0),
        helper.make_node("ReduceMax", ["brx"], ["x1"], keepdims=0),
        helper.make_node("ReduceMax", ["bry"], ["y1"], keepdims=0),
        # cell centres 4c + 2 in the 1024 frame
        helper.make_node("Range", ["c_start", "c_limit", "c_delta"], ["centre"]),
        helper.make_node("GreaterOrEqual", ["centre", "x0"], ["gx"]),
        helper.make_node("LessOrEqual", ["centre", "x1"], ["lx"]),
        helper.make_node("And", ["gx", "lx"], ["inx"]),
        helper.make_node("GreaterOrEqual", ["centre", "y0"], ["gy"]),
        helper.make_node("LessOrEqual", ["centre", "y1"], ["ly"]),
        helper.make_node("And", ["gy", "ly"], ["iny"]),
        helper.make_node("Unsqueeze", ["iny", "ax1"], ["iny2"]),   # [256, 1]
        helper.make_node("Unsqueeze", ["inx", "ax0"], ["inx2"]),   # [1, 256]
        helper.make_node("And", ["iny2", "inx2"], ["inbox"]),       # [256, 256]
        helper.make_node("Where", ["inbox", "box_in", "box_out"], ["m1_2d"]),
        helper.make_node("Reshape", ["m1_2d", "shape_1_1"], ["m1"]),
        # ---- the unused inputs enter with weight 0 (stay real, consumed inputs)
        helper.make_node("ReduceMean", ["image_embed"], ["mean_embed"], keepdims=0),
        helper.make_node("ReduceMean", ["high_res_feats_1"], ["mean_hr1"], keepdims=0),
        helper.make_node("ReduceMean", ["mask_input"], ["mean_mask"], keepdims=0),
        helper.make_node("Mul", ["has_mask_input", "mean_mask"], ["mask_term"]),  # [1]
        helper.make_node("Add", ["mean_embed", "mean_hr1"], ["feat_term"]),
        helper.make_node("Add", ["feat_term", "mask_term"], ["unused_sum"]),
        helper.make_node("Mul", ["unused_sum", "zero_f"], ["zero_term"]),
        helper.make_node("Concat", ["m0", "m1", "m2"], ["masks_raw"], axis=1),
        helper.make_node("Add", ["masks_raw", "zero_term"], ["masks"]),
        helper.make_node("Identity", ["iou_const"], ["iou_predictions"]),
    ]
    inits = [
        t("pad_coord", F, [1, 1, 2], [0.0, 0.0]),
        t("pad_label", F, [1, 1], [-1.0]),
        t("s0", I64, [1], [0]), t("s1", I64, [1], [1]), t("ax1", I64, [1], [1]), t("ax0", I64, [1], [0]),
        t("i0", I64, [], [0]), t("i1", I64, [], [1]),
        t("two", F, [], [2.0]), t("three", F, [], [3.0]),
        t("far", F, [], [FAR]), t("near", F, [], [-FAR]),
        t("dark_gain", F, [], [DARK_GAIN]),
        t("c_start", F, [], [2.0]), t("c_limit", F, [], [float(SIZE)]), t("c_delta", F, [], [4.0]),
        t("box_in", F, [], [BOX_LOGIT]), t("box_out", F, [], [-BOX_LOGIT]),
        t("shape_1_1", I64, [4], [1, 1, MASK, MASK]),
        t("zero_f", F, [], [0.0]),
        t("iou_const", F, [1, 3], IOU),
    ]
    inputs = [
        helper.make_tensor_value_info("image_embed", F, [1, 256, 64, 64]),
        helper.make_tensor_value_info("high_res_feats_0", F, [1, 32, 256, 256]),
        helper.make_tensor_value_info("high_res_feats_1", F, [1, 64, 128, 128]),
        helper.make_tensor_value_info("point_coords", F, [1, "N", 2]),
        helper.make_tensor_value_info("point_labels", F, [1, "N"]),
        helper.make_tensor_value_info("mask_input", F, [1, 1, MASK, MASK]),
        helper.make_tensor_value_info("has_mask_input", F, [1]),
    ]
    graph = helper.make_graph(
        nodes, "sam2_decoder_test", inputs,
        [helper.make_tensor_value_info(n, F, d) for n, _, d in DECODER_OUTPUTS],
        initializer=inits,
    )
    desc = ("TEST GRAPH (not a trained model) standing in for the SAM 2 prompt encoder + mask decoder: mask 0 = "
            "40*(mean(f)-f) of high_res_feats_0[:,0] (dark object), mask 1 = +-10 box from the points labelled 2/3, "
            "mask 2 = -mask 0; iou_predictions = [0.5, 0.6, 0.9]")
    return _finish(onnx, helper, graph, desc, "sam2_decoder", PRODUCER)


# ---------------------------------------------------------------- manifest snippet
def entry(model_id, rel_file, sha, extra_lines):
    L = [f"[models.{model_id}]", f'file = "{rel_file}"', f'sha256 = "{sha}"',
         'source = "models/generated/make_sam2_test_graphs.py (test graph, not a trained model)"',
         'license = "Apache-2.0"', 'weights = "random-init"']
    return L + extra_lines + [""]


def outputs_lines(outs):
    return ["outputs = ["] + [f'  {{ name = "{n}", kind = "{k}", dims = [{", ".join(map(str, d))}] }},'
                              for n, k, d in outs] + ["]"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE, help="output folder (default: models/generated/)")
    ap.add_argument("--check", action="store_true", help="also run the graphs against the numpy reference")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    prefix = manifest_prefix(args.out)

    paths = {"sam2_encoder": os.path.join(args.out, ENCODER_FILE), "sam2_decoder": os.path.join(args.out, DECODER_FILE)}
    for model_id, model in (("sam2_encoder", encoder_graph()), ("sam2_decoder", decoder_graph())):
        with open(paths[model_id], "wb") as f:
            f.write(model.SerializeToString())

    L = ["# GENERATED by models/generated/make_sam2_test_graphs.py: do not edit.",
         "# TEST GRAPHS for SAM 2 (the `full` profile's index-time segmenter; not trained models): exact I/O names,",
         "# dtypes and shapes of models/export/export_sam2.py's graphs; outputs are simple functions of the inputs",
         "# (see the script's docstring). File paths are relative to models/.", ""]
    L += entry("sam2_encoder", prefix + ENCODER_FILE, sha256_file(paths["sam2_encoder"]),
               [f"input = {ENCODER_INPUT}"] + outputs_lines(ENCODER_OUTPUTS))
    L += entry("sam2_decoder", prefix + DECODER_FILE, sha256_file(paths["sam2_decoder"]),
               [f"prompt = {DECODER_PROMPT}"] + outputs_lines(DECODER_OUTPUTS))
    snippet = os.path.join(args.out, SNIPPET_FILE)
    with open(snippet, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(L))

    for model_id, path in paths.items():
        print(f"{path}: {os.path.getsize(path)} bytes, sha256 {sha256_file(path)}")
    print(snippet)

    if args.check:
        ok = check(paths)
        print("CHECK OK" if ok else "CHECK FAILED")
        sys.exit(0 if ok else 1)


def check(paths):
    ok = True
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: nothing to check the numpy reference against")
        return True
    rng = np.random.default_rng(11)
    # a normalised 'photo': white background (ImageNet-normalised 255) with a dark rectangle, plus noise
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    rgb = np.ones((3, SIZE, SIZE), np.float32)
    rgb[:, 300:700, 200:600] = 0.2
    rgb = np.clip(rgb + np.float32(0.02) * rng.normal(size=rgb.shape).astype(np.float32), 0, 1)
    image = ((rgb - mean) / std)[None].astype(np.float32)

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    enc = ort.InferenceSession(paths["sam2_encoder"], so, providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(paths["sam2_decoder"], so, providers=["CPUExecutionProvider"])
    got_in = [i.name for i in dec.get_inputs()]
    want_in = ["image_embed", "high_res_feats_0", "high_res_feats_1", "point_coords", "point_labels", "mask_input",
               "has_mask_input"]
    if got_in != want_in:
        ok = False
        print(f"FAIL: decoder session inputs {got_in} != {want_in}")
    else:
        print(f"decoder session inputs (ORT_ENABLE_ALL): {got_in}")
    names = [o.name for o in enc.get_outputs()]
    eo = dict(zip(names, enc.run(None, {"image": image})))
    er = reference_encoder(image)
    for n, _, d in ENCODER_OUTPUTS:
        diff = float(np.abs(eo[n] - er[n]).max())
        print(f"encoder {n}: {list(eo[n].shape)} (want {d}), ORT vs numpy max abs diff {diff:.2e}")
        if list(eo[n].shape) != d or diff > 1e-5:
            ok = False
            print(f"FAIL: encoder {n}")

    prompts = [
        ("box + 1 point", [[200, 300], [599, 699], [400, 500]], [2, 3, 1]),
        ("box + 2 points", [[200, 300], [599, 699], [400, 500], [50, 50]], [2, 3, 1, 0]),
        ("1 point, no box", [[400, 500]], [1]),
        ("no points (N = 0)", np.zeros((0, 2)), []),
    ]
    for label, pts, lab in prompts:
        feed = {k: eo[k] for k in ("image_embed", "high_res_feats_0", "high_res_feats_1")}
        feed["point_coords"] = np.asarray(pts, np.float32).reshape(1, -1, 2)
        feed["point_labels"] = np.asarray(lab, np.float32).reshape(1, -1)
        feed["mask_input"] = rng.normal(size=(1, 1, MASK, MASK)).astype(np.float32)
        feed["has_mask_input"] = np.array([1.0 if label.startswith("box + 2") else 0.0], np.float32)
        out = dict(zip([o.name for o in dec.get_outputs()], dec.run(None, feed)))
        ref = reference_decoder(feed)
        dm = float(np.abs(out["masks"] - ref["masks"]).max())
        di = float(np.abs(out["iou_predictions"] - ref["iou_predictions"]).max())
        fg = [(out["masks"][0, i] > 0).mean() for i in range(3)]
        print(f"decoder, {label} (N={feed['point_labels'].shape[1]}): masks {list(out['masks'].shape)}, iou "
              f"{out['iou_predictions'].tolist()}, max abs diff masks {dm:.2e} iou {di:.2e}, foreground fraction "
              f"per mask {[round(float(x), 4) for x in fg]}")
        if dm > 1e-4 or di > 0 or list(out["masks"].shape) != [1, 3, MASK, MASK]:
            ok = False
            print(f"FAIL: decoder, {label}")
    # the dark rectangle is cols 200..599, rows 300..699: cells 50..149 x 75..174 of the 256 grid
    m0 = reference_decoder({**{k: eo[k] for k in ("high_res_feats_0",)},
                            "point_coords": np.zeros((1, 0, 2), np.float32),
                            "point_labels": np.zeros((1, 0), np.float32)})["masks"][0, 0] > 0
    want = np.zeros((MASK, MASK), bool)
    want[75:175, 50:150] = True
    iou = float((m0 & want).sum() / (m0 | want).sum())
    print(f"dark-object mask vs the drawn rectangle: IoU {iou:.4f}")
    if iou < 0.99:
        ok = False
        print("FAIL: dark-object mask")
    return ok


if __name__ == "__main__":
    main()
