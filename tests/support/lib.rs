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
