#!/usr/bin/env python3
"""Small stand-in graphs for the `full` profile's models (SigLIP2, FashionSigLIP, DINOv2-small).

They have exactly the input/output names, dtypes and shapes of the graphs that
models/export/export_seed_models.py exports, but their outputs are simple deterministic functions
of the input, so the Rust engine's full-profile code paths (router with text prototypes, two-expert
merge, DINOv2 texture) can be tested with `cargo test`, without torch and without the real weights.

  model id              file                              input                          output
  siglip2               siglip2_image_test.onnx           pixel_values f32 [N,3,224,224]  image_embeds f32 [N,768], unit L2 norm
  siglip2_text          siglip2_text_test.onnx            input_ids    i64 [N,64]         text_embeds  f32 [N,768], unit L2 norm
  fashion_siglip        fashion_siglip_image_test.onnx    pixel_values f32 [N,3,224,224]  image_embeds f32 [N,768], unit L2 norm
  fashion_siglip_text   fashion_siglip_text_test.onnx     input_ids    i64 [N,64]         text_embeds  f32 [N,768], unit L2 norm
  dinov2_small          dinov2_small_test.onnx            pixel_values f32 [N,3,224,224]  cls          f32 [N,384], NOT normalised
                                                                                          (like the real CLS token)

What the graphs compute (no stored weight matrices; every graph is a few KB):
  image:   average-pool to a G x G grid (G = 8 for siglip2, 7 for fashion_siglip, 16 for dinov2:
           the ViT-S/14 patch grid), flatten, multiply by a pseudo-random matrix W, L2-normalise
           (image_embeds) or scale by 4 (cls). Similar images give similar vectors; different
           images give different vectors.
  text:    bag of tokens and token pairs: every position whose id is not the pad id adds the
           pseudo-random vector of its token id, every adjacent non-pad pair adds the vector of the
           pair; the sum is L2-normalised. Texts sharing words are close, others less so.
  W and the token vectors come from an integer hash evaluated inside the graph with exact int64
  arithmetic (Range/Mul/Add/Mod), so every ONNX Runtime build gives the same numbers:
           x = ((k mod P) * A) mod P,  y = (x * x + C) mod P,  value = y / P - 0.5,  P = 2^31 - 1
  with k = row * cols + col (W), token_id * 768 + dim (text unigrams) or
  (id_t * 2^18 + id_t+1) * 768 + dim (text bigrams, own A and C), and A, C drawn from a seeded
  numpy generator per model. `reference_*` below computes the same outputs in numpy.

Also written (models/generated/):
  siglip2_tokenizer_stub.json, fashion_siglip_tokenizer_stub.json
           STUB tokenizers in Hugging Face `tokenizers` JSON format (load with the Rust `tokenizers`
           crate: Tokenizer::from_file): byte-level (every UTF-8 byte is one token <0xNN>, like
           SentencePiece byte fallback), one </s> appended, truncated and right-padded to exactly
           64 ids. siglip2 stub: lowercases, <pad>=0 </s>=1 (SigLIP2/Gemma ids). fashion stub:
           open_clip's "canonicalize" cleaning baked into the normalizer (underscores to spaces,
           ASCII punctuation removed, lowercased, whitespace collapsed), pads with </s>=1 (SigLIP/T5
           ids). They are NOT the real vocabularies: ids mean nothing to a trained model.
  manifest_snippet.toml
           [models.*] entries for these files (paths relative to models/, sha256 of every file),
           weights = "random-init", same preprocessing tables as models/export/full_manifest.toml.

Usage:  python models/generated/make_test_graphs.py [--out DIR] [--check]
        Needs only onnx and numpy (the export venv has both). Deterministic: the same bytes every run.
        --check additionally runs every graph in onnxruntime (if installed) against the numpy
        reference, and every stub tokenizer through the `tokenizers` package (if installed).
"""

import argparse
import hashlib
import json
import os
import string
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.normpath(os.path.join(HERE, ".."))

OPSET = 17
IR_VERSION = 8
SIZE = 224
TEXT_LEN = 64
EMBED_DIM = 768
CLS_DIM = 384
P = 2147483647  # 2^31 - 1 (prime); x * x < 2^62 fits int64
CLS_SCALE = 4.0
BIGRAM_BASE = 1 << 18  # > every vocabulary here (Gemma: 256000)

# Preprocessing tables, identical to what export_seed_models.py derives from each model's own
# processor config (it warns when they drift apart). Background is the engine's choice, not the model's.
INPUTS = {
    "siglip2": dict(name="pixel_values", width=SIZE, height=SIZE, resize="stretch", interpolation="bilinear",
                    scale="unit", mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]),
    "fashion_siglip": dict(name="pixel_values", width=SIZE, height=SIZE, resize="stretch", interpolation="bicubic",
                           scale="unit", mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]),
    "dinov2_small": dict(name="pixel_values", width=SIZE, height=SIZE, resize="shorter_side_then_center_crop",
                         resize_shorter=256, interpolation="bicubic", scale="unit",
                         mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
}
BACKGROUND = [255, 255, 255]

# Stub tokenizer conventions per text tower (mirror the real tokenizers' special ids).
STUBS = {
    # Gemma ids (SigLIP2): <pad>=0, <eos>=1, <bos>=2, <unk>=3; SigLIP2 lowercases its text.
    "siglip2": dict(specials=["<pad>", "</s>", "<s>", "<unk>"], pad="<pad>", eos="</s>", unk="<unk>", clean="lower"),
    # SigLIP (T5 SentencePiece, open_clip "timm/ViT-B-16-SigLIP"): <pad>=0, </s>=1, <unk>=2, pads with </s>;
    # open_clip cleans text with "canonicalize" before tokenising.
    "fashion_siglip": dict(specials=["<pad>", "</s>", "<unk>"], pad="</s>", eos="</s>", unk="<unk>",
                           clean="canonicalize"),
}

# (manifest id, file, kind, seed, grid)
GRAPHS = [
    ("siglip2", "siglip2_image_test.onnx", "image", 1001, 8),
    ("siglip2_text", "siglip2_text_test.onnx", "text", 1002, None),
    ("fashion_siglip", "fashion_siglip_image_test.onnx", "image", 2001, 7),
    ("fashion_siglip_text", "fashion_siglip_text_test.onnx", "text", 2002, None),
    ("dinov2_small", "dinov2_small_test.onnx", "cls", 3001, 16),
]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_consts(seed, n=1):
    """n (A, C) pairs for one graph, from a seeded generator."""
    rng = np.random.default_rng(seed)
    out = [(int(rng.integers(1 << 20, P - 1)), int(rng.integers(1 << 20, P - 1))) for _ in range(n)]
    return out[0] if n == 1 else out


# ---------------------------------------------------------------- numpy reference
def hash_values(k, a, c):
    """value(k) in [-0.5, 0.5) for int64 keys 0 <= k < 2^62 (exactly what the graph computes)."""
    k = np.asarray(k, dtype=np.int64) % np.int64(P)
    x = (k * np.int64(a)) % np.int64(P)
    y = (x * x + np.int64(c)) % np.int64(P)
    return y.astype(np.float32) * np.float32(1.0 / P) - np.float32(0.5)


def projection(rows, cols, a, c):
    k = np.arange(rows, dtype=np.int64)[:, None] * np.int64(cols) + np.arange(cols, dtype=np.int64)[None, :]
    return hash_values(k, a, c)


def reference_image(x, grid, a, c, out_dim, normalise):
    n = x.shape[0]
    k = SIZE // grid
    pooled = x.reshape(n, 3, grid, k, grid, k).mean(axis=(3, 5), dtype=np.float32).reshape(n, -1)
    y = pooled @ projection(3 * grid * grid, out_dim, a, c)
    if normalise:
        return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), np.float32(1e-12))
    return y * np.float32(CLS_SCALE)


def reference_text(ids, pad_id, uni, bi):
    ids = ids.astype(np.int64)
    d = np.arange(EMBED_DIM, dtype=np.int64)
    keep = (ids != pad_id).astype(np.float32)
    y = (hash_values(ids[:, :, None] * np.int64(EMBED_DIM) + d, *uni) * keep[:, :, None]).sum(axis=1)
    pair = ids[:, :-1] * np.int64(BIGRAM_BASE) + ids[:, 1:]
    keep2 = keep[:, :-1] * keep[:, 1:]
    y = y + (hash_values(pair[:, :, None] * np.int64(EMBED_DIM) + d, *bi) * keep2[:, :, None]).sum(axis=1)
    return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), np.float32(1e-12))


# ---------------------------------------------------------------- graphs
def _hash_nodes(helper, key, a, c, out, prefix):
    """Nodes computing value(key) (int64 tensor `key`) into float tensor `out`."""
    from onnx import TensorProto

    nodes = [
        helper.make_node("Mod", [key, "P"], [f"{prefix}_k"]),
        helper.make_node("Mul", [f"{prefix}_k", f"{prefix}_A"], [f"{prefix}_ka"]),
        helper.make_node("Mod", [f"{prefix}_ka", "P"], [f"{prefix}_x"]),
        helper.make_node("Mul", [f"{prefix}_x", f"{prefix}_x"], [f"{prefix}_xx"]),
        helper.make_node("Add", [f"{prefix}_xx", f"{prefix}_C"], [f"{prefix}_xxc"]),
        helper.make_node("Mod", [f"{prefix}_xxc", "P"], [f"{prefix}_y"]),
        helper.make_node("Cast", [f"{prefix}_y"], [f"{prefix}_yf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [f"{prefix}_yf", "invP"], [f"{prefix}_u"]),
        helper.make_node("Sub", [f"{prefix}_u", "half"], [out]),
    ]
    inits = [
        helper.make_tensor(f"{prefix}_A", TensorProto.INT64, [], [a]),
        helper.make_tensor(f"{prefix}_C", TensorProto.INT64, [], [c]),
    ]
    return nodes, inits


def _common_inits(helper):
    from onnx import TensorProto

    return [
        helper.make_tensor("P", TensorProto.INT64, [], [P]),
        helper.make_tensor("invP", TensorProto.FLOAT, [], [np.float32(1.0 / P)]),
        helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]),
        helper.make_tensor("eps", TensorProto.FLOAT, [], [1e-12]),
    ]


def _l2_nodes(helper, x, out):
    return [
        helper.make_node("ReduceL2", [x], ["norm"], axes=[1], keepdims=1),
        helper.make_node("Max", ["norm", "eps"], ["norm_eps"]),
        helper.make_node("Div", [x, "norm_eps"], [out]),
    ]


def image_graph(model_id, seed, grid, kind):
    import onnx
    from onnx import TensorProto, helper

    a, c = hash_consts(seed)
    k = SIZE // grid
    feats = 3 * grid * grid
    out_dim = EMBED_DIM if kind == "image" else CLS_DIM
    out_name = "image_embeds" if kind == "image" else "cls"
    nodes = [
        helper.make_node("AveragePool", ["pixel_values"], ["pooled"], kernel_shape=[k, k], strides=[k, k]),
        helper.make_node("Flatten", ["pooled"], ["feat"], axis=1),
        # W[r, c] = value(r * out_dim + c), built from Range: keys = rows[:, None] * out_dim + cols[None, :]
        helper.make_node("Range", ["zero", "n_rows", "one"], ["rows"]),
        helper.make_node("Range", ["zero", "n_cols", "one"], ["cols"]),
        helper.make_node("Unsqueeze", ["rows", "ax1"], ["rows2"]),
        helper.make_node("Unsqueeze", ["cols", "ax0"], ["cols2"]),
        helper.make_node("Mul", ["rows2", "n_cols"], ["rows_off"]),
        helper.make_node("Add", ["rows_off", "cols2"], ["w_key"]),
    ]
    hn, hi = _hash_nodes(helper, "w_key", a, c, "W", "w")
    nodes += hn
    nodes.append(helper.make_node("MatMul", ["feat", "W"], ["proj"]))
    if kind == "image":
        nodes += _l2_nodes(helper, "proj", out_name)
    else:
        nodes.append(helper.make_node("Mul", ["proj", "cls_scale"], [out_name]))
    inits = _common_inits(helper) + hi + [
        helper.make_tensor("zero", TensorProto.INT64, [], [0]),
        helper.make_tensor("one", TensorProto.INT64, [], [1]),
        helper.make_tensor("n_rows", TensorProto.INT64, [], [feats]),
        helper.make_tensor("n_cols", TensorProto.INT64, [], [out_dim]),
        helper.make_tensor("ax0", TensorProto.INT64, [1], [0]),
        helper.make_tensor("ax1", TensorProto.INT64, [1], [1]),
        helper.make_tensor("cls_scale", TensorProto.FLOAT, [], [CLS_SCALE]),
    ]
    unused = "cls_scale" if kind == "image" else "eps"
    inits = [t for t in inits if t.name != unused]
    graph = helper.make_graph(
        nodes,
        f"{model_id}_test",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", out_dim])],
        initializer=inits,
    )
    desc = (f"TEST GRAPH (not a trained model) standing in for {model_id}: average-pool to {grid}x{grid}, "
            f"pseudo-random projection to {out_dim}, " + ("L2-normalised" if kind == "image" else f"scaled by {CLS_SCALE}"))
    return _finish(onnx, helper, graph, desc, model_id), dict(a=a, c=c, grid=grid, out=out_name, dim=out_dim)


def text_graph(model_id, seed, pad_id):
    import onnx
    from onnx import TensorProto, helper

    (a, c), (a2, c2) = hash_consts(seed, 2)
    nodes = [
        helper.make_node("Range", ["zero", "n_dim", "one"], ["dims"]),
        # unigram keys[n, t, d] = id[n, t] * 768 + d
        helper.make_node("Unsqueeze", ["input_ids", "ax2"], ["ids3"]),
        helper.make_node("Mul", ["ids3", "n_dim"], ["ids_off"]),
        helper.make_node("Add", ["ids_off", "dims"], ["u_key"]),
        # bigram keys[n, t, d] = (id[n, t] * 2^18 + id[n, t+1]) * 768 + d
        helper.make_node("Slice", ["input_ids", "s_lo", "s_hi_first", "ax1"], ["ids_a"]),
        helper.make_node("Slice", ["input_ids", "s_one", "s_hi", "ax1"], ["ids_b"]),
        helper.make_node("Mul", ["ids_a", "bigram_base"], ["ids_a_off"]),
        helper.make_node("Add", ["ids_a_off", "ids_b"], ["pair"]),
        helper.make_node("Unsqueeze", ["pair", "ax2"], ["pair3"]),
        helper.make_node("Mul", ["pair3", "n_dim"], ["pair_off"]),
        helper.make_node("Add", ["pair_off", "dims"], ["b_key"]),
    ]
    hn, hi = _hash_nodes(helper, "u_key", a, c, "u_vec", "u")
    hn2, hi2 = _hash_nodes(helper, "b_key", a2, c2, "b_vec", "b")
    nodes += hn + hn2
    nodes += [
        helper.make_node("Equal", ["input_ids", "pad_id"], ["is_pad"]),
        helper.make_node("Not", ["is_pad"], ["not_pad"]),
        helper.make_node("Cast", ["not_pad"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Slice", ["mask", "s_lo", "s_hi_first", "ax1"], ["mask_a"]),
        helper.make_node("Slice", ["mask", "s_one", "s_hi", "ax1"], ["mask_b"]),
        helper.make_node("Mul", ["mask_a", "mask_b"], ["mask2"]),
        helper.make_node("Unsqueeze", ["mask", "ax2"], ["mask3"]),
        helper.make_node("Unsqueeze", ["mask2", "ax2"], ["mask23"]),
        helper.make_node("Mul", ["u_vec", "mask3"], ["u_masked"]),
        helper.make_node("Mul", ["b_vec", "mask23"], ["b_masked"]),
        helper.make_node("ReduceSum", ["u_masked", "ax1"], ["u_bag"], keepdims=0),
        helper.make_node("ReduceSum", ["b_masked", "ax1"], ["b_bag"], keepdims=0),
        helper.make_node("Add", ["u_bag", "b_bag"], ["bag"]),
    ]
    nodes += _l2_nodes(helper, "bag", "text_embeds")
    inits = _common_inits(helper) + hi + hi2 + [
        helper.make_tensor("zero", TensorProto.INT64, [], [0]),
        helper.make_tensor("one", TensorProto.INT64, [], [1]),
        helper.make_tensor("n_dim", TensorProto.INT64, [], [EMBED_DIM]),
        helper.make_tensor("bigram_base", TensorProto.INT64, [], [BIGRAM_BASE]),
        helper.make_tensor("pad_id", TensorProto.INT64, [], [pad_id]),
        helper.make_tensor("s_lo", TensorProto.INT64, [1], [0]),
        helper.make_tensor("s_one", TensorProto.INT64, [1], [1]),
        helper.make_tensor("s_hi_first", TensorProto.INT64, [1], [TEXT_LEN - 1]),
        helper.make_tensor("s_hi", TensorProto.INT64, [1], [TEXT_LEN]),
        helper.make_tensor("ax1", TensorProto.INT64, [1], [1]),
        helper.make_tensor("ax2", TensorProto.INT64, [1], [2]),
    ]
    graph = helper.make_graph(
        nodes,
        f"{model_id}_test",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", TEXT_LEN])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["N", EMBED_DIM])],
        initializer=inits,
    )
    desc = (f"TEST GRAPH (not a trained model) standing in for {model_id}: bag of pseudo-random token and "
            f"token-pair vectors (pad id {pad_id} ignored), L2-normalised")
    return _finish(onnx, helper, graph, desc, model_id), dict(uni=(a, c), bi=(a2, c2), pad_id=pad_id)


def _finish(onnx, helper, graph, desc, model_id, producer="make_test_graphs.py"):
    """The model around `graph`: opset, IR version, the test-graph metadata, checked (the SAM 2
    generator uses it too, under its own producer name)."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=f"lookalike {producer}", producer_version="1")
    model.ir_version = IR_VERSION
    model.doc_string = desc
    for k, v in (("weights", "test-graph"), ("stands_in_for", model_id)):
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------- stub tokenizers
def stub_tokenizer(kind, max_len=TEXT_LEN):
    """A byte-level stub tokenizer as a `tokenizers` JSON dict (see module doc). Deterministic."""
    s = STUBS[kind]
    vocab = {}
    for t in s["specials"]:
        vocab[t] = len(vocab)
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    added = [dict(id=vocab[t], content=t, single_word=False, lstrip=False, rstrip=False, normalized=False,
                  special=True) for t in s["specials"]]
    if s["clean"] == "lower":
        normalizer = {"type": "Lowercase"}
    else:
        # open_clip tokenizer.canonicalize_text: "_" -> " ", drop string.punctuation, lower(), " ".join(split())
        punct = "".join("\\" + ch if ch in "\\[]^-" else ch for ch in string.punctuation)
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"String": "_"}, "content": " "},
            {"type": "Replace", "pattern": {"Regex": f"[{punct}]"}, "content": ""},
            {"type": "Lowercase"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Strip", "strip_left": True, "strip_right": True},
        ]}
    eos = s["eos"]
    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": max_len, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": max_len}, "direction": "Right", "pad_to_multiple_of": None,
                    "pad_id": vocab[s["pad"]], "pad_type_id": 0, "pad_token": s["pad"]},
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": eos, "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": eos, "type_id": 1}}],
            "special_tokens": {eos: {"id": eos, "ids": [vocab[eos]], "tokens": [eos]}},
        },
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": s["unk"], "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }


def stub_info(kind):
    """pad/eos ids and vocabulary size of a stub tokenizer."""
    tok = stub_tokenizer(kind)
    v = tok["model"]["vocab"]
    return dict(pad_id=v[STUBS[kind]["pad"]], eos_id=v[STUBS[kind]["eos"]], vocab_size=len(v))


def write_stub_tokenizer(kind, path, max_len=TEXT_LEN):
    data = json.dumps(stub_tokenizer(kind, max_len), indent=1, ensure_ascii=True, sort_keys=False) + "\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)


def reference_stub_encode(kind, text, max_len=TEXT_LEN):
    """What the stub tokenizer must give (pure Python), used by --check."""
    s = STUBS[kind]
    info = stub_info(kind)
    if s["clean"] == "lower":
        text = text.lower()
    else:
        text = text.replace("_", " ").translate(str.maketrans("", "", string.punctuation)).lower()
        text = " ".join(text.split())
    offset = len(s["specials"])
    ids = [offset + b for b in text.encode("utf-8")][: max_len - 1] + [info["eos_id"]]
    return ids + [info["pad_id"]] * (max_len - len(ids))


# ---------------------------------------------------------------- manifest snippet
def toml_list(xs):
    return "[" + ", ".join(repr(float(x)) if isinstance(x, float) else str(x) for x in xs) + "]"


def input_table(spec):
    parts = [f'name = "{spec["name"]}"', f'width = {spec["width"]}', f'height = {spec["height"]}',
             f'resize = "{spec["resize"]}"']
    if "resize_shorter" in spec:
        parts.append(f'resize_shorter = {spec["resize_shorter"]}')
    parts += [f'interpolation = "{spec["interpolation"]}"', f'scale = "{spec["scale"]}"',
              f'mean = {toml_list(spec["mean"])}', f'std = {toml_list(spec["std"])}',
              f"background = {toml_list(BACKGROUND)}"]
    return "{ " + ", ".join(parts) + " }"


def manifest_prefix(out):
    """What manifest `file` paths start with for files written to `out` (paths are relative to
    models/; outside it, plain file names). make_sam2_test_graphs.py uses it too."""
    rel = os.path.relpath(os.path.abspath(out), MODELS_DIR).replace(os.sep, "/")
    if rel.startswith(".."):
        print(f"note: {out} is outside models/: manifest paths are plain file names", file=sys.stderr)
        return ""
    return "" if rel == "." else rel + "/"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE, help="output folder (default: models/generated/)")
    ap.add_argument("--check", action="store_true", help="also run the graphs and tokenizers against the numpy reference")
    args = ap.parse_args()
    import onnx

    os.makedirs(args.out, exist_ok=True)
    prefix = manifest_prefix(args.out)

    written = {}
    params = {}
    for model_id, fname, kind, seed, grid in GRAPHS:
        if kind == "text":
            stub_kind = model_id[: -len("_text")]
            model, p = text_graph(model_id, seed, stub_info(stub_kind)["pad_id"])
        else:
            model, p = image_graph(model_id, seed, grid, kind)
        path = os.path.join(args.out, fname)
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        written[model_id] = path
        params[model_id] = (kind, p)
    tok_files = {}
    for kind in STUBS:
        path = os.path.join(args.out, f"{kind}_tokenizer_stub.json")
        write_stub_tokenizer(kind, path)
        tok_files[kind] = path

    # Manifest snippet (paths relative to models/, like models/manifest.toml's).
    L = ["# GENERATED by models/generated/make_test_graphs.py: do not edit.",
         "# TEST GRAPHS for the `full` profile (not trained models): exact I/O names, dtypes and shapes of the",
         "# exported SigLIP2 / FashionSigLIP / DINOv2-small graphs, outputs are deterministic functions of the input.",
         "# File paths are relative to models/ (paste beside models/manifest.toml's entries, or into a test manifest",
         "# placed in models/). Text towers carry a [models.X.text] table (tokenizer and text-input settings).", ""]
    src = "models/generated/make_test_graphs.py (test graph, not a trained model)"
    for model_id, fname, kind, seed, grid in GRAPHS:
        path = written[model_id]
        L.append(f"[models.{model_id}]")
        L.append(f'file = "{prefix}{fname}"')
        L.append(f'sha256 = "{sha256_file(path)}"')
        L.append(f'source = "{src}"')
        L.append('license = "Apache-2.0"')
        L.append('weights = "random-init"')
        if kind == "text":
            stub_kind = model_id[: -len("_text")]
            info = stub_info(stub_kind)
            L.append('outputs = [')
            L.append(f'  {{ name = "text_embeds", kind = "embedding", dims = [1, {EMBED_DIM}] }},')
            L.append(']')
            L.append(f"[models.{model_id}.text]")
            L.append('input = "input_ids"')
            L.append(f"max_len = {TEXT_LEN}")
            L.append(f'tokenizer = "{prefix}{os.path.basename(tok_files[stub_kind])}"')
            L.append(f'tokenizer_sha256 = "{sha256_file(tok_files[stub_kind])}"')
            L.append('tokenizer_kind = "byte-level-stub"')
            L.append('padding_side = "right"')
            L.append(f"pad_id = {info['pad_id']}")
            L.append(f"eos_id = {info['eos_id']}")
            L.append(f'image_model = "{stub_kind}"')
        else:
            out = "image_embeds" if kind == "image" else "cls"
            okind = "embedding" if kind == "image" else "texture"
            dim = EMBED_DIM if kind == "image" else CLS_DIM
            L.append(f"input = {input_table(INPUTS[model_id])}")
            L.append('outputs = [')
            L.append(f'  {{ name = "{out}", kind = "{okind}", dims = [1, {dim}] }},')
            L.append(']')
        L.append("")
    snippet = os.path.join(args.out, "manifest_snippet.toml")
    with open(snippet, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(L))

    for model_id, path in written.items():
        print(f"{path}: {os.path.getsize(path)} bytes, sha256 {sha256_file(path)}")
    for kind, path in tok_files.items():
        print(f"{path}: {os.path.getsize(path)} bytes, sha256 {sha256_file(path)}")
    print(f"{snippet}")

    if args.check:
        ok = check(written, params, tok_files)
        print("CHECK OK" if ok else "CHECK FAILED")
        sys.exit(0 if ok else 1)


def check(written, params, tok_files):
    ok = True
    rng = np.random.default_rng(7)
    base = rng.normal(size=(1, 3, SIZE, SIZE)).astype(np.float32)
    imgs = np.concatenate([base, base + np.float32(0.05) * rng.normal(size=base.shape).astype(np.float32),
                           rng.normal(size=base.shape).astype(np.float32)], axis=0)
    texts = ["a photo of a dress", "A photo of a DRESS!", "a photo of a shoe", "a_photo  of   a laptop, 2024",
             "x" * 100]
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
        print("onnxruntime not installed: graphs checked with the numpy reference only")
    try:
        import tokenizers
    except ImportError:
        tokenizers = None
        print("tokenizers not installed: stub tokenizers not loaded")

    enc = {}
    for kind, path in tok_files.items():
        ref = [reference_stub_encode(kind, t) for t in texts]
        if tokenizers is not None:
            tok = tokenizers.Tokenizer.from_file(path)
            got = [e.ids for e in tok.encode_batch(texts)]
            if got != ref:
                ok = False
                print(f"FAIL: {kind} stub tokenizer differs from the reference encoding")
            else:
                print(f"{kind} stub tokenizer: {len(texts)} texts encode as the reference "
                      f"(e.g. {texts[1]!r} -> {got[1][:22]}...)")
        enc[kind] = np.array(ref, dtype=np.int64)

    for model_id, (kind, p) in params.items():
        if kind == "text":
            stub_kind = model_id[: -len("_text")]
            x = enc[stub_kind]
            ref = reference_text(x, p["pad_id"], p["uni"], p["bi"])
            feed = {"input_ids": x}
            sims = ref @ ref.T
            note = (f"cos(text0,text1)={sims[0, 1]:.3f} (same words, case/punct) cos(text0,text2)={sims[0, 2]:.3f}")
        else:
            ref = reference_image(imgs, p["grid"], p["a"], p["c"], p["dim"], kind == "image")
            feed = {"pixel_values": imgs}
            r = ref / np.linalg.norm(ref, axis=1, keepdims=True)
            sims = r @ r.T
            note = f"cos(img,img+noise)={sims[0, 1]:.3f} cos(img,other)={sims[0, 2]:.3f}"
        if ort is not None:
            sess = ort.InferenceSession(written[model_id], providers=["CPUExecutionProvider"])
            got = sess.run(None, feed)[0]
            got1 = sess.run(None, {k: v[:1] for k, v in feed.items()})[0]
            d = float(np.abs(got - ref).max())
            d1 = float(np.abs(got1 - got[:1]).max())
            norms = np.linalg.norm(got, axis=1)
            print(f"{model_id}: ORT vs numpy max abs diff {d:.2e}, batch1 vs batch {d1:.2e}, "
                  f"out {list(got.shape)}, norms {np.round(norms, 3).tolist()}; {note}")
            if d > 1e-4 or d1 > 1e-5:
                ok = False
                print(f"FAIL: {model_id}")
        else:
            print(f"{model_id}: {note}")
    return ok


if __name__ == "__main__":
    main()
