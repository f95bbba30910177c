"""The catalog folder the engine searches (`lookalike index` writes it), read the plain way.

`catalog.json` with `json`, the three `.bin` matrices with `struct` + numpy. The format is the one in
README "Catalog format" (crates/engine/src/catalog/format.rs): a 24-byte header (magic `LKLKVEC\\0`,
u32 version, u32 rows, u32 dims, u32 reserved), then rows x dims little-endian f32, row-major.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"LKLKVEC\0"  # crates/engine/src/catalog/format.rs MAGIC
VERSION = 1  # crates/engine/src/catalog/format.rs VERSION
HEADER = struct.Struct("<8sIIII")  # 24 bytes

# File names: crates/engine/src/catalog/schema.rs (CATALOG_JSON, EMBEDDINGS_BIN, ...)
CATALOG_JSON = "catalog.json"
EMBEDDINGS_BIN = "embeddings.bin"
TEXTURE_BIN = "texture.bin"
COLORS_BIN = "color_signatures.bin"


def read_matrix(path: Path) -> np.ndarray:
    """A `.bin` matrix as a (rows, dims) float32 array; refuses a bad header or length."""
    data = path.read_bytes()
    if len(data) < HEADER.size:
        raise ValueError(f"{path}: {len(data)} bytes, shorter than the {HEADER.size}-byte header")
    magic, version, rows, dims, _reserved = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ValueError(f"{path}: not a Lookalike matrix file (bad magic)")
    if version != VERSION:
        raise ValueError(f"{path}: format version {version}, this reader knows {VERSION}")
    want = HEADER.size + rows * dims * 4
    if len(data) != want:
        raise ValueError(f"{path}: {len(data)} bytes, header says {want}")
    return np.frombuffer(data, dtype="<f4", offset=HEADER.size).reshape(rows, dims).astype(np.float32)


@dataclass
class Catalog:
    dir: Path
    file: dict  # catalog.json as parsed
    embeddings: np.ndarray  # (rows, dims.embedding)
    texture: np.ndarray  # (rows, dims.texture)
    colors: np.ndarray  # (rows, dims.color)

    @property
    def categories(self) -> list[dict]:
        return self.file["categories"]

    @property
    def products(self) -> list[dict]:
        return self.file["products"]

    @property
    def category_names(self) -> list[str]:
        return [c["name"] for c in self.categories]

    @property
    def texture_center(self) -> np.ndarray:
        return np.asarray(self.file.get("texture_center", []), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.products)


def open_catalog(directory: str | Path) -> Catalog:
    d = Path(directory)
    file = json.loads((d / CATALOG_JSON).read_text())
    cat = Catalog(
        dir=d,
        file=file,
        embeddings=read_matrix(d / EMBEDDINGS_BIN),
        texture=read_matrix(d / TEXTURE_BIN),
        colors=read_matrix(d / COLORS_BIN),
    )
    n = len(cat.products)
    dims = file["dims"]
    for name, m, want in (
        ("embeddings", cat.embeddings, dims["embedding"]),
        ("texture", cat.texture, dims["texture"]),
        ("colors", cat.colors, dims["color"]),
    ):
        if m.shape != (n, want):
            raise ValueError(f"{d}: {name} matrix is {m.shape}, catalog.json says ({n}, {want})")
    return cat
