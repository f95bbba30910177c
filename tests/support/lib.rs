//! Shared helpers for the cross-crate tests: where the fetched fixtures live, and small real
//! catalogs built from the demo sources. Missing fixtures fail loudly (never a silent skip).

use std::path::{Path, PathBuf};

use image::{DynamicImage, Rgba, RgbaImage};
use lookalike_engine::catalog::index::{self, IndexOptions};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repo")
        .to_path_buf()
}

pub fn models_dir() -> PathBuf {
    repo().join("models")
}

fn require(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/setup.sh core` first",
        path.display()
    );
    path
}

pub fn fixture(name: &str) -> PathBuf {
    require(repo().join("tests/fixtures").join(name))
}

pub fn demo_sources() -> PathBuf {
    require(repo().join(".cache/demo-sources"))
}

/// A field of `/proc/self/status` (`VmRSS:`, `VmHWM:` in KiB, `Threads:`); Linux only.
pub fn proc_status_kib(name: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or_else(|| panic!("/proc/self/status has no {name}"))
}

/// The bench photos (`bench_photos` in scripts/env.sh: every sixth Vendure photo, sorted).
pub fn bench_photos() -> Vec<PathBuf> {
    let images = demo_sources().join("images");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&images)
        .unwrap_or_else(|e| panic!("{}: {e}", images.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vendure-") && n.ends_with(".jpg"))
        })
        .collect();
    all.sort();
    all.into_iter().step_by(6).collect()
}

/// Writes a products file with the demo categories and the chosen demo products, returns its path.
pub fn subset_products(dir: &Path, ids: &[&str]) -> PathBuf {
    let text =
        std::fs::read_to_string(demo_sources().join("products.json")).expect("demo products.json");
    let mut all: serde_json::Value =
        serde_json::from_str(&text).expect("demo products.json parses");
    let products = all["products"].as_array().expect("products array").clone();
    let chosen: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            products
                .iter()
                .find(|p| p["id"] == *id)
                .unwrap_or_else(|| panic!("no demo product {id}"))
                .clone()
        })
        .collect();
    all["products"] = serde_json::Value::Array(chosen);
    let path = dir.join("products.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&all).expect("serialise"),
    )
    .expect("write products");
    path
}

/// Builds a real lite catalog of the given demo products into `dir/catalog`.
pub fn build_catalog(dir: &Path, ids: &[&str]) -> PathBuf {
    let products = subset_products(dir, ids);
    let out = dir.join("catalog");
    let opts = IndexOptions::new(demo_sources().join("images"), products, &out, models_dir());
    let report = index::build(&opts, &mut |_, _, _| {}).expect("index builds");
    assert!(report.skipped.is_empty(), "skipped: {:?}", report.skipped);
    assert_eq!(report.products, ids.len());
    out
}

/// Rotates by `degrees` about the centre (bilinear), filling uncovered corners with `fill`.
pub fn rotate(img: &RgbaImage, degrees: f32, fill: Rgba<u8>) -> RgbaImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = degrees.to_radians().sin_cos();
    RgbaImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let (sx, sy) = (c * dx + s * dy + cx - 0.5, -s * dx + c * dy + cy - 0.5);
        if sx < 0.0 || sy < 0.0 || sx >= (w - 1) as f32 || sy >= (h - 1) as f32 {
            return fill;
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let p = |xx, yy| img.get_pixel(xx, yy).0.map(f32::from);
        let (a, b, cc, d) = (p(x0, y0), p(x0 + 1, y0), p(x0, y0 + 1), p(x0 + 1, y0 + 1));
        let mut out = [0u8; 4];
        for i in 0..4 {
            let top = a[i] * (1.0 - fx) + b[i] * fx;
            let bottom = cc[i] * (1.0 - fx) + d[i] * fx;
            out[i] = (top * (1.0 - fy) + bottom * fy).round() as u8;
        }
        Rgba(out)
    })
}

/// A "shopper's photo" of a catalog image: rotated, cropped at the edges, composited on an
/// off-white background when it had transparency, and recompressed as JPEG.
pub fn photo_like(original: &[u8], degrees: f32, crop: f32, quality: u8) -> Vec<u8> {
    let img = image::load_from_memory(original)
        .expect("catalog image decodes")
        .into_rgba8();
    let rotated = rotate(&img, degrees, Rgba([0, 0, 0, 0]));
    let (w, h) = rotated.dimensions();
    let (dx, dy) = ((w as f32 * crop) as u32, (h as f32 * crop) as u32);
    let cropped = image::imageops::crop_imm(&rotated, dx, dy, w - 2 * dx, h - 2 * dy).to_image();
    let mut flat = RgbaImage::from_pixel(
        cropped.width(),
        cropped.height(),
        Rgba([236, 233, 228, 255]),
    );
    image::imageops::overlay(&mut flat, &cropped, 0, 0);
    let rgb = DynamicImage::ImageRgba8(flat).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .expect("jpeg encodes");
    out
}

/// A phone-sized JPEG made from a product photo, the same bytes on every machine: upscaled
/// (Catmull-Rom) to `width` x `height`, with a seeded grain of +-6 levels so it compresses like
/// a camera photo (a smooth upscale would be a fraction of a real file's size and decode time),
/// quality 90, and an EXIF orientation tag when `orientation` is given (phones held upright
/// write 6 and store the pixels sideways).
pub fn phone_photo(original: &[u8], width: u32, height: u32, orientation: Option<u8>) -> Vec<u8> {
    let img = image::load_from_memory(original)
        .expect("product photo decodes")
        .into_rgb8();
    let mut big =
        image::imageops::resize(&img, width, height, image::imageops::FilterType::CatmullRom);
    let mut state: u32 = 0x9E37_79B9 ^ width ^ (height << 16);
    for p in big.pixels_mut() {
        // xorshift32: cheap, seeded, the same everywhere
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 13) as i16 - 6;
        for c in &mut p.0 {
            *c = (i16::from(*c) + noise).clamp(0, 255) as u8;
        }
    }
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    if let Some(o) = orientation {
        // little-endian TIFF, one IFD entry: Orientation (0x0112), SHORT, count 1, value o
        let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
        exif.extend_from_slice(&[o, 0, 0, 0, 0, 0, 0, 0]);
        use image::ImageEncoder as _;
        enc.set_exif_metadata(exif).expect("jpeg takes EXIF");
    }
    enc.encode_image(&big).expect("jpeg encodes");
    out
}

/// The demo products of the two-object photo, left and right.
pub const TWO_OBJECTS: [&str; 2] = ["vendure-tulip-pot", "vendure-guardian-lion-statue"];

/// A 1600x900 JPEG of two demo products side by side on an off-white table: `left` centred in
/// the left half, `right` in the right half, each scaled to fit 700x700 (the region-picking
/// tests' "photo with two things in it").
pub fn two_object_photo(left: &[u8], right: &[u8]) -> Vec<u8> {
    let mut canvas = RgbaImage::from_pixel(1600, 900, Rgba([236, 233, 228, 255]));
    for (i, bytes) in [left, right].into_iter().enumerate() {
        let img = image::load_from_memory(bytes)
            .expect("product image decodes")
            .thumbnail(700, 700)
            .into_rgba8();
        let x = 50 + i as i64 * 800 + (700 - i64::from(img.width())) / 2;
        let y = (900 - i64::from(img.height())) / 2;
        image::imageops::overlay(&mut canvas, &img, x, y);
    }
    let rgb = DynamicImage::ImageRgba8(canvas).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&rgb)
        .expect("jpeg encodes");
    out
}

/// A demo product's source image (`.cache/demo-sources/images/<id>.*`).
pub fn demo_image(id: &str) -> Vec<u8> {
    let images = demo_sources().join("images");
    let entry = std::fs::read_dir(&images)
        .expect("demo images are listed")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_stem().is_some_and(|s| s == id))
        .unwrap_or_else(|| panic!("no demo image for {id} in {}", images.display()));
    std::fs::read(entry).expect("demo image reads")
}
