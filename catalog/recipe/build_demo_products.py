#!/usr/bin/env python3
"""Build the Lookalike demo catalog sources (Python stdlib only).

Reads the two registry demo shops that scripts/fetch.py unpacked under .cache/sources/:
  - Vendure: npm @vendure/create@3.7.3, assets/products.csv + assets/images/*.jpg
  - Saleor:  PyPI saleor==2.10.1, static/populatedb_data.json + static/placeholders/*.png
and writes
  .cache/demo-sources/products.json   the products file read by `lookalike index`
  .cache/demo-sources/images/         one image per product, named <product id>.<ext>
  .cache/demo-sources/queries.json    other views of catalog products (ground truth for eval)
  .cache/demo-sources/queries/        their images, named <product id>--view<N>.<ext>

One product per distinct image (sha256 of the image bytes). Re-running is a no-op when nothing
changed: files are only written when their content differs, and stale files are removed.
See catalog/README.md for the rules.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECIPE = Path(__file__).resolve().parent
VENDURE_DIR = ROOT / ".cache" / "sources" / "vendure-create-3.7.3"
SALEOR_DIR = ROOT / ".cache" / "sources" / "saleor-2.10.1"
OUT_DIR = ROOT / ".cache" / "demo-sources"

CATALOG_NAME = "Lookalike demo catalog"
ROUTER = {"second_threshold": 0.25, "min_confidence": 0.05}
EXPERTS = ("fashion", "general")

VENDURE_SOURCE = "Vendure demo (npm @vendure/create@3.7.3)"
SALEOR_SOURCE = "Saleor demo (PyPI saleor==2.10.1)"

# Vendure: the last `category:` facet of a product -> our category.
VENDURE_CATEGORIES = {
    "Computers": "electronics",
    "Photo": "cameras",
    "Equipment": "sports",
    "Footwear": "footwear",
    "Plants": "plants",  # includes the hand trowel (garden tool)
    "Furniture": "furniture",  # includes the pendant lamp ("Light Shade")
}
# Per-product exceptions (by Vendure slug), where the facet does not describe what the photo shows.
VENDURE_OVERRIDES = {
    "guardian-lion-statue": "home",  # a stone lion ornament, filed under Furniture by Vendure
}

# Saleor: the product's category name -> our category.
SALEOR_CATEGORIES = {
    "T-shirts": "apparel",
    "Polo Shirts": "apparel",
    "Hoodies": "apparel",
    "Footwear": "footwear",
    "Juices": "drinks",
    "Alcohol": "drinks",
    "Paints": "home",
    "Homewares": "home",
}
# Saleor's own populatedb (saleor/core/utils/random_data.py, IMAGES_MAPPING) marks these products'
# images "FIXME inproper image": they reuse another product's render, whose label names that other
# product (the "Apple Juice" render is the Orange juice bottle, etc.). The image goes to the product
# it shows; these products are dropped. The dedup below would drop them anyway; listing them makes
# the right product keep the image (first-come would keep Pineapple over Power, Coconut over Beans).
SALEOR_MISASSIGNED = {
    72: "Apple Juice (shows the Orange juice bottle of product 71)",
    75: "Pineapple Juice (shows the Power juice bottle of product 77)",
    76: "Coconut Juice (shows the Beans juice bottle of product 79)",
    114: "T-shirt t-shirt-3 (same renders as t-shirt-4, product 113)",
}
# Saleor names several different products just "Polo Shirt" / "T-shirt": qualify them by what the
# render shows, so that search results are readable. Keyed by Saleor slug.
SALEOR_NAMES = {
    "polo-shirt": "Polo Shirt (black, patterned)",
    "polo-shirt-2": "Polo Shirt (white, patterned)",
    "polo-shirt-3": "Women's Polo Shirt (white)",
    "polo-shirt-4": "Women's Polo Shirt (black)",
    "t-shirt": "T-shirt (turquoise, van print)",
    "t-shirt-2": "T-shirt (red, \"Less is mo'\" print)",
    "t-shirt-4": "T-shirt (white, Japanese wave print)",
}

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class RecipeError(Exception):
    pass


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_text(s: str | None) -> str | None:
    if s is None:
        return None
    s = " ".join(s.split())
    return s or None


def require(path: Path) -> Path:
    if not path.exists():
        raise RecipeError(f"missing {path.relative_to(ROOT)}: run scripts/setup.sh (or python3 scripts/fetch.py) first")
    return path


# ---------------------------------------------------------------------------------------------
# categories


def load_categories(path: Path) -> list[dict]:
    cats = json.loads(path.read_text())
    if not isinstance(cats, list) or not cats:
        raise RecipeError(f"{path}: expected a non-empty list")
    names, owner = set(), {}
    for c in cats:
        missing = {"name", "expert", "imagenet_classes", "prompts"} - set(c)
        if missing:
            raise RecipeError(f"{path}: category {c.get('name', '?')} lacks {sorted(missing)}")
        if c["name"] in names:
            raise RecipeError(f"{path}: duplicate category {c['name']}")
        names.add(c["name"])
        if c["expert"] not in EXPERTS:
            raise RecipeError(f"{path}: {c['name']}: expert must be one of {EXPERTS}")
        ids = c["imagenet_classes"]
        if not 5 <= len(ids) <= 40:
            raise RecipeError(f"{path}: {c['name']}: {len(ids)} imagenet_classes (want 5..40)")
        for i in ids:
            if not isinstance(i, int) or not 0 <= i < 1000:
                raise RecipeError(f"{path}: {c['name']}: bad ImageNet class id {i!r}")
            if i in owner:
                raise RecipeError(f"{path}: ImageNet class {i} is in both {owner[i]} and {c['name']}")
            owner[i] = c["name"]
        if len(c["prompts"]) < 3 or not all(isinstance(p, str) and p for p in c["prompts"]):
            raise RecipeError(f"{path}: {c['name']}: want at least 3 non-empty prompts")
    return cats


# ---------------------------------------------------------------------------------------------
# sources


def unsplash_credit(filename: str) -> str:
    """'derick-david-409858-unsplash.jpg' -> 'Derick David / Unsplash'."""
    m = re.match(r"^(.*?)-\d+-unsplash\.\w+$", filename)
    if not m:
        return "Unsplash"
    return " ".join(w.capitalize() for w in m.group(1).split("-")) + " / Unsplash"


def read_vendure(src: Path) -> list[dict]:
    """Products of the Vendure csv, each with its images as paths (first = main image)."""
    rows = []
    with open(require(src / "products.csv"), newline="", encoding="utf-8") as f:
        for raw in csv.DictReader(f):
            rows.append({(k or "").strip(): (v or "").strip() for k, v in raw.items()})
    products: list[dict] = []
    for row in rows:
        if row["name"]:
            facets = [x.split(":", 1) for x in row["facets"].split("|") if ":" in x]
            cats = [v for k, v in facets if k == "category"]
            brands = [v for k, v in facets if k == "brand"]
            slug = row["slug"]
            if not SLUG_RE.match(slug):
                raise RecipeError(f"Vendure product {row['name']!r}: unusable slug {slug!r}")
            leaf = cats[-1] if cats else None
            category = VENDURE_OVERRIDES.get(slug) or VENDURE_CATEGORIES.get(leaf)
            if category is None:
                raise RecipeError(f"Vendure product {slug}: no category mapping for facet {leaf!r}")
            images = [require(src / "images" / a) for a in row["assets"].split("|") if a]
            if not images:
                raise RecipeError(f"Vendure product {slug} has no image")
            products.append({
                "id": f"vendure-{slug}",
                "name": row["name"],
                "category": category,
                "prices": [],
                "currency": "USD",  # the csv has no currency; Vendure's default channel uses USD
                "gtin": None,  # SKUs in the csv are shop codes/ASINs, not GTINs
                "brand": brands[0] if brands else None,
                "description": clean_text(row["description"]),
                "images": images,
                "source": f"{VENDURE_SOURCE}, photo: {unsplash_credit(images[0].name)}",
            })
        if not products:
            raise RecipeError("Vendure csv starts with a variant row")
        if row["price"]:
            products[-1]["prices"].append(float(row["price"]))  # major units (1299.00), not cents
        for a in row.get("variantAssets", "").split("|"):
            if a:
                products[-1]["images"].append(require(src / "images" / a))
    return products


def read_saleor(src: Path) -> tuple[list[dict], list[str]]:
    data = json.loads(require(src / "populatedb_data.json").read_text())
    by = collections.defaultdict(dict)
    for rec in data:
        by[rec["model"]][rec["pk"]] = rec["fields"]
    cat_names = {pk: f["name"] for pk, f in by["product.category"].items()}
    images = collections.defaultdict(list)
    for pk, f in by["product.productimage"].items():
        # "products/saleordemoproduct_paints_01_stdygda.png": Django added a 7-char suffix to the
        # placeholder name "saleordemoproduct_paints_01.png" when the demo data was dumped.
        m = re.match(r"^products/(.+)_[A-Za-z0-9]{7}(\.\w+)$", f["image"])
        if not m:
            raise RecipeError(f"Saleor image {f['image']!r}: unexpected name")
        images[f["product"]].append((f["sort_order"], pk, require(src / "placeholders" / (m.group(1) + m.group(2)))))
    base_price = {pk: float(f["price_amount"]) for pk, f in by["product.product"].items()}
    prices = collections.defaultdict(list)  # a variant without an override costs the product's base price
    for f in by["product.productvariant"].values():
        override = f.get("price_override_amount")
        prices[f["product"]].append(float(override) if override is not None else base_price[f["product"]])

    products, skipped = [], []
    for pk, f in sorted(by["product.product"].items()):
        if pk in SALEOR_MISASSIGNED:
            skipped.append(f"saleor-{f['slug']}: {SALEOR_MISASSIGNED[pk]}")
            continue
        if not images[pk]:
            skipped.append(f"saleor-{f['slug']}: no image")
            continue
        slug = f["slug"]
        if not SLUG_RE.match(slug):
            raise RecipeError(f"Saleor product {f['name']!r}: unusable slug {slug!r}")
        cat = cat_names.get(f["category"])
        category = SALEOR_CATEGORIES.get(cat)
        if category is None:
            raise RecipeError(f"Saleor product {slug}: no category mapping for {cat!r}")
        imgs = [p for _, _, p in sorted(images[pk])]
        products.append({
            "id": f"saleor-{slug}",
            "name": SALEOR_NAMES.get(slug, f["name"]),
            "category": category,
            # "from" price: the lowest variant price, else the product's base price
            "prices": prices[pk] or [base_price[pk]],
            "currency": f.get("currency") or "USD",
            "gtin": None,  # the demo data has no GTIN/EAN (SKUs are internal numbers)
            "brand": None,
            "description": clean_text(f.get("description")),
            "images": imgs,
            "source": f"{SALEOR_SOURCE}, render: static/placeholders/{imgs[0].name}",
        })
    for pk in SALEOR_MISASSIGNED:
        if pk not in by["product.product"]:
            raise RecipeError(f"Saleor product {pk} listed in SALEOR_MISASSIGNED is not in the data")
    return products, skipped


# ---------------------------------------------------------------------------------------------
# output


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def sync_dir(folder: Path, files: dict[str, Path]) -> tuple[int, int]:
    """Make folder hold exactly `files` (name -> source path). Returns (written, removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = removed = 0
    for name, src in files.items():
        dest = folder / name
        if dest.is_file() and dest.stat().st_size == src.stat().st_size and dest.read_bytes() == src.read_bytes():
            continue
        shutil.copyfile(src, dest.with_name(dest.name + ".part"))
        dest.with_name(dest.name + ".part").replace(dest)
        written += 1
    for p in folder.iterdir():
        if p.name not in files:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed += 1
    return written, removed


def build(out_dir: Path, vendure_dir: Path, saleor_dir: Path, categories_path: Path, quiet: bool) -> dict:
    categories = load_categories(categories_path)
    cat_names = [c["name"] for c in categories]
    saleor, skipped = read_saleor(saleor_dir)
    candidates = read_vendure(vendure_dir) + saleor

    seen: dict[str, str] = {}  # image sha256 -> product id (or "<id> view") that owns it
    products, queries, dropped = [], [], []
    image_files: dict[str, Path] = {}
    query_files: dict[str, Path] = {}
    for c in candidates:
        main = c["images"][0]
        h = sha256_bytes(main.read_bytes())
        if h in seen:
            dropped.append(f"{c['id']}: same image as {seen[h]} ({main.name})")
            continue
        if c["category"] not in cat_names:
            raise RecipeError(f"{c['id']}: category {c['category']} is not in {categories_path.name}")
        if any(p["id"] == c["id"] for p in products):
            raise RecipeError(f"duplicate product id {c['id']}")
        seen[h] = c["id"]
        image = c["id"] + main.suffix.lower()
        image_files[image] = main
        products.append({
            "id": c["id"],
            "name": c["name"],
            "category": c["category"],
            "price": min(c["prices"]) if c["prices"] else None,
            "currency": c["currency"],
            "gtin": c["gtin"],
            "image": image,
            "brand": c["brand"],
            "description": c["description"],
            "source": c["source"],
        })
        # Further images of the same product (other angles, back, print close-up, a glass of the
        # beer): not separate products, kept as query images with known ground truth.
        for n, extra in enumerate(c["images"][1:], start=2):
            hx = sha256_bytes(extra.read_bytes())
            if hx in seen:
                continue
            seen[hx] = f"{c['id']} view {n}"
            qname = f"{c['id']}--view{n}{extra.suffix.lower()}"
            query_files[qname] = extra
            queries.append({"image": qname, "product": c["id"], "source": f"{c['source'].split(', ')[0]}, {extra.name}"})

    doc = {"name": CATALOG_NAME, "router": ROUTER, "categories": categories, "products": products}
    qdoc = {
        "about": "Other views of demo catalog products (same product, different angle or detail); "
                 "query images for retrieval checks, not part of the catalog.",
        "queries": queries,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    img_w, img_r = sync_dir(out_dir / "images", image_files)
    q_w, q_r = sync_dir(out_dir / "queries", query_files)
    p_changed = write_if_changed(out_dir / "products.json",
                                 (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())
    if (img_w or img_r) and not p_changed:
        (out_dir / "products.json").touch()  # the catalog index is rebuilt when products.json is newer
    q_changed = write_if_changed(out_dir / "queries.json",
                                 (json.dumps(qdoc, indent=2, ensure_ascii=False) + "\n").encode())
    counts = collections.Counter(p["category"] for p in products)
    by_source = collections.Counter(p["id"].split("-", 1)[0] for p in products)
    changed = p_changed or q_changed or img_w or img_r or q_w or q_r
    if not quiet:
        for line in skipped + dropped:
            print(f"  skipped {line}")
    if changed or not quiet:
        print(f"{'category':<12} {'expert':<8} {'products':>8}")
        for c in categories:
            print(f"{c['name']:<12} {c['expert']:<8} {counts[c['name']]:>8}")
        print(f"{'total':<21} {len(products):>8}   "
              f"({', '.join(f'{k} {v}' for k, v in sorted(by_source.items()))}; {len(queries)} extra views as queries)")
    rel = out_dir.relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir
    if changed:
        print(f"demo products: updated {rel}/products.json "
              f"({img_w} images copied, {img_r} stale removed; {q_w} query images copied, {q_r} removed)")
    else:
        print(f"demo products: {rel}/products.json up to date ({len(products)} products)")
    for name in cat_names:
        if counts[name] == 0:
            print(f"warning: category {name} has no products", file=sys.stderr)
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default .cache/demo-sources)")
    ap.add_argument("--vendure", type=Path, default=VENDURE_DIR, help=argparse.SUPPRESS)
    ap.add_argument("--saleor", type=Path, default=SALEOR_DIR, help=argparse.SUPPRESS)
    ap.add_argument("--categories", type=Path, default=RECIPE / "categories.json", help=argparse.SUPPRESS)
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="no list of skipped products; the per-category table only when something changed")
    args = ap.parse_args()
    try:
        build(args.out.resolve(), args.vendure, args.saleor, args.categories, args.quiet)
    except RecipeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
