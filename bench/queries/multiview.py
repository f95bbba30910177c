#!/usr/bin/env python3
"""Query set `multiview`: Saleor's other views of demo catalog products.

For catalog/demo. The demo recipe (catalog/recipe/build_demo_products.py) keeps one image per
product in the catalog and lists the product's other distinct views (plimsolls from the side, top
and back; T-shirt backs and print close-ups; the hoodie's logo; a glass of the beer) in
.cache/demo-sources/queries.json with their images in .cache/demo-sources/queries/. This copies
them into .cache/queries/multiview/images/ unchanged (byte for byte) and labels them. The split
is by product with common.split_products on the whole demo catalog, the same split as `photo`
when both use the same seed.

    .cache/bench-venv/bin/python bench/queries/multiview.py [--seed N] [--force]
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NAME = "multiview"
CATALOG = "catalog/demo"
DEFAULT_SEED = common.DEMO_SEED


def build(seed: int, force: bool) -> dict:
    doc = common.load_demo_products()
    qpath = common.require(common.DEMO_SOURCES / "queries.json")
    qdoc = json.loads(qpath.read_text())
    views = qdoc["queries"]
    files = {q["image"]: common.sha256_file(common.require(common.DEMO_SOURCES / "queries" / q["image"])) for q in views}
    fingerprint = common.sha256_json({
        "generator": common.code_fingerprint(Path(__file__), Path(common.__file__)),
        "seed": seed,
        "products_json": common.sha256_file(common.DEMO_SOURCES / "products.json"),
        "queries_json": common.sha256_file(qpath),
        "images": files,
    })
    if not force:
        have = common.up_to_date(NAME, fingerprint)
        if have:
            common.log(f"{common.summary_line(have)}: up to date")
            return have
    products = doc["products"]
    known = {p["id"]: p for p in products}
    split = common.split_products(products, seed)
    out = common.SetWriter(NAME)
    for q in views:
        if q["product"] not in known:
            raise common.QueryError(f"queries.json: {q['image']} shows {q['product']}, which is not in products.json")
        name = f"images/{q['image']}"
        (out.dir / "images").mkdir(exist_ok=True)
        shutil.copyfile(common.DEMO_SOURCES / "queries" / q["image"], out.dir / name)
        out.add(name, q["product"], split[q["product"]], category=known[q["product"]]["category"],
                transforms=["other-view"], source=q.get("source"),
                catalog_image=f"{common.rel(common.DEMO_SOURCES / 'images')}/{known[q['product']]['image']}")
    res = out.commit({
        "catalog": CATALOG,
        "catalog_products": common.rel(common.DEMO_SOURCES / "products.json"),
        "generator": "bench/queries/multiview.py",
        "seed": seed,
        "split": {"by": "product", "stratified_by": "category", "tune_fraction": common.TUNE_FRACTION, "seed": seed,
                  "over": "all demo catalog products (the same split as the photo set)"},
        "inputs_sha256": fingerprint,
        "source": f"{common.rel(qpath)} (catalog/recipe/build_demo_products.py; Saleor demo, PyPI saleor==2.10.1)",
        "counts": common.counts(out.rows, products),
    })
    common.log(f"{common.summary_line(res)}: built in {res['build_seconds']} s")
    return res


def main() -> int:
    return common.cli(__doc__, DEFAULT_SEED, lambda a: build(a.seed, a.force))


if __name__ == "__main__":
    sys.exit(main())
