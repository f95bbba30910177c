//! Writes the seed corpora of the fuzz targets (scripts/fuzz.sh runs it before fuzzing):
//!
//! ```text
//! lookalike-fuzz-seedgen OUT_DIR [CATALOG_DIR] [FIXTURES_DIR]
//! ```
//!
//! - `OUT/decode`: small valid PNG (8/16-bit, grey, alpha, palette, 1-bit, APNG, eXIf), JPEG (with
//!   EXIF orientations), WebP (lossless, VP8X + EXIF), GIF (still, animated), BMP and TIFF images;
//!   truncated and bit-flipped copies; headers patched to huge sizes (decompression bombs that
//!   must be refused from the header); a real bomb over the 50 MP limit; non-images.
//! - `OUT/decode-bombs`: real decompression bombs (all-zero PNGs, ~1000:1) under and over the
//!   limit; scripts/fuzz.sh replays them once (each takes seconds) rather than mutating them.
//! - `OUT/pipeline`, `OUT/search`: valid images, some with extra trailing knob bytes.
//! - `OUT/catalog`: catalog bundles (see fuzz/README.md): a synthetic catalog, and when
//!   `CATALOG_DIR` (catalog/demo) exists the real demo catalog and a trimmed copy, plus hostile
//!   variants (paths, links, NaN, huge headers, mismatched rows and dims).
//! - `OUT/matrix`: `.bin` matrices (the demo's and synthetic ones).
//! - `OUT/index_files`: int8 codes (`embeddings.i8`) and HNSW graph (`embeddings.hnsw`) files,
//!   valid and damaged (truncated, a link past the rows, absurd layer counts, a NaN scale).
//! - `OUT/bundle`: catalog bundles (`.lookalike` tars, written by hand: names, kinds and listings
//!   `lookalike pack` never makes): the synthetic catalog (plain, long names, nested folders) and
//!   the trimmed demo catalog, each valid, plus damaged and hostile edits of the synthetic one.
//! - `OUT/products`: merchants' products files (catalog::products): our JSON, a plain CSV and a
//!   Shopify export, valid and with the damage the reader reports by line and column, plus the
//!   demo catalog's products in all three formats.
//!
//! Everything is deterministic (fixed pseudo-random seed).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Frame, ImageBuffer, ImageFormat, LumaA, RgbImage, Rgba, RgbaImage};
use serde_json::{Value, json};

/// libFuzzer's -max_len for the image targets (scripts/fuzz.sh); bigger seeds are not written.
const MAX_IMAGE_SEED: usize = 256 * 1024;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

struct Out {
    dir: PathBuf,
    count: usize,
}

impl Out {
    fn new(root: &Path, target: &str) -> Self {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("create seed dir");
        Out { dir, count: 0 }
    }
    fn put(&mut self, name: &str, bytes: &[u8]) {
        if bytes.is_empty() || bytes.len() > MAX_IMAGE_SEED * 4 {
            return;
        }
        std::fs::write(self.dir.join(name), bytes).expect("write seed");
        self.count += 1;
    }
}

// ---- images ------------------------------------------------------------------------------------

/// A product-like photo: a soft background gradient and a coloured ellipse.
fn scene(w: u32, h: u32, hue: u8) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let (dx, dy) = (
            (x as f32 - cx) / (w as f32 * 0.35),
            (y as f32 - cy) / (h as f32 * 0.35),
        );
        if dx * dx + dy * dy <= 1.0 {
            Rgba([hue, 255 - hue, (x * 7 + y * 3) as u8, 255])
        } else {
            let g = 200 + ((x + y) % 40) as u8;
            Rgba([g, g, g - 10, 255])
        }
    })
}

/// A real cut-out: transparent background, opaque product.
fn cutout(w: u32, h: u32, hue: u8) -> RgbaImage {
    let mut img = scene(w, h, hue);
    let bg = *img.get_pixel(0, 0);
    img.pixels_mut()
        .filter(|p| **p == bg || p[0] > 190)
        .for_each(|p| p[3] = 0);
    img
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .unwrap_or_else(|e| panic!("encode {format:?} {:?}: {e}", img.color()));
    out.into_inner()
}

fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .expect("jpeg");
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
    c
}

/// A little-endian TIFF/EXIF block holding only the orientation tag.
fn exif_orientation(orientation: u16) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes()); // one entry
    t.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    t.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    t
}

fn jpeg_with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(exif_orientation(orientation));
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn png_with_exif(png: &[u8], orientation: u16) -> Vec<u8> {
    let ihdr_end = 8 + 25;
    let mut out = png[..ihdr_end].to_vec();
    out.extend(png_chunk(b"eXIf", &exif_orientation(orientation)));
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

fn png_with_dims(png: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = png.to_vec();
    out[16..20].copy_from_slice(&w.to_be_bytes());
    out[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn jpeg_with_dims(jpeg: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    if let Some(i) = find(&out, &[0xFF, 0xC0]) {
        out[i + 5..i + 7].copy_from_slice(&h.to_be_bytes());
        out[i + 7..i + 9].copy_from_slice(&w.to_be_bytes());
    }
    out
}

fn gif_with_dims(gif: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = gif.to_vec();
    out[6..8].copy_from_slice(&w.to_le_bytes());
    out[8..10].copy_from_slice(&h.to_le_bytes());
    // first image descriptor, after the global colour table if any
    let gct = if out[10] & 0x80 != 0 {
        3 << ((out[10] & 7) + 1)
    } else {
        0
    };
    let mut i = 13 + gct;
    while i < out.len() && out[i] == 0x21 {
        // extension: skip its sub-blocks
        i += 2;
        while i < out.len() && out[i] != 0 {
            i += usize::from(out[i]) + 1;
        }
        i += 1;
    }
    if i + 9 <= out.len() && out[i] == 0x2C {
        out[i + 5..i + 7].copy_from_slice(&w.to_le_bytes());
        out[i + 7..i + 9].copy_from_slice(&h.to_le_bytes());
    }
    out
}

fn bmp_with_dims(bmp: &[u8], w: i32, h: i32) -> Vec<u8> {
    let mut out = bmp.to_vec();
    out[18..22].copy_from_slice(&w.to_le_bytes());
    out[22..26].copy_from_slice(&h.to_le_bytes());
    out
}

fn webp_lossless_with_dims(webp: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = webp.to_vec();
    if let Some(i) = find(&out, b"VP8L") {
        let at = i + 9; // after the chunk header and the 0x2f signature
        let old = u32::from_le_bytes(out[at..at + 4].try_into().unwrap());
        let bits = ((w - 1) & 0x3FFF) | (((h - 1) & 0x3FFF) << 14) | (old & 0xF000_0000);
        out[at..at + 4].copy_from_slice(&bits.to_le_bytes());
    }
    out
}

/// Wraps a simple (VP8L) WebP into an extended VP8X one with an EXIF chunk.
fn webp_with_exif(webp: &[u8], w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let image_chunk = &webp[12..];
    let mut vp8x = vec![0x08 | 0x10, 0, 0, 0]; // EXIF + alpha flags
    vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut c = kind.to_vec();
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    };
    let mut body = b"WEBP".to_vec();
    body.extend(chunk(b"VP8X", &vp8x));
    body.extend_from_slice(image_chunk);
    body.extend(chunk(b"EXIF", &exif_orientation(orientation)));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn tiff_with_dims(tiff: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = tiff.to_vec();
    if &out[..4] != b"II*\0" {
        return out;
    }
    let ifd = u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes([out[ifd], out[ifd + 1]]) as usize;
    for e in 0..n {
        let at = ifd + 2 + 12 * e;
        let tag = u16::from_le_bytes([out[at], out[at + 1]]);
        let kind = u16::from_le_bytes([out[at + 2], out[at + 3]]);
        let v = match tag {
            256 => w,
            257 => h,
            _ => continue,
        };
        if kind == 3 {
            out[at + 8..at + 10].copy_from_slice(&(v.min(65535) as u16).to_le_bytes());
        } else {
            out[at + 8..at + 12].copy_from_slice(&v.to_le_bytes());
        }
    }
    out
}

fn png_raw(
    w: u32,
    h: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    setup: impl FnOnce(&mut png::Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        enc.set_compression(png::Compression::High);
        setup(&mut enc);
        let mut writer = enc.write_header().expect("png header");
        writer.write_image_data(data).expect("png data");
    }
    out
}

fn apng(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_animated(2, 0).expect("apng");
        let mut writer = enc.write_header().expect("png header");
        writer
            .write_image_data(cutout(w, h, 30).as_raw())
            .expect("frame 1");
        writer
            .write_image_data(scene(w, h, 200).as_raw())
            .expect("frame 2");
    }
    out
}

fn gif_frames(frames: &[RgbaImage]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        enc.encode_frames(frames.iter().map(|f| Frame::new(f.clone())))
            .expect("gif");
    }
    out
}

/// Valid images: (name, bytes).
fn valid_images() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| v.push((name.to_string(), bytes));
    let photo = DynamicImage::ImageRgba8(scene(64, 48, 220)).to_rgb8();
    let cut = cutout(64, 64, 40);

    // PNG
    add(
        "png-rgb8.png",
        encode(&DynamicImage::ImageRgb8(photo.clone()), ImageFormat::Png),
    );
    add(
        "png-rgba8-cutout.png",
        encode(&DynamicImage::ImageRgba8(cut.clone()), ImageFormat::Png),
    );
    add(
        "png-l8.png",
        encode(
            &DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(photo.clone()).to_luma8()),
            ImageFormat::Png,
        ),
    );
    let la: ImageBuffer<LumaA<u8>, Vec<u8>> =
        DynamicImage::ImageRgba8(cut.clone()).to_luma_alpha8();
    add(
        "png-la8.png",
        encode(&DynamicImage::ImageLumaA8(la), ImageFormat::Png),
    );
    add(
        "png-rgb16.png",
        encode(
            &DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(photo.clone()).to_rgb16()),
            ImageFormat::Png,
        ),
    );
    add(
        "png-rgba16.png",
        encode(
            &DynamicImage::ImageRgba16(DynamicImage::ImageRgba8(cut.clone()).to_rgba16()),
            ImageFormat::Png,
        ),
    );
    add(
        "png-l16.png",
        encode(
            &DynamicImage::ImageLuma16(DynamicImage::ImageRgb8(photo.clone()).to_luma16()),
            ImageFormat::Png,
        ),
    );
    add(
        "png-17x16.png",
        encode(
            &DynamicImage::ImageRgba8(scene(17, 16, 90)),
            ImageFormat::Png,
        ),
    );
    add(
        "png-1x1.png",
        encode(&DynamicImage::ImageRgba8(scene(1, 1, 90)), ImageFormat::Png),
    );
    add(
        "png-wide-1100x40.png",
        encode(
            &DynamicImage::ImageRgba8(scene(1100, 40, 120)),
            ImageFormat::Png,
        ),
    );
    add(
        "png-tall-18x1300.png",
        encode(
            &DynamicImage::ImageRgba8(cutout(18, 1300, 10)),
            ImageFormat::Png,
        ),
    );
    let palette: Vec<u8> = (0..16u8)
        .flat_map(|i| [i * 16, 255 - i * 16, i * 8])
        .collect();
    let trns: Vec<u8> = (0..16u8).map(|i| if i < 4 { 0 } else { 255 }).collect();
    let indices: Vec<u8> = (0..32 * 32 / 2)
        .map(|i| ((i % 16) as u8) << 4 | ((i / 16) % 16) as u8)
        .collect();
    add(
        "png-palette4-trns.png",
        png_raw(
            32,
            32,
            png::ColorType::Indexed,
            png::BitDepth::Four,
            &indices,
            |e| {
                e.set_palette(palette.clone());
                e.set_trns(trns.clone());
            },
        ),
    );
    let bits: Vec<u8> = (0..32 * 32 / 8)
        .map(|i| if i % 3 == 0 { 0xAA } else { 0x0F })
        .collect();
    add(
        "png-gray1.png",
        png_raw(
            32,
            32,
            png::ColorType::Grayscale,
            png::BitDepth::One,
            &bits,
            |_| {},
        ),
    );
    add("png-apng.png", apng(32, 32));
    let rgb_png = encode(&DynamicImage::ImageRgb8(photo.clone()), ImageFormat::Png);
    add("png-exif6.png", png_with_exif(&rgb_png, 6));
    add("png-exif9-invalid.png", png_with_exif(&rgb_png, 9));

    // JPEG
    let j = jpeg(&photo, 90);
    add("jpeg-q90.jpg", j.clone());
    add(
        "jpeg-q20-tall.jpg",
        jpeg(&DynamicImage::ImageRgba8(scene(40, 90, 60)).to_rgb8(), 20),
    );
    let mut gray = Vec::new();
    JpegEncoder::new_with_quality(&mut gray, 75)
        .encode_image(&DynamicImage::ImageRgb8(photo.clone()).to_luma8())
        .expect("gray jpeg");
    add("jpeg-gray.jpg", gray);
    for o in [2, 3, 5, 6, 8] {
        add(&format!("jpeg-exif{o}.jpg"), jpeg_with_exif(&j, o));
    }

    // WebP (the image crate encodes lossless only)
    let webp_cut = encode(&DynamicImage::ImageRgba8(cut.clone()), ImageFormat::WebP);
    add("webp-lossless-rgba.webp", webp_cut.clone());
    add(
        "webp-lossless-rgb.webp",
        encode(&DynamicImage::ImageRgb8(photo.clone()), ImageFormat::WebP),
    );
    add("webp-vp8x-exif6.webp", webp_with_exif(&webp_cut, 64, 64, 6));

    // GIF
    add("gif-still.gif", gif_frames(&[scene(48, 48, 170)]));
    add(
        "gif-animated-alpha.gif",
        gif_frames(&[cutout(40, 40, 20), scene(40, 40, 250)]),
    );

    // BMP
    add(
        "bmp-rgb.bmp",
        encode(&DynamicImage::ImageRgb8(photo.clone()), ImageFormat::Bmp),
    );
    add(
        "bmp-rgba.bmp",
        encode(&DynamicImage::ImageRgba8(cut.clone()), ImageFormat::Bmp),
    );
    add(
        "bmp-l8.bmp",
        encode(
            &DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(photo.clone()).to_luma8()),
            ImageFormat::Bmp,
        ),
    );

    // TIFF
    add(
        "tiff-rgb8.tif",
        encode(&DynamicImage::ImageRgb8(photo.clone()), ImageFormat::Tiff),
    );
    add(
        "tiff-rgba8.tif",
        encode(&DynamicImage::ImageRgba8(cut.clone()), ImageFormat::Tiff),
    );
    add(
        "tiff-l8.tif",
        encode(
            &DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(photo.clone()).to_luma8()),
            ImageFormat::Tiff,
        ),
    );
    add(
        "tiff-rgb16.tif",
        encode(
            &DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(photo).to_rgb16()),
            ImageFormat::Tiff,
        ),
    );
    v
}

fn header_bombs(valid: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let get = |n: &str| {
        valid
            .iter()
            .find(|(name, _)| name == n)
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    vec![
        (
            "bomb-png-header-100000x100000.png".into(),
            png_with_dims(&get("png-rgb8.png"), 100_000, 100_000),
        ),
        (
            "bomb-png-header-u32max.png".into(),
            png_with_dims(&get("png-rgba8-cutout.png"), u32::MAX, u32::MAX),
        ),
        (
            "bomb-png-header-7071x7071.png".into(),
            png_with_dims(&get("png-l8.png"), 7071, 7071),
        ),
        (
            "bomb-jpeg-header-65535.jpg".into(),
            jpeg_with_dims(&get("jpeg-q90.jpg"), 65535, 65535),
        ),
        (
            "bomb-jpeg-header-0x0.jpg".into(),
            jpeg_with_dims(&get("jpeg-q90.jpg"), 0, 0),
        ),
        (
            "bomb-gif-header-65535.gif".into(),
            gif_with_dims(&get("gif-still.gif"), 65535, 65535),
        ),
        (
            "bomb-bmp-header-huge.bmp".into(),
            bmp_with_dims(&get("bmp-rgb.bmp"), 40_000, 40_000),
        ),
        (
            "bomb-bmp-header-topdown.bmp".into(),
            bmp_with_dims(&get("bmp-rgb.bmp"), 64, -48),
        ),
        (
            "bomb-bmp-header-min.bmp".into(),
            bmp_with_dims(&get("bmp-rgb.bmp"), i32::MIN, i32::MIN),
        ),
        (
            "bomb-webp-header-16384.webp".into(),
            webp_lossless_with_dims(&get("webp-lossless-rgba.webp"), 16384, 16384),
        ),
        (
            "bomb-tiff-header-60000.tif".into(),
            tiff_with_dims(&get("tiff-rgb8.tif"), 60_000, 60_000),
        ),
        (
            "bomb-tiff-header-u32max.tif".into(),
            tiff_with_dims(&get("tiff-rgba8.tif"), u32::MAX, 3),
        ),
    ]
}

/// Real decompression bombs: all-zero greyscale/RGBA16 PNGs that compress ~1000:1.
fn real_bombs() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for (name, w, h, color, depth, bpp) in [
        (
            "bomb-png-l8-4096x4096.png",
            4096u32,
            4096u32,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            1usize,
        ),
        (
            "bomb-png-l8-7000x7000-under-limit.png",
            7000,
            7000,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            1,
        ),
        (
            "bomb-png-l8-10000x6000-over-limit.png",
            10_000,
            6_000,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            1,
        ),
        (
            "bomb-png-rgba16-4000x4000.png",
            4000,
            4000,
            png::ColorType::Rgba,
            png::BitDepth::Sixteen,
            8,
        ),
    ] {
        let data = vec![0u8; w as usize * h as usize * bpp];
        let bytes = png_raw(w, h, color, depth, &data, |_| {});
        if bytes.len() <= MAX_IMAGE_SEED {
            v.push((name.to_string(), bytes));
        } else {
            eprintln!(
                "seedgen: {name} is {} bytes, over the {MAX_IMAGE_SEED}-byte max_len: skipped",
                bytes.len()
            );
        }
    }
    v
}

fn non_images() -> Vec<(String, Vec<u8>)> {
    vec![
        ("text.txt".into(), b"hello, this is a note\n".to_vec()),
        (
            "svg.svg".into(),
            b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'></svg>".to_vec(),
        ),
        ("pdf.pdf".into(), b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec()),
        (
            "heic.heic".into(),
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
        ),
        (
            "avif.avif".into(),
            b"\0\0\0\x1cftypavif\0\0\0\0avifmif1".to_vec(),
        ),
        (
            "mp4.mp4".into(),
            b"\0\0\0\x18ftypisom\0\0\0\0isomiso2".to_vec(),
        ),
        ("tga-ish.bin".into(), vec![0u8; 18]),
    ]
}

fn mutations(rng: &mut Rng, name: &str, bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        (
            format!("trunc-half-{name}"),
            bytes[..bytes.len() / 2].to_vec(),
        ),
        (format!("trunc-1-{name}"), bytes[..bytes.len() - 1].to_vec()),
        (
            format!("trunc-12-{name}"),
            bytes[..bytes.len().saturating_sub(12)].to_vec(),
        ),
        (
            format!("trunc-header-{name}"),
            bytes[..bytes.len().min(40)].to_vec(),
        ),
    ];
    for k in 0..2 {
        let mut b = bytes.to_vec();
        for _ in 0..4 {
            // mostly in the headers, where the interesting checks are
            let i = if rng.below(2) == 0 {
                rng.below(b.len().min(64))
            } else {
                rng.below(b.len())
            };
            b[i] ^= 1 << rng.below(8);
        }
        v.push((format!("flip{k}-{name}"), b));
    }
    v
}

// ---- catalogs ----------------------------------------------------------------------------------

fn matrix(rows: usize, dims: usize, f: impl Fn(usize, usize) -> f32) -> Vec<u8> {
    let mut out = b"LKLKVEC\0".to_vec();
    for w in [1u32, rows as u32, dims as u32, 0] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for r in 0..rows {
        for d in 0..dims {
            out.extend_from_slice(&f(r, d).to_le_bytes());
        }
    }
    out
}

/// Rows `keep` of a `.bin` matrix.
fn slice_rows(bin: &[u8], keep: &[usize]) -> Vec<u8> {
    let dims = u32::from_le_bytes(bin[16..20].try_into().unwrap()) as usize;
    let mut out = bin[..24].to_vec();
    out[12..16].copy_from_slice(&(keep.len() as u32).to_le_bytes());
    for &r in keep {
        out.extend_from_slice(&bin[24 + r * dims * 4..24 + (r + 1) * dims * 4]);
    }
    out
}

struct Cat {
    json: Value,
    emb: Vec<u8>,
    tex: Vec<u8>,
    col: Vec<u8>,
}

const FLAG_THUMBS: u8 = 1;

fn bundle(flags: u8, json: &[u8], bins: [&[u8]; 3], thumb: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    for s in [json, bins[0], bins[1], bins[2], thumb] {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s);
    }
    out
}

impl Cat {
    fn bundle(&self, flags: u8) -> Vec<u8> {
        let json = serde_json::to_vec_pretty(&self.json).unwrap();
        bundle(
            flags,
            &json,
            [&self.emb, &self.tex, &self.col],
            b"\xFF\xD8thumb\xFF\xD9",
        )
    }
    fn with_json(&self, edit: impl FnOnce(&mut Value)) -> Cat {
        let mut json = self.json.clone();
        edit(&mut json);
        Cat {
            json,
            emb: self.emb.clone(),
            tex: self.tex.clone(),
            col: self.col.clone(),
        }
    }
}

/// A small catalog in the real format, made up (used when catalog/demo is absent, and always).
fn synthetic_catalog() -> Cat {
    let (emb_dims, tex_dims) = (8, 4);
    let stamp = |output: &str| json!({"model": "efficientnet_lite0", "output": output, "sha256": "0".repeat(64)});
    let product = |id: &str, cat: &str, gtin: Option<&str>| {
        json!({
            "id": id, "name": format!("Product {id}"), "category": cat, "price": 12.5, "currency": "EUR",
            "gtin": gtin, "brand": null, "description": null, "source": null,
            "source_image": format!("{id}.png"), "thumbnail": format!("thumbs/{id}.jpg"), "segmentation": "alpha"
        })
    };
    let json = json!({
        "format": "lookalike-catalog", "version": 1, "name": "fuzz", "profile": "lite",
        "models": {"router": stamp("logits"), "texture": stamp("texture"),
                   "experts": {"general": stamp("embedding")}, "index_segmenter": "u2netp"},
        "dims": {"embedding": emb_dims, "texture": tex_dims, "color": 26},
        "texture_center": [0.1, -0.1, 0.0, 0.2],
        "blend": {"semantic": 0.5, "texture": 0.3, "color": 0.2},
        "router": {"kind": "class_table", "second_threshold": 0.25, "min_confidence": 0.05, "temperature": 100.0},
        "categories": [
            {"name": "mugs", "expert": "general", "imagenet_classes": [504, 968], "prompts": [],
             "learned_classes": [[504, 1.5], [999, 0.25]], "rows": [0, 2]},
            {"name": "shoes", "expert": "general", "imagenet_classes": [770], "prompts": ["a shoe"],
             "prototype": vec![0.35355339f32; emb_dims], "rows": [2, 3]}
        ],
        "products": [product("a", "mugs", Some("4006381333931")), product("b", "mugs", None), product("c", "shoes", Some("00012345678905"))]
    });
    Cat {
        json,
        emb: matrix(3, emb_dims, |r, d| if d == r { 1.0 } else { 0.0 }),
        tex: matrix(3, tex_dims, |r, d| (r + d) as f32 * 0.25),
        col: matrix(3, 26, |r, d| {
            if d == r || d == 18 || d == 22 {
                1.0
            } else {
                0.0
            }
        }),
    }
}

/// The demo's catalog.json with its products inside it: from format 4 on they are one a line in
/// products.jsonl, which is read back into the list (and the version set to 3, the last that
/// kept them there), so the `catalog` and `bundle` seeds stay one JSON file and matrices.
fn demo_catalog_json(dir: &Path) -> Option<Value> {
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("catalog.json")).ok()?).ok()?;
    if json.get("products").is_none() {
        let lines = std::fs::read_to_string(dir.join("products.jsonl")).ok()?;
        let products: Vec<Value> = (lines.lines())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .ok()?;
        let obj = json.as_object_mut()?;
        obj.remove("rows");
        obj.insert("products".into(), Value::Array(products));
        obj.insert("version".into(), json!(3));
    }
    Some(json)
}

/// The demo catalog, and a copy trimmed to two products of each of its first two categories.
fn demo_catalogs(dir: &Path) -> Option<(Cat, Cat)> {
    let json = demo_catalog_json(dir)?;
    let read = |n: &str| std::fs::read(dir.join(n)).ok();
    let full = Cat {
        json,
        emb: read("embeddings.bin")?,
        tex: read("texture.bin")?,
        col: read("color_signatures.bin")?,
    };
    let cats = full.json["categories"].as_array()?;
    let products = full.json["products"].as_array()?;
    let mut keep = Vec::new();
    let mut new_cats = Vec::new();
    for c in cats.iter().take(2) {
        let start = c["rows"][0].as_u64()? as usize;
        let end = c["rows"][1].as_u64()? as usize;
        let rows: Vec<usize> = (start..end.min(start + 2)).collect();
        let mut c = c.clone();
        c["rows"] = json!([keep.len(), keep.len() + rows.len()]);
        keep.extend(rows);
        new_cats.push(c);
    }
    let trimmed = full.with_json(|j| {
        j["categories"] = Value::Array(new_cats);
        j["products"] = Value::Array(keep.iter().map(|r| products[*r].clone()).collect());
    });
    let trimmed = Cat {
        emb: slice_rows(&full.emb, &keep),
        tex: slice_rows(&full.tex, &keep),
        col: slice_rows(&full.col, &keep),
        ..trimmed
    };
    Some((full, trimmed))
}

fn catalog_seeds(out: &mut Out, demo: Option<&Path>) {
    let synth = synthetic_catalog();
    let mut bases = vec![("synthetic", synth)];
    if let Some((full, trimmed)) = demo.and_then(demo_catalogs) {
        out.put("demo-full", &full.bundle(FLAG_THUMBS));
        bases.push(("demo-trimmed", trimmed));
    }
    for (name, c) in &bases {
        out.put(&format!("{name}-ok"), &c.bundle(FLAG_THUMBS));
        out.put(&format!("{name}-no-thumbs"), &c.bundle(0));
        for (flag, what) in [
            (2, "thumb-symlink"),
            (4, "thumb-is-dir"),
            (8, "emb-missing"),
            (8 | 0x40, "tex-missing"),
            (16 | 0x80, "colors-is-dir"),
            (32, "thumbs-dir-symlink"),
        ] {
            out.put(&format!("{name}-{what}"), &c.bundle(FLAG_THUMBS | flag));
        }
        let first = |j: &mut Value| j["products"][0].clone();
        let variants: Vec<(&str, Cat)> = vec![
            (
                "path-dotdot",
                c.with_json(|j| j["products"][0]["thumbnail"] = json!("../../../../etc/passwd")),
            ),
            (
                "path-absolute",
                c.with_json(|j| j["products"][0]["thumbnail"] = json!("/etc/passwd")),
            ),
            (
                "path-inner-dotdot",
                c.with_json(|j| j["products"][0]["thumbnail"] = json!("thumbs/../catalog.json")),
            ),
            (
                "path-empty",
                c.with_json(|j| j["products"][0]["thumbnail"] = json!("")),
            ),
            (
                "path-dot",
                c.with_json(|j| j["products"][0]["thumbnail"] = json!("./thumbs/x.jpg")),
            ),
            (
                "path-is-json",
                c.with_json(|j| j["products"][0]["thumbnail"] = json!("catalog.json")),
            ),
            (
                "dup-id",
                c.with_json(|j| {
                    let p = first(j);
                    j["products"][1]["id"] = p["id"].clone();
                }),
            ),
            (
                "rows-reversed",
                c.with_json(|j| j["categories"][0]["rows"] = json!([2, 0])),
            ),
            (
                "rows-huge",
                c.with_json(|j| j["categories"][0]["rows"] = json!([0, u64::MAX])),
            ),
            (
                "rows-gap",
                c.with_json(|j| j["categories"][0]["rows"] = json!([1, 2])),
            ),
            (
                "wrong-category",
                c.with_json(|j| j["products"][0]["category"] = json!("nope")),
            ),
            (
                "color-dims-27",
                c.with_json(|j| j["dims"]["color"] = json!(27)),
            ),
            (
                "emb-dims-huge",
                c.with_json(|j| j["dims"]["embedding"] = json!(u64::MAX)),
            ),
            (
                "center-wrong-len",
                c.with_json(|j| j["texture_center"] = json!([1.0])),
            ),
            (
                "blend-negative",
                c.with_json(|j| j["blend"]["texture"] = json!(-1.0)),
            ),
            (
                "blend-zero",
                c.with_json(|j| {
                    j["blend"] = json!({"semantic": 0.0, "texture": 0.0, "color": 0.0})
                }),
            ),
            (
                "blend-overflow-f32",
                c.with_json(|j| j["blend"]["color"] = json!(1e39)),
            ),
            (
                "router-nan-ish",
                c.with_json(|j| j["router"]["second_threshold"] = json!(-1e39)),
            ),
            (
                "prototype-wrong-dims",
                c.with_json(|j| j["categories"][0]["prototype"] = json!([1.0, 2.0])),
            ),
            (
                "learned-huge-class",
                c.with_json(|j| {
                    j["categories"][0]["learned_classes"] =
                        json!([[4294967295u64, 1e38], [5, -1.0]])
                }),
            ),
            ("version-2", c.with_json(|j| j["version"] = json!(2))),
            (
                "no-categories",
                c.with_json(|j| {
                    j["categories"] = json!([]);
                }),
            ),
            (
                "empty",
                Cat {
                    json: c.json.clone(),
                    emb: matrix(
                        0,
                        c.json["dims"]["embedding"].as_u64().unwrap_or(0) as usize,
                        |_, _| 0.0,
                    ),
                    tex: matrix(
                        0,
                        c.json["dims"]["texture"].as_u64().unwrap_or(0) as usize,
                        |_, _| 0.0,
                    ),
                    col: matrix(0, 26, |_, _| 0.0),
                }
                .with_json(|j| {
                    j["categories"] = json!([]);
                    j["products"] = json!([]);
                }),
            ),
        ];
        for (what, v) in &variants {
            out.put(&format!("{name}-{what}"), &v.bundle(FLAG_THUMBS));
        }
        let json = serde_json::to_vec(&c.json).unwrap();
        let rows = c.json["products"].as_array().map_or(0, Vec::len);
        let dims = c.json["dims"]["embedding"].as_u64().unwrap_or(0) as usize;
        let mut nan = c.emb.clone();
        nan[24..28].copy_from_slice(&f32::NAN.to_le_bytes());
        let mut huge = c.emb.clone();
        huge[12..20].copy_from_slice(&[0xFF; 8]);
        let short = matrix(rows.saturating_sub(1), dims, |_, _| 0.5);
        let thumb = b"x".as_slice();
        for (what, emb) in [
            ("emb-nan", nan),
            ("emb-huge-header", huge),
            ("emb-fewer-rows", short),
        ] {
            out.put(
                &format!("{name}-{what}"),
                &bundle(FLAG_THUMBS, &json, [&emb, &c.tex, &c.col], thumb),
            );
        }
        out.put(
            &format!("{name}-bins-swapped"),
            &bundle(FLAG_THUMBS, &json, [&c.tex, &c.emb, &c.col], thumb),
        );
        out.put(
            &format!("{name}-json-truncated"),
            &bundle(
                FLAG_THUMBS,
                &json[..json.len() / 2],
                [&c.emb, &c.tex, &c.col],
                thumb,
            ),
        );
    }
    out.put("garbage", b"\x01\x05\0\0\0{}\0\0\0\0");
}

// ---- bundles (catalog::bundle) -------------------------------------------------------------------

/// One tar entry: a GNU header (name and link as given, unchecked: hostile seeds need that) and
/// the data padded to a block. Names over 100 bytes get a GNU long-name entry first, as
/// `lookalike pack` (the tar crate) writes them.
fn tar_entry(out: &mut Vec<u8>, name: &[u8], kind: u8, data: &[u8], link: &[u8]) {
    if name.len() > 100 {
        let mut long = name.to_vec();
        long.push(0);
        tar_entry(out, b"././@LongLink", b'L', &long, b"");
    }
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    let field = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
        let s = format!("{v:0w$o}\0", w = len - 1);
        h[at..at + len].copy_from_slice(s.as_bytes());
    };
    field(&mut h, 100, 8, 0o644);
    field(&mut h, 108, 8, 0);
    field(&mut h, 116, 8, 0);
    field(&mut h, 124, 12, data.len() as u64);
    field(&mut h, 136, 12, 0);
    h[156] = kind;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..265].copy_from_slice(b"ustar  \0");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A catalog's files in bundle order (`catalog::bundle::catalog_files`): catalog.json, the three
/// matrices, each product's thumbnail once.
struct Packed {
    json: Value,
    entries: Vec<(String, Vec<u8>)>,
}

impl Packed {
    fn new(cat: &Cat, thumb: impl Fn(&str) -> Vec<u8>) -> Packed {
        let mut entries = vec![
            (
                "catalog.json".to_owned(),
                serde_json::to_vec_pretty(&cat.json).unwrap(),
            ),
            ("embeddings.bin".to_owned(), cat.emb.clone()),
            ("texture.bin".to_owned(), cat.tex.clone()),
            ("color_signatures.bin".to_owned(), cat.col.clone()),
        ];
        for p in cat.json["products"].as_array().into_iter().flatten() {
            let Some(t) = p["thumbnail"].as_str() else {
                continue;
            };
            if !entries.iter().any(|(n, _)| n == t) {
                entries.push((t.to_owned(), thumb(t)));
            }
        }
        let json = json!({
            "format": "lookalike-bundle", "version": 1,
            "name": cat.json["name"], "profile": cat.json["profile"], "models": cat.json["models"],
            "files": entries.iter().map(|(path, data)| json!({
                "path": path, "size": data.len(), "sha256": sha256_hex(data)
            })).collect::<Vec<_>>(),
        });
        Packed { json, entries }
    }

    /// The bundle, `bundle.json` as listed (a hostile edit may make it disagree with the entries).
    fn tar(&self) -> Vec<u8> {
        self.tar_with(|_, _| {})
    }

    /// The bundle with `edit` applied to `bundle.json` and the entries (path, kind, data, link)
    /// after it.
    fn tar_with(&self, edit: impl FnOnce(&mut Value, &mut Vec<RawEntry>)) -> Vec<u8> {
        let mut json = self.json.clone();
        let mut entries: Vec<RawEntry> = self
            .entries
            .iter()
            .map(|(p, d)| (p.as_bytes().to_vec(), b'0', d.clone(), Vec::new()))
            .collect();
        edit(&mut json, &mut entries);
        let mut out = Vec::new();
        let listing = serde_json::to_vec_pretty(&json).unwrap();
        tar_entry(&mut out, b"bundle.json", b'0', &listing, b"");
        for (p, kind, data, link) in &entries {
            tar_entry(&mut out, p, *kind, data, link);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}

/// (path, tar type byte, data, link target)
type RawEntry = (Vec<u8>, u8, Vec<u8>, Vec<u8>);
/// A hostile edit of a valid bundle: `bundle.json` and the entries after it.
type Edit = Box<dyn Fn(&mut Value, &mut Vec<RawEntry>)>;

fn bundle_seeds(out: &mut Out, demo: Option<&Path>) {
    let synth = synthetic_catalog();
    let thumb = |_: &str| b"\xFF\xD8thumb\xFF\xD9".to_vec();
    let base = Packed::new(&synth, thumb);
    let valid = base.tar();
    out.put("synthetic", &valid);
    // long thumbnail paths: GNU long-name entries
    let long_id = "a-product-id-".repeat(12);
    let long = synth.with_json(|j| {
        j["products"][0]["id"] = json!(long_id);
        j["products"][0]["thumbnail"] = json!(format!("thumbs/{long_id}.jpg"));
    });
    out.put("long-name", &Packed::new(&long, thumb).tar());
    // thumbnails in nested folders, and the folders as their own entries
    let nested = synth.with_json(|j| {
        for (i, p) in j["products"].as_array_mut().unwrap().iter_mut().enumerate() {
            p["thumbnail"] = json!(format!("thumbs/{}/{i}.jpg", ["x", "y/z"][i % 2]));
        }
    });
    let nested = Packed::new(&nested, thumb);
    out.put("nested", &nested.tar());
    out.put(
        "nested-dir-entries",
        &nested.tar_with(|_, e| {
            e.insert(4, (b"thumbs/".to_vec(), b'5', Vec::new(), Vec::new()));
            e.insert(5, (b"thumbs/y/".to_vec(), b'5', Vec::new(), Vec::new()));
        }),
    );
    if let Some((_, trimmed)) = demo.and_then(demo_catalogs) {
        let dir = demo.unwrap();
        let real = Packed::new(&trimmed, |t| std::fs::read(dir.join(t)).unwrap_or_default());
        out.put("demo-trimmed", &real.tar());
    }
    let mut padded = valid.clone();
    padded.resize(padded.len().div_ceil(10240) * 10240, 0);
    out.put("gnu-record-padding", &padded);

    // damaged
    let mut flipped = valid.clone();
    let at = find(&flipped, b"thumb\xFF").unwrap();
    flipped[at] ^= 1;
    out.put("bit-flip-content", &flipped);
    out.put("truncated-middle", &valid[..valid.len() / 2]);
    out.put("truncated-no-end", &valid[..valid.len() - 1024]);
    out.put("truncated-header", &valid[..700]);
    let mut tail = valid.clone();
    tail.extend_from_slice(b"hidden");
    out.put("data-after-end", &tail);
    out.put("empty-archive", &[0u8; 1024]);

    // entries that disagree with the listing
    let cases: Vec<(&str, Edit)> = vec![
        ("entry-missing", Box::new(|_, e| drop(e.remove(1)))),
        ("entry-last-missing", Box::new(|_, e| drop(e.pop()))),
        ("entries-swapped", Box::new(|_, e| e.swap(1, 2))),
        ("entry-twice", Box::new(|_, e| e.insert(2, e[1].clone()))),
        (
            "entry-unlisted",
            Box::new(|_, e| e.push((b"thumbs/evil.jpg".to_vec(), b'0', b"x".to_vec(), vec![]))),
        ),
        (
            "second-bundle-json",
            Box::new(|_, e| e.push((b"bundle.json".to_vec(), b'0', b"{}".to_vec(), vec![]))),
        ),
        ("entry-longer", Box::new(|_, e| e[4].2.push(0))),
        (
            "entry-shorter",
            Box::new(|_, e| {
                e[4].2.pop();
            }),
        ),
        (
            "entry-escape",
            Box::new(|_, e| e[4].0 = b"../escape.jpg".to_vec()),
        ),
        (
            "entry-dotdot-inside",
            Box::new(|_, e| e[4].0 = b"thumbs/../../x".to_vec()),
        ),
        (
            "entry-absolute",
            Box::new(|_, e| e[4].0 = b"/tmp/x".to_vec()),
        ),
        (
            "entry-backslash",
            Box::new(|_, e| e[4].0 = b"thumbs\\a.jpg".to_vec()),
        ),
        (
            "entry-dot",
            Box::new(|_, e| e[0].0 = b"./catalog.json".to_vec()),
        ),
        (
            "entry-not-utf8",
            Box::new(|_, e| e[4].0 = b"thumbs/\xff\xfe".to_vec()),
        ),
        (
            "entry-symlink",
            Box::new(|_, e| {
                e[0] = (
                    b"catalog.json".to_vec(),
                    b'2',
                    vec![],
                    b"/etc/passwd".to_vec(),
                )
            }),
        ),
        (
            "entry-hardlink",
            Box::new(|_, e| {
                e[0] = (
                    b"catalog.json".to_vec(),
                    b'1',
                    vec![],
                    b"bundle.json".to_vec(),
                )
            }),
        ),
        ("entry-chardev", Box::new(|_, e| e[0].1 = b'3')),
        ("entry-blockdev", Box::new(|_, e| e[0].1 = b'4')),
        ("entry-fifo", Box::new(|_, e| e[0].1 = b'6')),
        ("entry-contiguous", Box::new(|_, e| e[0].1 = b'7')),
        ("entry-old-regular", Box::new(|_, e| e[0].1 = 0)),
        (
            "entry-pax",
            Box::new(|_, e| e.insert(0, (b"x".to_vec(), b'x', b"11 path=x\n".to_vec(), vec![]))),
        ),
        (
            "entry-pax-global",
            Box::new(|_, e| e.insert(0, (b"g".to_vec(), b'g', b"11 path=x\n".to_vec(), vec![]))),
        ),
        (
            "entry-long-link",
            Box::new(|_, e| {
                e.insert(
                    0,
                    (b"././@LongLink".to_vec(), b'K', b"/etc\0".to_vec(), vec![]),
                )
            }),
        ),
        (
            "entry-unlisted-dir",
            Box::new(|_, e| e.insert(4, (b"evil/".to_vec(), b'5', vec![], vec![]))),
        ),
        // the listing edited
        (
            "list-escape",
            Box::new(|j, _| j["files"][4]["path"] = json!("../a.jpg")),
        ),
        (
            "list-absolute",
            Box::new(|j, _| j["files"][4]["path"] = json!("/a.jpg")),
        ),
        (
            "list-twice",
            Box::new(|j, _| j["files"][5]["path"] = j["files"][4]["path"].clone()),
        ),
        (
            "list-case-clash",
            Box::new(|j, _| j["files"][5]["path"] = json!("THUMBS/a.jpg")),
        ),
        (
            "list-file-and-folder",
            Box::new(|j, _| j["files"][4]["path"] = json!("thumbs")),
        ),
        (
            "list-itself",
            Box::new(|j, _| j["files"][4]["path"] = json!("bundle.json")),
        ),
        (
            "list-bad-sha",
            Box::new(|j, _| j["files"][4]["sha256"] = json!("xyz")),
        ),
        (
            "list-upper-sha",
            Box::new(|j, _| {
                let s = j["files"][4]["sha256"].as_str().unwrap().to_uppercase();
                j["files"][4]["sha256"] = json!(s);
            }),
        ),
        (
            "list-huge-size",
            Box::new(|j, _| j["files"][4]["size"] = json!(u64::MAX / 2)),
        ),
        (
            "list-max-size",
            Box::new(|j, _| j["files"][4]["size"] = json!(u64::MAX)),
        ),
        (
            "list-size-1g",
            Box::new(|j, _| j["files"][4]["size"] = json!(1u64 << 30)),
        ),
        ("list-empty", Box::new(|j, _| j["files"] = json!([]))),
        ("list-version-2", Box::new(|j, _| j["version"] = json!(2))),
        (
            "list-format-zip",
            Box::new(|j, _| j["format"] = json!("zip")),
        ),
        ("list-unknown-field", Box::new(|j, _| j["extra"] = json!(1))),
        (
            "list-other-name",
            Box::new(|j, _| j["name"] = json!("other")),
        ),
        (
            "list-other-profile",
            Box::new(|j, _| j["profile"] = json!("full")),
        ),
        (
            "list-other-models",
            Box::new(|j, _| j["models"]["router"]["sha256"] = json!("1".repeat(64))),
        ),
        (
            "list-unused-file",
            Box::new(|j, e| {
                let data = b"#!/bin/sh\n".to_vec();
                j["files"].as_array_mut().unwrap().push(json!({
                    "path": "run.sh", "size": data.len(), "sha256": sha256_hex(&data)
                }));
                e.push((b"run.sh".to_vec(), b'0', data, vec![]));
            }),
        ),
    ];
    for (name, edit) in &cases {
        let mut tar = base.tar_with(edit);
        if name.contains("link") {
            // zero padding: as long as bundle.json's listing needs, so the link entry itself is judged
            tar.resize(tar.len() + (16 << 10), 0);
        }
        out.put(name, &tar);
    }

    // not bundles
    let mut notes = Vec::new();
    tar_entry(&mut notes, b"notes.txt", b'0', b"hello", b"");
    notes.extend_from_slice(&[0u8; 1024]);
    out.put("other-tar", &notes);
    for (name, json) in [
        ("json-invalid", b"{not json".as_slice()),
        ("json-empty-object", b"{}"),
        (
            "json-head-only",
            br#"{"format": "lookalike-bundle", "version": 1}"#,
        ),
    ] {
        let mut t = Vec::new();
        tar_entry(&mut t, b"bundle.json", b'0', json, b"");
        t.extend_from_slice(&[0u8; 1024]);
        out.put(name, &t);
    }
    // a long-name entry claiming 2 GiB
    let mut huge_long = Vec::new();
    tar_entry(&mut huge_long, b"././@LongLink", b'L', &[b'a'; 600], b"");
    huge_long[124..136].copy_from_slice(b"20000000000\0");
    huge_long[148..156].fill(b' ');
    let sum: u32 = huge_long[..512].iter().map(|&b| u32::from(b)).sum();
    huge_long[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.put("long-name-2gib", &huge_long);
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F'];
    jpeg.resize(3000, 0x55);
    out.put("jpeg", &jpeg);
    out.put("tiny", b"tiny");
}

fn matrix_seeds(out: &mut Out, demo: Option<&Path>) {
    if let Some(d) = demo {
        for n in ["color_signatures.bin", "texture.bin", "embeddings.bin"] {
            if let Ok(b) = std::fs::read(d.join(n)) {
                out.put(&format!("demo-{n}"), &b);
                out.put(&format!("demo-3rows-{n}"), &slice_rows(&b, &[0, 1, 2]));
            }
        }
    }
    out.put("0x0", &matrix(0, 0, |_, _| 0.0));
    out.put("0x26", &matrix(0, 26, |_, _| 0.0));
    out.put("5x0", &matrix(5, 0, |_, _| 0.0));
    out.put("2x26", &matrix(2, 26, |r, d| (r * 26 + d) as f32 / 52.0));
    out.put(
        "3x3-inf",
        &matrix(3, 3, |r, _| if r == 2 { f32::INFINITY } else { 1.0 }),
    );
    let mut huge = matrix(1, 4, |_, _| 1.0);
    huge[12..20].copy_from_slice(&[0xFF; 8]);
    out.put("huge-header", &huge);
    let mut v2 = matrix(1, 4, |_, _| 1.0);
    v2[8] = 2;
    out.put("version-2", &v2);
    out.put("header-only-truncated", &matrix(1, 4, |_, _| 1.0)[..23]);
}

/// An `embeddings.i8` codes file of `rows` x `dims` (catalog/codes.rs: a 32-byte header, a
/// scale per row, the codes).
fn codes_file(rows: usize, dims: usize) -> Vec<u8> {
    let mut b = b"LKLKI8C\0".to_vec();
    for w in [1u32, rows as u32, dims as u32] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.resize(32, 0);
    for r in 0..rows {
        b.extend_from_slice(&(1.0f32 / 127.0 * (r + 1) as f32).to_le_bytes());
    }
    b.extend((0..rows * dims).map(|i| (i % 255) as u8));
    b
}

/// An `embeddings.hnsw` graph file (catalog/graph.rs: 16 header words, a node count per upper
/// layer, layer 0, then each upper layer's nodes and links): a ring on layer 0 and, when `upper`,
/// every 4th row on layer 1.
fn graph_file(rows: usize, dims: usize, m: usize, upper: bool) -> Vec<u32> {
    let m0 = 2 * m;
    let nodes: Vec<u32> = (0..rows as u32).step_by(4).collect();
    let mut w: Vec<u32> = vec![0; 16];
    w[0] = u32::from_le_bytes(*b"LKLK");
    w[1] = u32::from_le_bytes(*b"HNSW");
    w[2..9].copy_from_slice(&[1, rows as u32, dims as u32, m as u32, m0 as u32, u32::from(upper), 0]);
    if upper {
        w.push(nodes.len() as u32);
    }
    for r in 0..rows {
        let mut links = vec![u32::MAX; m0];
        links[0] = ((r + 1) % rows) as u32;
        links[1] = ((r + rows - 1) % rows) as u32;
        w.extend(links);
    }
    if upper {
        w.extend(&nodes);
        for (i, _) in nodes.iter().enumerate() {
            let mut links = vec![u32::MAX; m];
            links[0] = nodes[(i + 1) % nodes.len()];
            w.extend(links);
        }
    }
    w
}

fn words(w: &[u32]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// `products.idx` followed by `products.jsonl` (catalog/records.rs: a 32-byte header, the line
/// offsets, the rows in id order, the rows with a barcode in barcode order), for products with
/// these ids and barcodes (one line each, in the order given).
fn records_file(products: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut lines = Vec::new();
    let mut offsets = vec![0u64];
    for (id, gtin) in products {
        let p = json!({"id": id, "name": format!("{id} name"), "category": "bags", "price": 9.5,
            "currency": "EUR", "gtin": gtin, "brand": null, "description": "line\nbreak",
            "url": null, "source": null, "source_image": format!("{id}.jpg"),
            "thumbnail": format!("thumbs/{id}.jpg"), "segmentation": "alpha"});
        lines.extend(serde_json::to_vec(&p).unwrap_or_default());
        lines.push(b'\n');
        offsets.push(lines.len() as u64);
    }
    let key = |g: &str| g.trim_start_matches('0').to_string();
    let mut by_id: Vec<u32> = (0..products.len() as u32).collect();
    by_id.sort_by_key(|r| products[*r as usize].0);
    let mut by_gtin: Vec<(String, u32)> = (0..products.len() as u32)
        .filter_map(|r| Some((key(products[r as usize].1?), r)))
        .collect();
    by_gtin.sort();
    let mut b = b"LKLKREC\0".to_vec();
    for w in [1u32, products.len() as u32, by_gtin.len() as u32, 0] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(&(lines.len() as u64).to_le_bytes());
    for o in offsets {
        b.extend_from_slice(&o.to_le_bytes());
    }
    for r in by_id.into_iter().chain(by_gtin.into_iter().map(|(_, r)| r)) {
        b.extend_from_slice(&r.to_le_bytes());
    }
    b.extend(lines);
    b
}

/// Seeds of the `index_files` target: codes, graph and product record files, valid and damaged.
fn index_seeds(out: &mut Out) {
    let three = [("m", Some("0012345")), ("b", None), ("z", Some("4006381333931"))];
    out.put("records-3", &records_file(&three));
    out.put("records-0", &records_file(&[]));
    let r = records_file(&three);
    out.put("records-truncated", &r[..r.len() - 5]);
    let mut order = records_file(&three);
    let ids_at = 32 + 8 * 4;
    order.swap(ids_at, ids_at + 4); // rows 1 and 0 in the id order
    out.put("records-wrong-order", &order);
    let mut dup = records_file(&[("a", None), ("a", Some("12345"))]);
    dup[32 + 8 * 3] ^= 1; // the id order lists row 0 twice
    out.put("records-row-twice", &dup);
    out.put("codes-3x4", &codes_file(3, 4));
    out.put("codes-0x8", &codes_file(0, 8));
    let c = codes_file(5, 16);
    out.put("codes-truncated", &c[..c.len() - 3]);
    let mut nan = codes_file(2, 4);
    nan[32..36].copy_from_slice(&f32::NAN.to_le_bytes());
    out.put("codes-nan-scale", &nan);
    out.put("graph-ring-8", &words(&graph_file(8, 4, 2, false)));
    out.put("graph-two-layers-40", &words(&graph_file(40, 8, 4, true)));
    let g = words(&graph_file(12, 4, 2, true));
    out.put("graph-truncated", &g[..g.len() - 4]);
    let mut bad = graph_file(8, 4, 2, false);
    bad[17] = 1000; // row 0 links past the rows
    out.put("graph-bad-link", &words(&bad));
    let mut layers = graph_file(8, 4, 2, false);
    layers[7] = u32::MAX; // absurd number of upper layers
    out.put("graph-huge-layers", &words(&layers));
}

// ---- products files (catalog::products) -----------------------------------------------------------

/// Products files as merchants hand them over: our JSON, a plain CSV and a Shopify export (valid,
/// and each with the damage the reader must report by line and column), plus the demo catalog's
/// products in all three formats when catalog/demo exists.
fn products_seeds(out: &mut Out, demo: Option<&Path>) {
    let plain = "id,name,category,image,price,currency,gtin,brand,description,url\n\
        tee-1,\"T-shirt, white\",tops,tee-1.jpg,12.50,EUR,4006381333931,Acme,\"Soft \"\"cotton\"\"\",https://shop.example/tee-1\n\
        mug-2,Mug,kitchen,mug-2.png,\"7,90\",EUR,,,,\n\
        bag-3,Tote bag,bags,bag-3.webp,,,,,,\n";
    let shopify = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Barcode,Image Src,Image Position\n\
        linen-shirt,Linen shirt,<p>Light <b>linen</b>&amp; cool</p>,Acme,Apparel & Accessories > Clothing > Shirts & Tops,,summer,TRUE,Size,S,LS-S,39.00,0012345678905,https://cdn.shopify.com/s/files/1/linen.jpg?v=1,1\n\
        linen-shirt,,,,,,,,,M,LS-M,39.00,,https://cdn.shopify.com/s/files/1/linen-back.jpg?v=1,2\n\
        clay-vase,Clay vase,,Potter,,Vases,,TRUE,Title,Default Title,CV-1,24.5,,https://cdn.shopify.com/s/files/1/vase.png,1\n\
        no-image-first,Lamp,,,,Lamps,,TRUE,Title,Default Title,L-1,10,,,\n\
        no-image-first,,,,,,,,,,,,,https://cdn.shopify.com/s/files/1/lamp.jpg,1\n";
    let json = serde_json::to_vec_pretty(&json!({
        "name": "seed",
        "router": {"second_threshold": 0.25, "min_confidence": 0.05},
        "blend": {"semantic": 0.7, "texture": 0.2, "color": 0.1},
        "categories": [
            {"name": "tops", "expert": "fashion", "imagenet_classes": [610, 841], "prompts": ["a t-shirt"]},
            {"name": "kitchen", "expert": "general"}
        ],
        "products": [
            {"id": "tee-1", "name": "T-shirt", "category": "tops", "image": "tee-1.jpg", "price": 12.5,
             "currency": "EUR", "gtin": "4006381333931", "brand": "Acme", "description": "cotton",
             "url": "https://shop.example/tee-1"},
            {"id": "mug-2", "name": "Mug", "category": "kitchen", "image": "mug-2.png"}
        ]
    }))
    .expect("json");
    out.put("plain.csv", plain.as_bytes());
    out.put(
        "plain-crlf-bom.csv",
        format!("\u{feff}{}", plain.replace('\n', "\r\n")).as_bytes(),
    );
    out.put(
        "plain-semicolon-price.csv",
        b"ID , Name , Category , Image , Price\na,A,x,a.jpg, 3.0 \n",
    );
    out.put("shopify.csv", shopify.as_bytes());
    out.put("products.json", &json);
    let hostile: &[(&str, &[u8])] = &[
        ("bad-price.csv", b"id,name,category,image,price\na,A,x,a.jpg,12 EUR\n"),
        ("nan-price.csv", b"id,name,category,image,price\na,A,x,a.jpg,NaN\n"),
        ("dup-id.csv", b"id,name,category,image\na,A,x,a.jpg\na,B,x,b.jpg\n"),
        ("traversal.csv", b"id,name,category,image\na,A,x,../../etc/passwd\n"),
        ("dir-image.csv", b"id,name,category,image\na,A,x,a.jpg/\n"),
        ("bad-id.csv", b"id,name,category,image\n../a,A,x,a.jpg\n"),
        ("dot-id.csv", b"id,name,category,image\n.hidden,A,x,a.jpg\n"),
        ("no-column.csv", b"id,name,image\na,A,a.jpg\n"),
        ("empty-cell.csv", b"id,name,category,image\na,,x,a.jpg\n"),
        ("unclosed-quote.csv", b"id,name,category,image\na,\"A,x,a.jpg\nb,B,x,b.jpg\n"),
        ("short-row.csv", b"id,name,category,image\na,A\n"),
        ("header-only.csv", b"id,name,category,image\n"),
        ("not-utf8.csv", b"id,name,category,image\na,\xff\xfe,x,a.jpg\n"),
        ("shopify-no-type.csv", b"Handle,Title,Image Src\na,A,https://x/a.jpg\n"),
        ("shopify-no-image.csv", b"Handle,Title,Type,Image Src\na,A,T,\n"),
        ("shopify-url-dir.csv", b"Handle,Title,Type,Image Src\na,A,T,https://x/files/\n"),
        ("json-unknown-field.json", br#"{"name":"t","categories":[],"products":[],"extra":1}"#),
        ("json-bad-category.json", br#"{"name":"t","categories":[{"name":"a","expert":"general"}],"products":[{"id":"p","name":"P","category":"b","image":"p.jpg"}]}"#),
        ("json-truncated.json", br#"{"name":"t","categories":[{"name":"a","#),
        ("json-bad-blend.json", br#"{"name":"t","blend":{"semantic":1.5,"texture":0,"color":0},"categories":[{"name":"a","expert":"general"}],"products":[{"id":"p","name":"P","category":"a","image":"p.jpg"}]}"#),
    ];
    for (name, bytes) in hostile {
        out.put(name, bytes);
    }
    let Some(dir) = demo else { return };
    let Some(cat) = demo_catalog_json(dir) else {
        return;
    };
    let Some(products) = cat["products"].as_array() else {
        return;
    };
    let cell = |v: &Value| {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            v => v.to_string(),
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    };
    let image = |p: &Value| {
        let t = p["thumbnail"].as_str().unwrap_or("x.jpg");
        t.rsplit('/').next().unwrap_or(t).to_string()
    };
    let mut csv = String::from("id,name,category,image,price,currency,gtin,brand,url\n");
    let mut shop =
        String::from("Handle,Title,Vendor,Type,Variant Price,Variant Barcode,Image Src\n");
    let mut defs = Vec::new();
    let mut cats: Vec<String> = Vec::new();
    for p in products {
        let cat = p["category"].as_str().unwrap_or("x").to_string();
        if !cats.contains(&cat) {
            cats.push(cat.clone());
        }
        let img = image(p);
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            cell(&p["id"]),
            cell(&p["name"]),
            cell(&p["category"]),
            cell(&json!(img)),
            cell(&p["price"]),
            cell(&p["currency"]),
            cell(&p["gtin"]),
            cell(&p["brand"]),
            cell(&p["url"])
        ));
        shop.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            cell(&p["id"]),
            cell(&p["name"]),
            cell(&p["brand"]),
            cell(&p["category"]),
            cell(&p["price"]),
            cell(&p["gtin"]),
            cell(&json!(format!("https://cdn.example/files/{img}?v=2")))
        ));
        let mut d = json!({"id": p["id"], "name": p["name"], "category": cat, "image": img});
        for k in ["price", "currency", "gtin", "brand", "url"] {
            if !p[k].is_null() {
                d[k] = p[k].clone();
            }
        }
        defs.push(d);
    }
    out.put("demo.csv", csv.as_bytes());
    out.put("demo-shopify.csv", shop.as_bytes());
    let cats: Vec<Value> = cats
        .iter()
        .map(|c| json!({"name": c, "expert": "general"}))
        .collect();
    let j = json!({"name": "demo", "categories": cats, "products": defs});
    out.put("demo.json", &serde_json::to_vec(&j).expect("json"));
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some(root) = args.first() else {
        eprintln!("usage: lookalike-fuzz-seedgen OUT_DIR [CATALOG_DIR] [FIXTURES_DIR]");
        std::process::exit(2);
    };
    let demo = args
        .get(1)
        .filter(|d| d.join("catalog.json").is_file())
        .map(PathBuf::as_path);
    let fixtures = args.get(2).filter(|d| d.is_dir());
    let mut rng = Rng(0x0005_EED1_007A_11CE);

    let valid = valid_images();
    let mut decode = Out::new(root, "decode");
    let mut pipeline = Out::new(root, "pipeline");
    let mut search = Out::new(root, "search");
    for (name, bytes) in &valid {
        decode.put(name, bytes);
        pipeline.put(name, bytes);
        for k in 0..2 {
            let mut tail = bytes.clone();
            tail.extend(rng.bytes(16));
            pipeline.put(&format!("knobs{k}-{name}"), &tail);
        }
        for (n, b) in mutations(&mut rng, name, bytes) {
            decode.put(&n, &b);
        }
    }
    for (name, bytes) in header_bombs(&valid).into_iter().chain(non_images()) {
        decode.put(&name, &bytes);
    }
    // Real bombs under the pixel limit are decoded, in seconds under the sanitizer: replayed once
    // by scripts/fuzz.sh instead of being mutated (each would cost the fuzzer ~10-20 s an exec).
    let mut bombs = Out::new(root, "decode-bombs");
    for (name, bytes) in real_bombs() {
        if name.contains("over-limit") {
            decode.put(&name, &bytes);
        }
        bombs.put(&name, &bytes);
    }
    for name in [
        "png-rgb8.png",
        "png-rgba8-cutout.png",
        "jpeg-q90.jpg",
        "webp-lossless-rgba.webp",
        "gif-still.gif",
        "jpeg-exif6.jpg",
        "png-1x1.png",
    ] {
        let bytes = &valid.iter().find(|(n, _)| n == name).unwrap().1;
        search.put(name, bytes);
    }
    if let Some(f) = fixtures {
        for entry in std::fs::read_dir(f).expect("read fixtures").flatten() {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            if bytes.len() <= MAX_IMAGE_SEED {
                let name = format!("fixture-{}", entry.file_name().to_string_lossy());
                decode.put(&name, &bytes);
                pipeline.put(&name, &bytes);
                search.put(&name, &bytes);
            }
        }
    }
    let mut catalog = Out::new(root, "catalog");
    catalog_seeds(&mut catalog, demo);
    let mut mat = Out::new(root, "matrix");
    matrix_seeds(&mut mat, demo);
    let mut index = Out::new(root, "index_files");
    index_seeds(&mut index);
    let mut bundles = Out::new(root, "bundle");
    bundle_seeds(&mut bundles, demo);
    let mut products = Out::new(root, "products");
    products_seeds(&mut products, demo);
    for o in [
        &decode, &bombs, &pipeline, &search, &catalog, &mat, &index, &bundles, &products,
    ] {
        println!("seedgen: {} seeds in {}", o.count, o.dir.display());
    }
}
