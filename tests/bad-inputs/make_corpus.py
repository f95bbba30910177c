#!/usr/bin/env python3
"""Writes the bad-input corpus (tests/bad-inputs/) and its SHA256SUMS.

Every file is made here from scratch: seeded, no downloads, no clock, so a second run writes the
same bytes. `tests/bad_input_corpus.rs` runs each file through the real engine and checks the
outcome listed in `expected.toml`, and checks every file against SHA256SUMS.

    .cache/bench-venv/bin/python tests/bad-inputs/make_corpus.py          # (re)write the corpus
    .cache/bench-venv/bin/python tests/bad-inputs/make_corpus.py --check  # regenerate in a temp dir, compare

Needs bench/requirements.txt (`bash scripts/setup-bench.sh`): Pillow 13 (WebP, AVIF, TIFF, ...),
pillow-heif (a real HEIC), numpy (the noise).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, features

HERE = Path(__file__).resolve().parent
SEED = 20240607
# files that live in the folder but are not corpus inputs
NOT_INPUTS = {"make_corpus.py", "expected.toml", "SHA256SUMS", "README.md"}

# The upright test picture's four quadrants (red top-left, green top-right, blue bottom-left,
# yellow bottom-right): every orientation, flip and channel mix-up shows as a wrong corner colour.
RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 180, 60), (40, 60, 220), (240, 210, 40)


def quadrants(w: int, h: int) -> Image.Image:
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w // 2 - 1, h // 2 - 1], fill=RED)
    d.rectangle([w // 2, 0, w - 1, h // 2 - 1], fill=GREEN)
    d.rectangle([0, h // 2, w // 2 - 1, h - 1], fill=BLUE)
    d.rectangle([w // 2, h // 2, w - 1, h - 1], fill=YELLOW)
    return img


def product(w: int = 200, h: int = 150) -> Image.Image:
    """A product shot: a red mug with a handle and a blue band on an off-white background."""
    img = Image.new("RGB", (w, h), (236, 233, 228))
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = w * 30 // 100, h * 20 // 100, w * 62 // 100, h * 85 // 100
    d.ellipse([x1 - 14, (y0 + y1) // 2 - 22, x1 + 22, (y0 + y1) // 2 + 22], outline=(170, 20, 25), width=7)
    d.rectangle([x0, y0, x1, y1], fill=(200, 28, 36))
    d.rectangle([x0, y0 + (y1 - y0) // 3, x1, y0 + (y1 - y0) // 3 + 12], fill=(30, 60, 200))
    d.ellipse([x0, y0 - 6, x1, y0 + 6], fill=(150, 18, 24))
    return img


def cutout(w: int = 160, h: int = 120) -> Image.Image:
    """The product on a transparent background (a real alpha cut-out)."""
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rectangle([w // 4, h // 5, w * 3 // 4, h * 4 // 5], fill=(200, 28, 36, 255))
    d.rectangle([w // 4, h * 2 // 5, w * 3 // 4, h * 2 // 5 + 10], fill=(30, 60, 200, 255))
    return img


def save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(w: int, h: int) -> bytes:
    """A valid PNG header claiming w x h RGBA, then a few real rows of data and IEND: the file is
    tiny, decoding it as it claims would need w*h*4 bytes (14.4 GB for 60000x60000)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    rows = zlib.compress((b"\0" + b"\0" * (w * 4)) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def bad_crc_png(png: bytes) -> bytes:
    """The image data intact, the first IDAT chunk's CRC wrong (a damaged checksum)."""
    out = bytearray(png)
    at = out.index(b"IDAT")
    length = struct.unpack(">I", out[at - 4 : at])[0]
    crc = at + 4 + length
    out[crc : crc + 4] = bytes(b ^ 0x5A for b in out[crc : crc + 4])
    return bytes(out)


def bit_flip_png(png: bytes) -> bytes:
    """One byte of image data flipped inside the first IDAT chunk, its CRC now stale (what damage
    in storage or transfer looks like)."""
    out = bytearray(png)
    at = out.index(b"IDAT") + 4 + 10
    out[at] ^= 0xFF
    return bytes(out)


def exif_jpeg(orientation: int) -> bytes:
    """A JPEG whose EXIF orientation is `orientation` and whose pixels are stored so that, once the
    orientation is applied, the picture is the same upright 64x48 quadrant picture for every value."""
    upright = quadrants(64, 48)
    # the inverse of the transform a viewer applies for each orientation (PIL.ImageOps.exif_transpose)
    inverse = {
        1: None,
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,  # the viewer rotates 270 (90 clockwise)
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,  # the viewer rotates 90 (90 counter-clockwise)
    }[orientation]
    stored = upright if inverse is None else upright.transpose(inverse)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = save(stored, "JPEG", quality=92, exif=exif)
    # self-check with Pillow's own reading of the tag
    from PIL import ImageOps

    back = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert back.size == (64, 48), (orientation, back.size)
    r, g, b = back.convert("RGB").getpixel((8, 8))
    assert r > 180 and g < 80 and b < 80, (orientation, (r, g, b))
    return data


def cmyk_jpeg() -> bytes:
    """Quadrants in CMYK (Pillow writes Adobe-style inverted CMYK with an APP14 marker, like
    Photoshop and print workflows do)."""
    return save(quadrants(64, 48).convert("CMYK"), "JPEG", quality=92)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (64, 48), c) for c in (RED, GREEN, BLUE, YELLOW)]
    for i, f in enumerate(frames):
        ImageDraw.Draw(f).rectangle([4 + 12 * i, 18, 14 + 12 * i, 30], fill=(255, 255, 255))
    return save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = save(product(), "HEIF", quality=60)
    assert data[4:12] == b"ftypheic", data[:16]
    return data


def avif() -> bytes:
    assert features.check("avif"), "this Pillow cannot write AVIF"
    data = save(product(), "AVIF", quality=50, speed=8)
    assert data[4:12] in (b"ftypavif", b"ftypavis"), data[:16]
    return data


SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="150" viewBox="0 0 200 150">
  <rect width="200" height="150" fill="#ece9e4"/>
  <rect x="60" y="30" width="64" height="98" fill="#c81c24"/>
</svg>
"""

# A minimal, well-formed one-page PDF (the header is what the engine sees).
PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 150] >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""

TEXT = b"Order #1234: two blue sneakers, size 42\nDeliver to: 1 Main Street\n"


def corpus() -> dict[str, bytes]:
    rng = np.random.default_rng(SEED)
    photo_jpeg = save(product(), "JPEG", quality=85)
    photo_png = save(product(), "PNG")
    files: dict[str, bytes] = {
        "empty.jpg": b"",
        "order.txt": TEXT,
        "random.bin": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "truncated.jpg": photo_jpeg[: len(photo_jpeg) // 2],
        "truncated.png": photo_png[: len(photo_png) // 3],
        "bad-crc.png": bad_crc_png(photo_png),
        "bit-flip.png": bit_flip_png(photo_png),
        "one-pixel.png": save(Image.new("RGB", (1, 1), RED), "PNG"),
        "bomb-60000x60000.png": bomb_png(60_000, 60_000),
        "photo.jpg": photo_jpeg,
        "photo.png": photo_png,
        "progressive.jpg": save(product(), "JPEG", quality=85, progressive=True),
        "rgb-16bit.png": _png16(quadrants(64, 48)),
        "gray.png": save(product().convert("L"), "PNG"),
        "gray.jpg": save(product().convert("L"), "JPEG", quality=85),
        "cmyk.jpg": cmyk_jpeg(),
        "animated.gif": animated_gif(),
        "lossy.webp": save(product(), "WEBP", quality=75, method=4),
        "lossless-alpha.webp": save(cutout(), "WEBP", lossless=True),
        "photo.heic": heic(),
        "photo.avif": avif(),
        "drawing.svg": SVG,
        "document.pdf": PDF,
        "all-white.png": save(Image.new("RGB", (200, 150), (255, 255, 255)), "PNG"),
        "noise.png": save(Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8), "RGB"), "PNG"),
        "photo.tiff": save(product(), "TIFF", compression="tiff_lzw"),
        "photo.bmp": save(quadrants(64, 48), "BMP"),
        "jpeg-named.png": photo_jpeg,
    }
    for o in range(1, 9):
        files[f"exif-orientation-{o}.jpg"] = exif_jpeg(o)
    return files


def _png16(img: Image.Image) -> bytes:
    """16-bit-per-channel RGB PNG, written by hand (Pillow has no 16-bit RGB mode)."""
    a = np.asarray(img.convert("RGB")).astype(">u2") * 257
    h, w, _ = a.shape
    raw = b"".join(b"\0" + a[y].tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def sums(files: dict[str, bytes]) -> str:
    return "".join(f"{hashlib.sha256(b).hexdigest()}  {name}\n" for name, b in sorted(files.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare a fresh generation with the folder")
    args = ap.parse_args()
    files = corpus()
    if args.check:
        want = (HERE / "SHA256SUMS").read_text()
        got = sums(files)
        if got != want:
            with tempfile.NamedTemporaryFile("w", suffix=".SHA256SUMS", delete=False) as t:
                t.write(got)
            print(f"corpus differs from SHA256SUMS (fresh sums in {t.name})", file=sys.stderr)
            return 1
        print(f"{len(files)} files match SHA256SUMS")
        return 0
    for old in HERE.iterdir():
        if old.is_file() and old.name not in NOT_INPUTS:
            old.unlink()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    (HERE / "SHA256SUMS").write_text(sums(files))
    total = sum(len(b) for b in files.values())
    print(f"wrote {len(files)} files ({total} bytes) and SHA256SUMS to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
