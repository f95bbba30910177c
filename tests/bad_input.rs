//! Bad input gets a clear, specific error and breaks nothing: corrupt, truncated, huge and
//! non-image files; formats we do not decode; missing or corrupt model files; catalogs that do
//! not match their models or have been tampered with.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::{ImageEncoder, Rgba, RgbaImage};
use lookalike_engine::stages::decode::{DecodeOptions, decode};
use lookalike_engine::{Engine, EngineConfig, EngineError, SearchOptions};
use lookalike_tests::{build_catalog, fixture, models_dir};

const PRODUCTS: &[&str] = &[
    "vendure-laptop",
    "vendure-tent",
    "saleor-orange-juice",
    "saleor-polo-shirt",
];

/// One small real catalog for the whole file (built once; tests only read it).
fn shared_catalog() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        build_catalog(dir.path(), PRODUCTS);
        dir
    });
    Box::leak(dir.path().join("catalog").into_boxed_path())
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::open(EngineConfig::new(models_dir(), shared_catalog())).expect("engine opens")
    })
}

fn search_err(bytes: &[u8]) -> EngineError {
    engine()
        .search(bytes, &SearchOptions::default())
        .expect_err("bad input must be refused")
}

fn png(img: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img,
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

fn jpeg(img: &RgbaImage) -> Vec<u8> {
    let rgb = image::DynamicImage::ImageRgba8(img.clone()).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&rgb)
        .unwrap();
    out
}

fn photo() -> RgbaImage {
    image::open(fixture("coffee.png")).unwrap().into_rgba8()
}

#[test]
fn engine_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
}

#[test]
fn empty_and_non_image_files_are_named() {
    assert!(matches!(search_err(b""), EngineError::EmptyInput));
    let text = search_err(b"Order #1234: two blue sneakers, size 42\n").to_string();
    assert!(text.contains("text file"), "{text}");
    let svg = search_err(br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#)
        .to_string();
    assert!(svg.contains("SVG"), "{svg}");
    let heic = search_err(b"\0\0\0\x18ftypheic\0\0\0\0mif1heicmiaf").to_string();
    assert!(heic.contains("HEIC"), "{heic}");
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(matches!(
        search_err(&random),
        EngineError::UnsupportedFormat(_)
    ));
}

#[test]
fn truncated_and_corrupt_images_are_refused() {
    let full_png = png(&photo());
    let err = search_err(&full_png[..full_png.len() / 3]);
    assert!(
        matches!(err, EngineError::CorruptImage { .. }),
        "truncated PNG: {err}"
    );
    let full_jpeg = jpeg(&photo());
    let err = search_err(&full_jpeg[..full_jpeg.len() / 3]);
    assert!(
        matches!(err, EngineError::CorruptImage { .. }),
        "truncated JPEG: {err}"
    );
    // flip a byte inside the first IDAT chunk's data: CRC mismatch
    let mut bad_crc = full_png.clone();
    let idat = bad_crc.windows(4).position(|w| w == b"IDAT").unwrap();
    bad_crc[idat + 10] ^= 0xff;
    let err = search_err(&bad_crc);
    assert!(
        matches!(err, EngineError::CorruptImage { .. }),
        "bad CRC: {err}"
    );
}

/// A PNG whose header claims `w` x `h` with a valid CRC but (almost) no data.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    out
}

#[test]
fn decompression_bomb_is_refused_before_decoding() {
    let err = search_err(&png_header_only(60_000, 60_000));
    match err {
        EngineError::ImageTooLarge {
            width: 60_000,
            height: 60_000,
            pixels,
            limit,
        } => {
            assert_eq!(pixels, 3_600_000_000);
            assert!(limit < pixels);
        }
        other => panic!("expected ImageTooLarge, got {other}"),
    }
}

#[test]
fn tiny_white_and_noise_images() {
    let tiny = png(&RgbaImage::from_pixel(1, 1, Rgba([200, 10, 10, 255])));
    assert!(matches!(
        search_err(&tiny),
        EngineError::ImageTooSmall {
            width: 1,
            height: 1,
            ..
        }
    ));
    // no foreground at all: the search still answers, from the whole image, and says so
    let white = png(&RgbaImage::from_pixel(300, 200, Rgba([255, 255, 255, 255])));
    let r = engine()
        .search(&white, &SearchOptions::default())
        .expect("a white photo still gets an answer");
    assert_eq!(r.results.len(), PRODUCTS.len());
    assert_eq!(r.segmentation.used, "fallback", "{:?}", r.segmentation);
    assert!(r.segmentation.fallback_reason.is_some());
    let noise = RgbaImage::from_fn(256, 256, |x, y| {
        let v = (x.wrapping_mul(73856093) ^ y.wrapping_mul(19349663)).wrapping_mul(2654435761) >> 8;
        Rgba([v as u8, (v >> 8) as u8, (v >> 16) as u8, 255])
    });
    let r = engine()
        .search(&png(&noise), &SearchOptions::default())
        .expect("noise still gets an answer");
    assert_eq!(r.results.len(), PRODUCTS.len());
}

#[test]
fn other_decodable_formats_work() {
    let img = photo();
    let gray = image::DynamicImage::ImageRgba8(img.clone()).into_luma8();
    let mut gray_png = Vec::new();
    gray.write_to(
        &mut std::io::Cursor::new(&mut gray_png),
        image::ImageFormat::Png,
    )
    .unwrap();
    let wide = image::DynamicImage::ImageRgba8(img.clone()).into_rgba16();
    let mut png16 = Vec::new();
    wide.write_to(
        &mut std::io::Cursor::new(&mut png16),
        image::ImageFormat::Png,
    )
    .unwrap();
    let mut webp = Vec::new();
    image::DynamicImage::ImageRgba8(img.clone())
        .write_to(
            &mut std::io::Cursor::new(&mut webp),
            image::ImageFormat::WebP,
        )
        .unwrap();
    let mut gif = Vec::new();
    image::DynamicImage::ImageRgba8(image::imageops::thumbnail(&img, 160, 120))
        .write_to(&mut std::io::Cursor::new(&mut gif), image::ImageFormat::Gif)
        .unwrap();
    for (name, bytes) in [
        ("grayscale PNG", gray_png),
        ("16-bit PNG", png16),
        ("WebP", webp),
        ("GIF", gif),
    ] {
        let r = engine()
            .search(&bytes, &SearchOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.results.len(), PRODUCTS.len(), "{name}");
    }
}

/// Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0".to_vec(); // little-endian TIFF, IFD at 8
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_applied() {
    // 60x30, a red block in the top-left corner
    let img = RgbaImage::from_fn(60, 30, |x, y| {
        if x < 20 && y < 10 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 255, 255])
        }
    });
    let base = jpeg(&img);
    let red = |p: &Rgba<u8>| p[0] > 200 && p[2] < 60;
    // every EXIF orientation: where the top-left red block must end up once the photo is upright
    for (orientation, (w, h), corner) in [
        (1, (60, 30), (0, 0)),
        (2, (60, 30), (59, 0)),
        (3, (60, 30), (59, 29)),
        (4, (60, 30), (0, 29)),
        (5, (30, 60), (0, 0)),
        (6, (30, 60), (29, 0)),
        (7, (30, 60), (29, 59)),
        (8, (30, 60), (0, 59)),
    ] {
        let d = decode(
            &with_exif_orientation(&base, orientation),
            &DecodeOptions::default(),
        )
        .unwrap();
        assert_eq!(d.info.exif_orientation, orientation as u8);
        assert_eq!(d.image.dimensions(), (w, h), "orientation {orientation}");
        assert!(
            red(d.image.get_pixel(corner.0, corner.1)),
            "orientation {orientation}: red corner moved to {corner:?}"
        );
    }
}

// ---- models --------------------------------------------------------------------------------

/// A copy of the models folder (manifest + the lite models) that a test may damage.
fn models_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["manifest.toml", "u2netp.onnx", "efficientnet_lite0.onnx"] {
        std::fs::copy(models_dir().join(f), dir.path().join(f)).unwrap();
    }
    // the runtime library stays where set-up put it
    std::os::unix::fs::symlink(models_dir().join("runtime"), dir.path().join("runtime")).unwrap();
    dir
}

fn open_with(models: &Path) -> Result<Engine, EngineError> {
    Engine::open(EngineConfig::new(models, shared_catalog()))
}

#[test]
fn missing_model_file_is_named() {
    let models = models_copy();
    std::fs::remove_file(models.path().join("u2netp.onnx")).unwrap();
    match open_with(models.path()) {
        Err(EngineError::ModelMissing { model, path }) => {
            assert_eq!(model, "u2netp");
            assert!(path.ends_with("u2netp.onnx"));
        }
        other => panic!("expected ModelMissing, got {:?}", other.err()),
    }
}

#[test]
fn corrupt_model_file_fails_its_checksum() {
    let models = models_copy();
    let path = models.path().join("efficientnet_lite0.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&path, bytes).unwrap();
    let err = open_with(models.path())
        .err()
        .expect("a corrupt model must not load");
    let msg = err.to_string();
    assert!(matches!(err, EngineError::ModelChecksum { .. }), "{msg}");
    assert!(
        msg.contains("6b7b61de59c15a6ee12e40b39050533e998d1fa5a811a8272be07350d5aa79d8"),
        "names the expected sha256: {msg}"
    );
}

#[test]
fn manifest_that_disagrees_with_the_graph_is_refused() {
    let models = models_copy();
    let manifest = models.path().join("manifest.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            r#"{ name = "texture", kind = "texture""#,
            r#"{ name = "texture_v2", kind = "texture""#,
        ),
    )
    .unwrap();
    // the profile references `texture`, so the manifest itself is refused first
    let err = open_with(models.path()).err().unwrap().to_string();
    assert!(err.contains("texture"), "{err}");
    let text = std::fs::read_to_string(models_dir().join("manifest.toml")).unwrap();
    let renamed = text
        .replace(
            r#"{ name = "texture", kind = "texture""#,
            r#"{ name = "texture_v2", kind = "texture""#,
        )
        .replace(
            r#"texture = { model = "efficientnet_lite0", output = "texture" }"#,
            r#"texture = { model = "efficientnet_lite0", output = "texture_v2" }"#,
        );
    std::fs::write(&manifest, renamed).unwrap();
    let err = open_with(models.path()).err().unwrap();
    assert!(matches!(err, EngineError::ModelMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("`texture_v2` is not in the graph"),
        "{err}"
    );
}

// ---- catalogs ------------------------------------------------------------------------------

fn catalog_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = shared_catalog();
    let dst = dir.path().join("catalog");
    std::fs::create_dir_all(dst.join("thumbs")).unwrap();
    for entry in walk(src) {
        let rel = entry.strip_prefix(src).unwrap();
        std::fs::copy(&entry, dst.join(rel)).unwrap();
    }
    dir
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

fn edit_catalog_json(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("catalog.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
}

fn open_catalog(dir: &Path) -> EngineError {
    Engine::open(EngineConfig::new(models_dir(), dir))
        .err()
        .expect("a damaged catalog must be refused")
}

#[test]
fn catalog_built_with_other_models_is_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    edit_catalog_json(&cat, |v| {
        v["models"]["texture"]["sha256"] = "0".repeat(64).into()
    });
    let err = open_catalog(&cat);
    assert!(matches!(err, EngineError::CatalogMismatch { .. }), "{err}");
    assert!(err.to_string().contains("re-index"), "{err}");
    let mut config = EngineConfig::new(models_dir(), shared_catalog());
    config.profile = Some("full".into());
    let err = Engine::open(config).err().unwrap().to_string();
    assert!(err.contains("built with profile `lite`"), "{err}");
}

#[test]
fn truncated_or_resized_vectors_are_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let path = cat.join("embeddings.bin");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(
        err.contains("embeddings.bin") && err.contains("truncated"),
        "{err}"
    );

    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    edit_catalog_json(&cat, |v| {
        let products = v["products"].as_array_mut().unwrap();
        products.pop();
        let cats = v["categories"].as_array_mut().unwrap();
        let last = cats.last_mut().unwrap();
        last["rows"][1] = (last["rows"][1].as_u64().unwrap() - 1).into();
    });
    let err = open_catalog(&cat).to_string();
    assert!(
        err.contains("embeddings.bin") && err.contains("from another catalog"),
        "{err}"
    );
}

#[test]
fn missing_thumbnails_and_hostile_paths_are_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    std::fs::remove_file(cat.join("thumbs/vendure-tent.jpg")).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(
        err.contains("vendure-tent") && err.contains("missing"),
        "{err}"
    );
    for hostile in ["../../../etc/passwd", "/etc/passwd", "thumbs/../../x.jpg"] {
        let tmp = catalog_copy();
        let cat = tmp.path().join("catalog");
        edit_catalog_json(&cat, |v| v["products"][0]["thumbnail"] = hostile.into());
        let err = open_catalog(&cat).to_string();
        assert!(err.contains("stay inside the catalog"), "{hostile}: {err}");
    }
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let thumb = cat.join("thumbs/vendure-tent.jpg");
    std::fs::remove_file(&thumb).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &thumb).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(err.contains("symbolic link"), "{err}");
    // a linked thumbs/ folder escapes too (regression: found by the `catalog` fuzz target)
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let outside = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(cat.join("thumbs")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), outside.path().join(e.file_name())).unwrap();
    }
    std::fs::remove_dir_all(cat.join("thumbs")).unwrap();
    std::os::unix::fs::symlink(outside.path(), cat.join("thumbs")).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(err.contains("symbolic link"), "{err}");
}

#[test]
fn vectors_that_are_links_or_devices_are_refused_before_reading() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    std::fs::remove_file(cat.join("texture.bin")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", cat.join("texture.bin")).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(err.contains("texture.bin is not a regular file"), "{err}");
    // a vector file far longer than the catalog needs is refused from its size alone
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(cat.join("embeddings.bin"))
        .unwrap();
    f.set_len(1 << 30).unwrap();
    let err = open_catalog(&cat).to_string();
    assert!(err.contains("embeddings.bin is 1073741824 bytes"), "{err}");
}

#[test]
fn garbage_catalog_json_is_refused() {
    let tmp = catalog_copy();
    let cat = tmp.path().join("catalog");
    std::fs::write(cat.join("catalog.json"), "{ not json").unwrap();
    assert!(
        open_catalog(&cat)
            .to_string()
            .contains("catalog.json is not valid")
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(
        open_catalog(empty.path())
            .to_string()
            .contains("lookalike index")
    );
}
